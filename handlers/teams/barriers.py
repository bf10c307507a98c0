"""Escalations on Teams: `escalate`, `barriers`, "Escalate this", and the barrier card's buttons.

The same services and permission checks as on Slack: anyone may raise a barrier; only system
stewards may act on one (EscalationService checks the role on every call, whichever platform
the button was on). A barrier's card lives in one ladder channel, on Slack or Teams; a steward
on the other platform opens it from `barriers` and acts on the same barrier, and its card is
updated wherever it lives. Every word comes from `bot.views.barriers`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from microsoft_teams.api import TaskModuleContinueResponse
from microsoft_teams.cards import AdaptiveCard

from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.domain.escalation import Action, StaleBarrier
from bot.services import Services
from bot.teams import render
from bot.teams.ids import Command, Dialog, Submit, Verb
from bot.views.barriers import (
    FORM_ACTIONS,
    STEWARD_FORMS,
    BarrierAction,
    BarrierField,
    BarrierForm,
    BarrierRef,
    barrier_card,
    barrier_list,
    barriers_usage,
    blank_escalate_form,
    blank_steward_form,
    done,
    escalate_form,
    escalate_usage,
    out_of_date_button,
    parse_button_value,
    raise_launcher,
    read_escalate_form,
    read_state,
    shared_ids,
    state_int,
    steward_form,
)
from bot.views.message import Form, Message, mentioned
from bot.views.recurring import RecurringAction
from bot.views.recurring import parse_button_value as parse_recurring_value
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
)

T = TypeVar("T")
# Cards posted before the view ids were shared carry the Teams-only verbs and dialog ids.
LEGACY_DIALOGS = {
    Dialog.BARRIER_ASSIGN: Action.ASSIGN,
    Dialog.BARRIER_RESOLVE: Action.RESOLVE,
    Dialog.BARRIER_CLOSE: Action.CLOSE,
}


def _barrier(data: Data) -> tuple[int, int | None]:
    """The barrier and the version seen, from a button's value (or an older card's data)."""
    value = data.get("value")
    if isinstance(value, str) and value:
        try:
            return parse_button_value(value)
        except ValueError:
            raise NotFound(out_of_date_button()) from None
    barrier_id = int_of(data, "barrier_id")
    if barrier_id is None:
        raise NotFound(out_of_date_button())
    return barrier_id, int_of(data, "version")


async def _names(services: Services, view: Message | Form) -> dict[str, str]:
    return await call(services.teams.display_names, mentioned(view))


async def _card(services: Services, message: Message) -> AdaptiveCard:
    return render.card(message, await _names(services, message))


async def _form(services: Services, form: Form) -> TaskModuleContinueResponse:
    return dialog(form.title[:80], render.form_card(form, await _names(services, form)))


async def _barrier_card(services: Services, barrier_id: int) -> AdaptiveCard:
    view = await call(services.escalations.card, barrier_id)
    return await _card(services, barrier_card(view))


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
        await ctx.send(render.markdown(escalate_usage()))
        return
    # Fails here, in words, when the alliance has no ladder, rather than after the form.
    await call(services.escalations.form_for, PLATFORM, person(ctx), text=rest)
    await ctx.send(await _card(services, raise_launcher(rest)))


async def barriers_command(ctx: Ctx, services: Services, rest: str) -> None:
    """`barriers [open|mine|stale|all]`: a compact list, each barrier one press from its card."""
    which = rest.strip().lower()
    if which == "help":
        await ctx.send(render.markdown(barriers_usage()))
        return
    view = await call(services.escalations.listing, PLATFORM, person(ctx), which or "open")
    # A card may be on Slack, or in a channel a bot can't link to: each opens here instead.
    await ctx.send(await _card(services, barrier_list(view, open_buttons=True)))


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
        return render.markdown(done(what))
    return await _barrier_card(services, barrier_id)


async def acknowledge(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Acknowledge"."""
    return await _act_now(ctx, services, data, Action.ACKNOWLEDGE)


async def escalate_up(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Escalate up": the card moves to the next level's channel."""
    return await _act_now(ctx, services, data, Action.ESCALATE)


async def show(ctx: Ctx, services: Services, data: Data) -> AdaptiveCard | str:
    """ "Open #n" in a list: the barrier's card, with the buttons the person may use."""
    barrier_id = int_of(data, "value") or int_of(data, "barrier_id")
    if barrier_id is None:
        raise NotFound(out_of_date_button())
    return await _barrier_card(services, barrier_id)


# ------------------------------------------------------------------------- dialogs


async def open_escalate(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Raise a barrier" (from `escalate`, "Escalate this" or the "+" menu)."""
    text = next((v for k in ("value", "text") if isinstance(v := data.get(k), str)), "")
    form = await call(
        services.escalations.form_for,
        PLATFORM,
        person(ctx),
        checkin_id=int_of(data, "checkin_id"),
        text=text,
    )
    return await _form(services, escalate_form(form))


async def open_recurring(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """ "Raise as a barrier" in the stewards' digest: the form, pre-filled, linking the answers."""
    try:
        ids = parse_recurring_value(str(data.get("value") or ""))
    except ValueError:
        raise NotFound(out_of_date_button()) from None
    form = await call(services.escalations.form_for_recurring, PLATFORM, person(ctx), ids)
    return await _form(services, escalate_form(form))


async def submit_escalate(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Store the barrier; the form again, with what was typed, if it can't be stored."""
    user_id = person(ctx)
    values = render.read_form(blank_escalate_form(), data)
    state = read_state(str(data.get(render.STATE_KEY) or ""))
    shared = shared_ids(state)
    try:
        change = await call(
            services.escalations.raise_barrier,
            PLATFORM,
            user_id,
            **read_escalate_form(values),
            shared_checkin_ids=shared,
            # A retried invoke carries the same activity id, so it is raised once.
            idempotency_key=f"teams:activity:{ctx.activity.id}",
        )
    except (ValidationFailed, LearnLoopError) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"": render.plain(exc.said)}
        source = state_int(state, "source_checkin_id") or int_of(data, "source_checkin_id")
        if shared:
            form = await call(services.escalations.form_for_recurring, PLATFORM, user_id, shared)
        else:
            form = await call(services.escalations.form_for, PLATFORM, user_id, checkin_id=source)
        return await _form(services, escalate_form(form, values, errors))
    await call(services.escalations.publish, change)
    return None


async def open_steward(ctx: Ctx, services: Services, data: Data) -> TaskModuleContinueResponse:
    """Assign, Resolve or Close: check the steward may, then ask for the words it needs."""
    opened = str(data.get("dialog_id"))
    if opened in set(BarrierAction):
        action = FORM_ACTIONS[BarrierAction(opened)]
    else:
        action = LEGACY_DIALOGS[Dialog(opened)]
    barrier_id, seen = _barrier(data)
    ref = await _refreshing(
        services,
        barrier_id,
        call(services.escalations.for_steward, PLATFORM, person(ctx), barrier_id, seen, action),
    )
    people = await call(services.teams.teams_people) if action is Action.ASSIGN else []
    return await _form(services, steward_form(action, ref, people=people))


async def submit_steward(
    ctx: Ctx, services: Services, data: Data
) -> TaskModuleContinueResponse | None:
    """Record the steward's change; the form again with the reason if it can't be."""
    try:
        action = STEWARD_FORMS[BarrierForm(str(data.get("action")))]
    except ValueError:
        raise NotFound(out_of_date_button()) from None
    state = read_state(str(data.get(render.STATE_KEY) or ""))
    barrier_id = state_int(state, "barrier_id")
    if barrier_id is None:
        raise NotFound(out_of_date_button())
    seen = state_int(state, "version")
    values = render.read_form(blank_steward_form(action), data)
    try:
        change = await call(
            services.escalations.act,
            PLATFORM,
            person(ctx),
            barrier_id,
            seen,
            action,
            note=values.get(BarrierField.NOTE),
            owner_user_id=values.get(BarrierField.OWNER),
        )
    except (ValidationFailed, LearnLoopError) as exc:
        if isinstance(exc, StaleBarrier):
            await call(services.escalations.refresh_card, barrier_id)
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"": render.plain(exc.said)}
        people = await call(services.teams.teams_people) if action is Action.ASSIGN else []
        title = str(state.get("title") or f"Barrier #{barrier_id}")
        ref = BarrierRef(barrier_id=barrier_id, version=seen or 0, title=title)
        return await _form(services, steward_form(action, ref, errors, people))
    await call(services.escalations.publish, change)
    return None


VERBS: dict[str, VerbHandler] = {
    BarrierAction.ACKNOWLEDGE: acknowledge,
    BarrierAction.ESCALATE: escalate_up,
    Verb.BARRIER_ACKNOWLEDGE: acknowledge,
    Verb.BARRIER_ESCALATE: escalate_up,
    BarrierAction.SHOW: show,
    Verb.BARRIER_SHOW: show,
}
DIALOGS: dict[str, DialogHandler] = {
    Dialog.ESCALATE: open_escalate,
    RecurringAction.RAISE: open_recurring,
    **{opened: open_steward for opened in (*FORM_ACTIONS, *LEGACY_DIALOGS)},
}
SUBMITS: dict[str, SubmitHandler] = {
    Submit.ESCALATE: submit_escalate,
    BarrierForm.ESCALATE: submit_escalate,
    **{form_id: submit_steward for form_id in STEWARD_FORMS},
}
COMMANDS: dict[Command, CommandHandler] = {
    Command.ESCALATE: escalate_command,
    Command.BARRIERS: barriers_command,
}
