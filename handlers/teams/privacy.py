"""The privacy panel on Teams: see, export and delete your own data, or start again.

Every action acts on the person who pressed the button (the activity's sender), never on an id
carried in the card, so nobody can export or delete someone else's data by replaying a card.
An export reaches the person as a file in their OneDrive, after they allow it (Teams' file
consent card); the file waits in memory, never on disk, until then.
"""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard

from bot.services import Services
from bot.teams.ids import Command, Verb
from bot.teams.messenger import TeamsMessenger
from bot.teams.render import card, markdown
from bot.views.privacy import (
    PrivacyAction,
    PrivacyView,
    file_declined,
    file_expired,
    only_in_private_chat,
    privacy_message,
)
from handlers.teams.support import (
    PLATFORM,
    CommandHandler,
    Ctx,
    Data,
    VerbHandler,
    call,
    conversation_kind,
    person,
    service_url,
    tenant_of,
)


def privacy_card(view: PrivacyView) -> AdaptiveCard:
    """The panel at its step, as a card."""
    return card(privacy_message(view))


async def privacy_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`privacy`: what LearnLoop holds about you, with Export and Delete."""
    if conversation_kind(ctx) != "personal":
        await ctx.send(markdown(only_in_private_chat()))
        return
    await ctx.send(privacy_card(await call(services.privacy.panel, PLATFORM, person(ctx))))


async def export(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Export my data": the file is offered in the person's chat."""
    return privacy_card(await call(services.privacy.send_export, PLATFORM, person(ctx)))


async def delete(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Delete my data": the confirmation step, saying exactly what would go."""
    return privacy_card(await call(services.privacy.confirm_delete, PLATFORM, person(ctx)))


async def delete_confirmed(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """The confirmed deletion; where LearnLoop could reach them on Teams goes too."""
    return privacy_card(await call(services.privacy.delete_member, PLATFORM, person(ctx)))


async def keep(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Keep my data": nothing happens, and the panel says so."""
    return privacy_card(services.privacy.kept(PLATFORM))


async def start_again(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Start again" after a deletion: a new, empty profile, reachable in this chat again."""
    user_id = person(ctx)
    view = await call(services.privacy.start_again, PLATFORM, user_id)
    await call(
        services.teams.remember,
        ctx.activity.conversation.id,
        conversation_kind(ctx),
        service_url(ctx),
        aad_object_id=ctx.activity.from_.aad_object_id,
        teams_user_id=ctx.activity.from_.id,
        tenant_id=tenant_of(ctx),
    )
    return privacy_card(view)


def file_consent(messenger: TeamsMessenger):  # noqa: ANN201 - returns the listener
    """fileConsent/invoke: the person allowed (or declined) the file they were offered."""

    async def answer(ctx: Ctx, services: Services) -> None:
        value = ctx.activity.value
        context = value.context if isinstance(value.context, dict) else {}
        key = str(context.get("file") or "")
        if value.action != "accept" or value.upload_info is None:
            messenger.pending_files.take(key, person(ctx))
            await ctx.send(markdown(file_declined()))
            return
        info = value.upload_info
        uploaded = await call(
            messenger.upload_consented,
            key,
            person(ctx),
            info.upload_url or "",
            {
                "content_url": info.content_url or "",
                "name": info.name or "",
                "unique_id": info.unique_id or "",
                "file_type": info.file_type or "",
            },
        )
        if not uploaded:
            await ctx.send(markdown(file_expired()))

    return answer


VERBS: dict[str, VerbHandler] = {
    PrivacyAction.EXPORT: export,
    PrivacyAction.DELETE: delete,
    PrivacyAction.DELETE_CONFIRMED: delete_confirmed,
    PrivacyAction.KEEP: keep,
    PrivacyAction.START_AGAIN: start_again,
    # Cards already in people's chats carry the verbs these buttons had before.
    Verb.PRIVACY_EXPORT: export,
    Verb.PRIVACY_DELETE: delete,
    Verb.PRIVACY_DELETE_CONFIRMED: delete_confirmed,
    Verb.PRIVACY_KEEP: keep,
    Verb.PRIVACY_START_AGAIN: start_again,
}
COMMANDS: dict[Command, CommandHandler] = {Command.PRIVACY: privacy_command}
