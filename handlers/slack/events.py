"""Events: a plain reply in the DM is a check-in, and editing that reply edits the entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.domain.errors import LearnLoopError, StorageUnavailable, ValidationFailed
from bot.services import Services
from bot.services.checkins import ReplyEdit, ReplyEditOutcome
from bot.slack import render
from bot.views.checkin import reply_not_saved
from handlers.slack.errors import after_ack, tell_user

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
            "slack",
            event["user"],
            event["text"],
            body.get("event_id"),
            source_message=_message_key(event.get("channel"), event.get("ts")),
        )
    except StorageUnavailable:
        raise
    except ValidationFailed as exc:
        context["reply_problem"] = render.mrkdwn(reply_not_saved(list(exc.errors.values())))
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


def _message_key(channel: Any, ts: Any) -> str | None:
    """How a check-in remembers the DM it came from ("<channel>:<ts>")."""
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return f"{channel}:{ts}"
    return None


def _edited(event: dict[str, Any]) -> dict[str, Any]:
    message = event.get("message")
    return message if isinstance(message, dict) else {}


def is_person_editing_in_dm(event: dict[str, Any]) -> bool:
    """A person edited one of their own messages in a DM with the bot."""
    message = _edited(event)
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") == "message_changed"
        and not message.get("bot_id")
        and isinstance(message.get("user"), str)
        and bool(message.get("user"))
        and isinstance(message.get("text"), str)
        and _message_key(event.get("channel"), message.get("ts")) is not None
    )


def apply_edit_before_ack(
    event: dict[str, Any],
    context: BoltContext,
    services: Services,
    next: Callable[[], None],  # noqa: A002 - Bolt's name for the middleware continuation
) -> None:
    """Listener middleware: the entry the edited message created is updated before the 200.

    As with a new reply, a database outage answers 500 and Slack's retry applies the edit.
    """
    message = _edited(event)
    key = _message_key(event.get("channel"), message.get("ts"))
    assert key is not None  # the matcher checked it
    context["reply_edit"] = services.checkins.edit_reply(
        "slack", message["user"], key, message["text"]
    )
    next()


def dm_edit(body: dict[str, Any], context: BoltContext) -> None:
    """Say nothing when the edit went through (the thanks was said once), unless
    identifiers were removed again or the edit could not be applied."""
    edit: ReplyEdit = context["reply_edit"]
    if edit.outcome is ReplyEditOutcome.UPDATED and edit.redaction_summary:
        text = f"I've updated that learning with your edit. {edit.redaction_summary}"
    elif edit.outcome is ReplyEditOutcome.WINDOW_CLOSED:
        text = edit.problem
    elif edit.outcome is ReplyEditOutcome.INVALID:
        text = f"I couldn't apply your edit to the learning you saved: {edit.problem}"
    else:
        return
    user = _edited(body.get("event") or {}).get("user")
    tell_user({"user": {"id": user}}, context.client, text)  # type: ignore[arg-type]


def ignore(ack: Callable[[], None]) -> None:
    """Other messages (channels, edits, the bot's own) need no answer."""
    ack()


def register(app: App) -> None:
    """Attach the event listeners."""
    app.event("message", matchers=[is_person_writing_in_dm], middleware=[save_reply_before_ack])(
        dm_reply
    )
    app.event("message", matchers=[is_person_editing_in_dm], middleware=[apply_edit_before_ack])(
        dm_edit
    )
    app.event("message")(ignore)
