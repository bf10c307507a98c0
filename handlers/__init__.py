"""Slack listeners, one module per surface; `register(app)` wires them all."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, errors, events, views


def register(app: App) -> None:
    """Attach every listener and the global error handler to a Bolt app."""
    errors.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
