"""Events: a plain reply in the DM is a check-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.domain.errors import LearnLoopError, StorageUnavailable, ValidationFailed
from bot.services import Services
from handlers.errors import after_ack, tell_user

_IGNORED_SUBTYPES = {None, "file_share"}


def is_person_writing_in_dm(event: dict[str, Any]) -> bool:
    """A new message from a person in a DM with the bot (not edits, bots or joins)."""
    return (
        event.get("channel_type") == "im"
        and not event.get("bot_id")
        and event.get("subtype") in _IGNORED_SUBTYPES
        and bool((event.get("text") or "").strip())
        and bool(event.get("user"))
    )


def save_reply_before_ack(
    body: dict[str, Any],
    event: dict[str, Any],
    context: BoltContext,
    services: Services,
    next: Callable[[], None],  # noqa: A002 - Bolt's name for the middleware continuation
) -> None:
    """Listener middleware: store the reply before Slack gets its 200.

    If the database is down this raises, Bolt answers 500 and Slack retries the event later;
    the event id makes the retry store the reply once.
    """
    try:
        context["saved_reply"] = services.checkins.submit_reply(
            "slack", event["user"], event["text"], body.get("event_id")
        )
    except StorageUnavailable:
        raise
    except ValidationFailed as exc:
        context["reply_problem"] = (
            "I couldn't save that as a learning: "
            + " ".join(exc.errors.values())
            + " You can use `/checkin` to write it in a form."
        )
    except LearnLoopError as exc:
        context["reply_problem"] = exc.message
    next()


def dm_reply(
    body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """Confirm the saved reply (or explain why it was not saved)."""
    problem = context.get("reply_problem")
    client = context.client
    if problem:
        tell_user(body, client, problem)  # type: ignore[arg-type]
        return
    saved = context["saved_reply"]
    # Stored before the 200 (above); the confirmation needs no listener thread.
    after_ack(
        context,
        body,
        client,  # type: ignore[arg-type]
        lambda: services.checkins.confirm_reply(event["channel"], saved),
    )


def ignore(ack: Callable[[], None]) -> None:
    """Other messages (channels, edits, the bot's own) need no answer."""
    ack()


def register(app: App) -> None:
    """Attach the event listeners."""
    app.event("message", matchers=[is_person_writing_in_dm], middleware=[save_reply_before_ack])(
        dm_reply
    )
    app.event("message")(ignore)
