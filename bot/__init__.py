"""LearnLoop: a chat bot that helps an alliance of public services learn together."""

__version__ = "0.1.0"
