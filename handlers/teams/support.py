"""What every Teams listener shares: who is acting, the action's data, the error boundary.

The Teams SDK runs only the first listener that matches an activity, so each kind of activity
has one listener that dispatches on the action's id (a card verb, a dialog id, a form's submit
action or a typed command). The tables of handlers live with the handlers; this module has the
types and helpers they share.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from microsoft_teams.api import (
    AdaptiveCardActionMessageResponse,
    CardTaskModuleTaskInfo,
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
)
from microsoft_teams.api.models.attachment.card_attachment import (
    AdaptiveCardAttachment,
    card_attachment,
)
from microsoft_teams.apps import ActivityContext
from microsoft_teams.cards import AdaptiveCard

from bot.domain.errors import LearnLoopError
from bot.services import Services
from bot.teams.render import markdown
from bot.views.errors import error_said
from bot.views.words import Words

log = logging.getLogger("learnloop.teams.handlers")
T = TypeVar("T")

PLATFORM = "teams"
Data = dict[str, Any]
Ctx = ActivityContext[Any]
# A card verb answers with the card to show in place of the pressed one, or with a message.
VerbHandler = Callable[[Ctx, Services, Data], Awaitable[AdaptiveCard | str]]
# A dialog opens with a form; a submitted form closes (None) or comes back with messages.
DialogHandler = Callable[[Ctx, Services, Data], Awaitable[TaskModuleContinueResponse]]
SubmitHandler = Callable[[Ctx, Services, Data], Awaitable[TaskModuleContinueResponse | None]]
CommandHandler = Callable[[Ctx, Services, str], Awaitable[None]]


def person(ctx: Ctx) -> str:
    """LearnLoop's id for whoever sent the activity: their Microsoft Entra object id."""
    sender = ctx.activity.from_
    return sender.aad_object_id or sender.id


def tenant_of(ctx: Ctx) -> str | None:
    """The Microsoft 365 tenant the activity came from."""
    activity = ctx.activity
    tenant = getattr(activity.conversation, "tenant_id", None)
    data = activity.channel_data
    if tenant is None and data is not None and data.tenant is not None:
        tenant = data.tenant.id
    return tenant


def service_url(ctx: Ctx) -> str:
    """The regional Bot Connector URL to answer this conversation on."""
    return ctx.activity.service_url or ctx.conversation_ref.service_url


def conversation_kind(ctx: Ctx) -> str:
    """personal, channel or groupChat."""
    return ctx.activity.conversation.conversation_type or "personal"


def data_of(ctx: Ctx) -> Data:
    """The `data` of a card action or dialog (inputs merged with the button's own data)."""
    value = ctx.activity.value
    data = getattr(value, "data", None)
    if data is None and getattr(value, "action", None) is not None:
        data = value.action.data
    return dict(data) if isinstance(data, dict) else {}


def int_of(data: Data, key: str) -> int | None:
    """An integer id carried in a button's data (None if missing or malformed)."""
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def dialog(title: str, content: AdaptiveCard) -> TaskModuleContinueResponse:
    """Open (or keep open) a dialog showing `content`."""
    return TaskModuleContinueResponse(
        value=CardTaskModuleTaskInfo(
            title=title,
            width="medium",
            height="large",
            card=card_attachment(AdaptiveCardAttachment(content=content)),
        )
    )


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous service call in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


# ------------------------------------------------------------------- error boundary


def user_message(error: Exception) -> str:
    """What to tell the person, in Teams' markdown: a domain error's own words, or an apology
    with a reference that the log line carries too."""
    reference = uuid.uuid4().hex[:8]
    if not isinstance(error, LearnLoopError):
        log.exception("unhandled error (reference %s)", reference, exc_info=error)
    said = error_said(error, reference)
    return markdown(said) if isinstance(said, Words) else said


def reported(
    listener: Callable[[Ctx, Services], Awaitable[Any]],
    services: Services,
    answer: Callable[[str], Any] | None,
) -> Callable[[Ctx], Awaitable[Any]]:
    """Bind services, and turn any error into what the person sees.

    `answer` makes the invoke response that carries the message (a dialog or card can only
    answer its own invoke); without it the message is sent into the conversation.
    """

    @functools.wraps(listener)
    async def run(ctx: Ctx) -> Any:
        try:
            return await listener(ctx, services)
        except Exception as error:  # noqa: BLE001 - this is the reporting boundary
            text = user_message(error)
            if answer is not None:
                return answer(text)
            try:
                await ctx.send(text)
            except Exception:  # noqa: BLE001 - nothing more we can do for this person
                log.warning("could not tell a Teams user about an error")
            return None

    return run


def card_error(text: str) -> AdaptiveCardActionMessageResponse:
    """A card action's error, shown by Teams where the card is."""
    return AdaptiveCardActionMessageResponse(value=text)


def dialog_error(text: str) -> TaskModuleResponse:
    """A dialog's error, shown by Teams in a message box."""
    return TaskModuleResponse(task=TaskModuleMessageResponse(value=text))


def extension_error(text: str) -> MessagingExtensionActionResponse:
    """A message-extension dialog's error."""
    return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=text))
