"""Slack listeners, one module per surface; `register(app)` wires them all."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack import (
    actions,
    commands,
    entries,
    errors,
    escalations,
    events,
    home,
    inquiries,
    installs,
    library,
    privacy,
    views,
)


def register(app: App) -> None:
    """Attach every listener and the global error handler to a Bolt app."""
    errors.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    home.register(app)  # Before privacy (it answers Export and Delete in the Home tab)
    entries.register(app)  # an author's own entries, in the Home tab
    privacy.register(app)
    escalations.register(app)
    inquiries.register(app)
    installs.register(app)
    library.register(app)  # `/learnloop find`'s More results
