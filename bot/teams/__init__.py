"""Microsoft Teams: the Teams SDK App, Adaptive Cards and the Messenger port on Teams."""

import warnings

# The SDK announces preview features it ships (HTML widgets) on import; LearnLoop uses none.
warnings.filterwarnings(
    "ignore", message=r".*is in preview and may change", module=r"microsoft_teams"
)
# Constructing the SDK's API client warns that its bot-sign-in client is deprecated; unused here.
warnings.filterwarnings(
    "ignore", message=r"The bot client is deprecated", category=DeprecationWarning
)
