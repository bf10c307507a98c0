"""Escalations on Teams: `escalate`, `barriers`, "Escalate this", and the barrier card's buttons.

The same services and permission checks as on Slack: anyone may raise a barrier; only system
stewards may act on one (EscalationService checks the role on every call, whichever platform
the button was on). A barrier's card lives in one ladder channel, on Slack or Teams; a steward
on the other platform opens it from `barriers` and acts on the same barrier, and its card is
updated wherever it lives.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from microsoft_teams.api import TaskModuleContinueResponse
from microsoft_teams.cards import AdaptiveCard

from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.domain.escalation import Action, StaleBarrier
from bot.services import Services
from bot.services.barriers import USAGE as SLACK_BARRIERS_USAGE
from bot.teams.cards import launcher_card
from bot.teams.escalation_cards import (
    barrier_card,
    barrier_list,
    escalate_form,
    form_values,
    read_escalate_form,
    steward_form,
)
from bot.teams.ids import Command, Dialog, Submit, Verb
from bot.views import BarrierCardView
from handlers.teams.support import (
    PLATFORM,
    CommandHandler,
    Ctx,
    Data,
    DialogHandler,
    SubmitHandler,
    VerbHandler,
    call,
    conversation_kind,
    dialog,
    int_of,
    person,
    teams_words,
)

ESCALATE_USAGE = (
    "Type **escalate** [what gets in the way] to me to raise a barrier that your team can't "
    "remove, for the system stewards to take up. You can stay anonymous, and you'll hear each "
    "time it moves. **barriers** lists them."
)
BARRIERS_USAGE = teams_words(SLACK_BARRIERS_USAGE)
T = TypeVar("T")
OUT_OF_DATE = "That button is out of date. Type **barriers** to me to find the barrier."
DIALOG_ACTIONS = {
    Dialog.BARRIER_ASSIGN: Action.ASSIGN,
    Dialog.BARRIER_RESOLVE: Action.RESOLVE,
    Dialog.BARRIER_CLOSE: Action.CLOSE,
}


def _barrier(data: Data) -> tuple[int, int | None]:
    barrier_id = int_of(data, "barrier_id")
    if barrier_id is None:
        raise NotFound(OUT_OF_DATE)
    return barrier_id, int_of(data, "version")


def card_view(services: Services, barrier_id: int) -> BarrierCardView:
    """A barrier's card as it is now (for a steward who opened it from a list)."""
    with services.uow() as uow:
        row = uow.escalations.get(barrier_id)
        if row is None:
            raise NotFound("That barrier no longer exists.")
        return services.escalations.register.card_view(uow, row)


async def _card(services: Services, barrier_id: int) -> AdaptiveCard:
    view = await call(card_view, services, barrier_id)
    people = [view.owner_user_id, view.raised_by_user_id]
    if view.last_change is not None:
        people.append(view.last_change.actor_user_id)
    names = await call(services.teams.display_names, [p for p in people if p])
    return barrier_card(view, names)


async def _refreshing(services: Services, barrier_id: int, run: Awaitable[T]) -> T:
    """Run a steward action; if the card they used was out of date, bring it up to date."""
    try:
        return await run
    except StaleBarrier:
        await call(services.escalations.refresh_card, barrier_id)
        raise


# ------------------------------------------------------------------------- commands


async def escalate_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`escalate [text]`: a card whose button opens "Raise a barrier" (pre-filled)."""
    if rest.strip().lower() == "help":
        await ctx.send(ESCALATE_USAGE)
        return
    # Fails here, in words, when the alliance has no ladder, rather than after the form.
    await call(services.escalations.form_for, PLATFORM, person(ctx), text=rest)
    data = {"text": rest} if rest else {}
    await ctx.send(
        launcher_card(
            "Raise a barrier your team can't remove, for the system stewards to take up.",
            "Raise a barrier",
            Dialog.ESCALATE,
            **data,
        )
    )


async def barriers_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`barriers [open|mine|stale|all]`: a compact list, each barrier one press from its card."""
    which = rest.strip().lower()
    if which == "help":
        await ctx.send(BARRIERS_USAGE)
        return
    view = await call(services.escalations.listing, PLATFORM, person(ctx), which or "open")
    owners = [line.owner_user_id for line in view.lines if line.owner_user_id]
    names = await call(services.teams.display_names, owners)
    await ctx.send(barrier_list(view, names))


# ------------------------------------------------------------------------- card verbs


async def _act_now(ctx: Ctx, services: Services, data: Data, what: Action) -> AdaptiveCard | str:
    barrier_id, seen = _barrier(data)
    change = await _refreshing(
        services,
        barrier_id,
        call(services.escalations.act, PLATFORM, person(ctx), barrier_id, seen, what),
    )
    await call(services.escalations.publish, change)
    if conversation_kind(ctx) != "personal":
        # The pressed card is the barrier's own: publishing has just replaced it (or turned it
        # into a pointer when it moved up), so only a confirmation goes back.
        return f"Done: {what.event_kind}."
    return await _card(services, barrier_id)


async def acknowledge(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Acknowledge"."""
    return await _act_now(ctx, services, data, Action.ACKNOWLEDGE)


async def escalate_up(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Escalate up": the card moves to the next level's channel."""
    return await _act_now(ctx, services, data, Action.ESCALATE)


async def show(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Open #n" in a list: the barrier's card, with the buttons the person may use."""
    barrier_id, _ = _barrier(data)
    return await _card(services, barrier_id)


# ------------------------------------------------------------------------- dialogs


async def open_escalate(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Raise a barrier" (from `escalate`, "Escalate this" or the "+" menu)."""
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    form = await call(
        services.escalations.form_for,
        PLATFORM,
        person(ctx),
        checkin_id=int_of(data, "checkin_id"),
        text=text or "",
    )
    return dialog("Raise a barrier", escalate_form(form))


async def submit_escalate(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Store the barrier; the form again, with what was typed, if it can't be stored."""
    user_id = person(ctx)
    read = read_escalate_form(data)
    try:
        change = await call(
            services.escalations.raise_barrier,
            PLATFORM,
            user_id,
            **read,
            # A retried invoke carries the same activity id, so it is raised once.
            idempotency_key=f"teams:activity:{ctx.activity.id}",
        )
    except (ValidationFailed, LearnLoopError) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"": exc.message}
        source = int_of(data, "source_checkin_id")
        form = await call(services.escalations.form_for, PLATFORM, user_id, checkin_id=source)
        return dialog("Raise a barrier", escalate_form(form, errors, form_values(data)))
    await call(services.escalations.publish, change)
    return None


async def open_steward(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """Assign, Resolve or Close: check the steward may, then ask for the words it needs."""
    action = DIALOG_ACTIONS[Dialog(data["dialog_id"])]
    barrier_id, seen = _barrier(data)
    ref = await _refreshing(
        services,
        barrier_id,
        call(services.escalations.for_steward, PLATFORM, person(ctx), barrier_id, seen, action),
    )
    people = await call(services.teams.teams_people) if action is Action.ASSIGN else []
    form = steward_form(action, ref.barrier_id, ref.version, ref.title, people=people)
    return dialog(ref.title[:80], form)


async def submit_steward(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Record the steward's change; the form again with the reason if it can't be."""
    try:
        action = Action(str(data.get("steward_action")))
    except ValueError:
        raise NotFound(OUT_OF_DATE) from None
    barrier_id, seen = _barrier(data)
    note = data.get("note") if isinstance(data.get("note"), str) else None
    owner = data.get("owner") if isinstance(data.get("owner"), str) and data.get("owner") else None
    try:
        change = await call(
            services.escalations.act,
            PLATFORM,
            person(ctx),
            barrier_id,
            seen,
            action,
            note=note,
            owner_user_id=owner,
        )
    except (ValidationFailed, LearnLoopError) as exc:
        if isinstance(exc, StaleBarrier):
            await call(services.escalations.refresh_card, barrier_id)
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"": exc.message}
        people = await call(services.teams.teams_people) if action is Action.ASSIGN else []
        title = str(data.get("title") or f"Barrier #{barrier_id}")
        form = steward_form(action, barrier_id, seen or 0, title, errors, people)
        return dialog(title, form)
    await call(services.escalations.publish, change)
    return None


VERBS: dict[str, VerbHandler] = {
    Verb.BARRIER_ACKNOWLEDGE: acknowledge,
    Verb.BARRIER_ESCALATE: escalate_up,
    Verb.BARRIER_SHOW: show,
}
DIALOGS: dict[str, DialogHandler] = {
    Dialog.ESCALATE: open_escalate,
    Dialog.BARRIER_ASSIGN: open_steward,
    Dialog.BARRIER_RESOLVE: open_steward,
    Dialog.BARRIER_CLOSE: open_steward,
}
SUBMITS: dict[str, SubmitHandler] = {
    Submit.ESCALATE: submit_escalate,
    Submit.BARRIER: submit_steward,
}
COMMANDS: dict[Command, CommandHandler] = {
    Command.ESCALATE: escalate_command,
    Command.BARRIERS: barriers_command,
}
