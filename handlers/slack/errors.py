"""The one global error handler: typed errors become a message the person can act on."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import LearnLoopError
from bot.slack.render import mrkdwn
from bot.views.errors import error_said
from bot.views.words import Words

log = logging.getLogger("learnloop.handlers")


def user_message(error: Exception) -> str:
    """What to tell the person, in mrkdwn: a domain error's own words, or an apology with a
    reference that the log line below carries too."""
    reference = uuid.uuid4().hex[:8]
    if not isinstance(error, LearnLoopError):
        log.exception("unhandled error (reference %s)", reference, exc_info=error)
    said = error_said(error, reference)
    return mrkdwn(said) if isinstance(said, Words) else said


def tell_user(body: dict[str, Any], client: WebClient, text: str) -> None:
    """Reach the person privately by the best route the request offers."""
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user_id and isinstance(body.get("event"), dict):
        user_id = body["event"].get("user")
    if not user_id:
        return
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        # The ephemeral route fails where the bot is not in the conversation; fall back to a DM.
        try:
            client.chat_postMessage(channel=user_id, text=text)
        except SlackApiError as exc:
            log.warning("could not tell user about an error: %s", exc.response.get("error"))


def handle_error(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    """Bolt's global error handler."""
    tell_user(body, client, user_message(error))


def after_ack(
    context: BoltContext, body: dict[str, Any], client: WebClient, work: Callable[[], None]
) -> None:
    """Run what a listener does after its ack on the after-ack pool, off the listener thread.

    Errors reach the person as a listener's would. Without a pool (a bare Bolt app in a
    test) the work runs at once.
    """

    def run() -> None:
        try:
            work()
        except Exception as error:  # noqa: BLE001 - this is the reporting boundary
            handle_error(error, body, client)

    pool: Executor | None = context.get("after_ack")
    if pool is None:
        run()
    else:
        pool.submit(run)


def reported(listener: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so its errors reach the person without escaping into Bolt.

    Bolt's threaded runner overwrites an already-sent ack with "no response" when a listener
    raises after `ack()`, racing the HTTP reply into a 404. Catching here keeps the ack intact
    and reports through the same path as the global handler.
    """
    wanted = list(inspect.signature(listener).parameters)

    def run(
        ack: Ack,
        body: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        command: dict[str, Any] | None,
        action: dict[str, Any] | None,
        view: dict[str, Any] | None,
        event: dict[str, Any] | None,
        respond: Any,
    ) -> None:
        available = {
            "ack": ack,
            "body": body,
            "client": client,
            "context": context,
            "command": command,
            "action": action,
            "view": view,
            "event": event,
            "respond": respond,
            "services": context.get("services"),
        }
        try:
            listener(**{name: available[name] for name in wanted})
        except Exception as error:  # noqa: BLE001 - this is the reporting boundary
            if ack.response is None:
                ack()
            handle_error(error, body, client)

    run.__name__ = listener.__name__
    run.__qualname__ = listener.__qualname__
    run.__doc__ = listener.__doc__
    return run


def register(app: App) -> None:
    """Install the global error handler."""
    app.error(handle_error)
