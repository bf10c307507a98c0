"""The learning library on Teams: `find …` typed to the bot, and its "More results" button.

The same service and words as Slack's `/learnloop find`. The button carries the search as
typed and where its page ended; the next page is read for whoever pressed it.
"""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard

from bot.services import Services
from bot.teams import render
from bot.teams.ids import Command
from bot.views.library import LibraryAction, find_message
from handlers.teams.support import PLATFORM, CommandHandler, Ctx, Data, VerbHandler, call, person


async def find_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`find WORDS [--theme T] [--agency A]`: learnings the person may read, newest first."""
    view = await call(services.library.find, PLATFORM, person(ctx), rest)
    await ctx.send(render.card(find_message(view)))


async def more_results(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "More results": the card shows the next page."""
    value = data.get("value")
    view = await call(
        services.library.more, PLATFORM, person(ctx), value if isinstance(value, str) else ""
    )
    return render.card(find_message(view))


COMMANDS: dict[Command, CommandHandler] = {Command.FIND: find_command}
VERBS: dict[str, VerbHandler] = {LibraryAction.MORE: more_results}
