"""Escalations in Slack: `/escalate`, `/barriers`, "Escalate this", and the barrier card.

Every word comes from `bot.views.barriers`; this module reads Slack's requests, calls the
register and lays the answer out with the Block Kit renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.domain.escalation import Action, StaleBarrier
from bot.services import Services
from bot.services.barriers import Change
from bot.slack import render
from bot.slack.ids import Action as ActionId
from bot.slack.ids import Command
from bot.views.barriers import (
    FORM_ACTIONS,
    ONE_CLICK_ACTIONS,
    OUT_OF_DATE,
    STEWARD_FORMS,
    BarrierAction,
    BarrierField,
    BarrierForm,
    barrier_list,
    barriers_usage,
    blank_escalate_form,
    blank_steward_form,
    escalate_form,
    escalate_usage,
    field_errors,
    out_of_date_button,
    parse_button_value,
    read_escalate_form,
    read_state,
    shared_ids,
    state_int,
    steward_form,
)
from bot.views.errors import out_of_date
from bot.views.message import Form
from bot.views.recurring import RecurringAction
from bot.views.recurring import parse_button_value as parse_recurring_value
from bot.views.words import Cmd
from bot.views.words import Command as Said
from handlers.slack.errors import reported

PLATFORM = "slack"


def _barrier_of(action: dict[str, Any]) -> tuple[int, int | None]:
    try:
        return parse_button_value(str(action.get("value", "")))
    except ValueError:
        raise NotFound(out_of_date_button()) from None


def _refreshing(services: Services, barrier_id: int, run: Callable[[], Any]) -> Any:
    """Run a steward action; if the card they used was out of date, bring it up to date."""
    try:
        return run()
    except StaleBarrier:
        services.escalations.refresh_card(barrier_id)
        raise


def _submitted(form: Form, view: dict[str, Any]) -> dict[str, Any]:
    return render.read_form(form, view.get("state", {}).get("values", {}))


def _errors(form: Form, errors: dict[str, str], fallback: BarrierField) -> dict[str, Any]:
    """Errors pinned to the fields of the modal as it was shown."""
    return render.form_errors(field_errors(form, errors, fallback))


# ------------------------------------------------------------------------- commands


def escalate_command(
    ack: Ack, command: dict[str, Any], client: WebClient, services: Services
) -> None:
    """`/escalate [text]`: open "Raise a barrier", pre-filled with any text typed."""
    text = (command.get("text") or "").strip()
    if text.lower() == "help":
        ack(text=render.mrkdwn(escalate_usage()))
        return
    ack()
    form = services.escalations.form_for(PLATFORM, command["user_id"], text=text)
    client.views_open(trigger_id=command["trigger_id"], view=render.modal(escalate_form(form)))


def barriers_command(
    ack: Ack, command: dict[str, Any], respond: Respond, services: Services
) -> None:
    """`/barriers [open|mine|stale|all]`: a compact list, only for the person who asked."""
    which = (command.get("text") or "").strip().lower()
    if which == "help":
        ack(text=render.mrkdwn(barriers_usage()))
        return
    ack()
    view = services.escalations.listing(PLATFORM, command["user_id"], which or "open")
    text, blocks = render.message(barrier_list(view))
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


# ------------------------------------------------------------------------- buttons


def escalate_checkin(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Escalate this" on a check-in's thanks: the form, pre-filled from its barrier answer."""
    ack()
    try:
        checkin_id = int(action.get("value", ""))
    except ValueError:
        raise NotFound(out_of_date(Cmd(Said.ESCALATE))) from None
    form = services.escalations.form_for(PLATFORM, body["user"]["id"], checkin_id=checkin_id)
    client.views_open(trigger_id=body["trigger_id"], view=render.modal(escalate_form(form)))


def raise_recurring(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Raise as a barrier" in the stewards' digest: the form, pre-filled, linking the answers."""
    ack()
    try:
        ids = parse_recurring_value(str(action.get("value", "")))
    except ValueError:
        raise NotFound(out_of_date_button()) from None
    form = services.escalations.form_for_recurring(PLATFORM, body["user"]["id"], ids)
    client.views_open(trigger_id=body["trigger_id"], view=render.modal(escalate_form(form)))


def act_now(ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services) -> None:
    """ "Acknowledge" or "Escalate up" on a card: one click, recorded at once."""
    ack()
    what = ONE_CLICK_ACTIONS[BarrierAction(str(action.get("action_id")))]
    barrier_id, seen = _barrier_of(action)
    change: Change = _refreshing(
        services,
        barrier_id,
        lambda: services.escalations.act(PLATFORM, body["user"]["id"], barrier_id, seen, what),
    )
    services.escalations.publish(change)


def open_steward_form(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Assign", "Resolve" or "Close" on a card: check the steward may, then ask for words."""
    ack()
    what = FORM_ACTIONS[BarrierAction(str(action.get("action_id")))]
    barrier_id, seen = _barrier_of(action)
    ref = _refreshing(
        services,
        barrier_id,
        lambda: services.escalations.for_steward(
            PLATFORM, body["user"]["id"], barrier_id, seen, what
        ),
    )
    client.views_open(trigger_id=body["trigger_id"], view=render.modal(steward_form(what, ref)))


# ------------------------------------------------------------------------- modals


def submit_escalation(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    """Store the barrier before acknowledging (a closed modal means it was raised)."""
    form = blank_escalate_form()
    try:
        change = services.escalations.raise_barrier(
            PLATFORM,
            body["user"]["id"],
            **read_escalate_form(_submitted(form, view)),
            shared_checkin_ids=shared_ids(read_state(view.get("private_metadata"))),
            idempotency_key=f"slack:view:{view['id']}:{view.get('hash', '')}"
            if view.get("id")
            else None,
        )
    except ValidationFailed as exc:
        ack(**_errors(_shown(form, view), exc.errors, BarrierField.DESCRIPTION))
        return
    except LearnLoopError as exc:
        # Keep what they typed, and say why it wasn't raised.
        ack(**_errors(_shown(form, view), {"": render.plain(exc.said)}, BarrierField.DESCRIPTION))
        return
    ack()
    services.escalations.publish(change)


def submit_steward(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    """Assign, Resolve or Close: record the change, then tell the owner and the raisers."""
    what = STEWARD_FORMS[BarrierForm(str(view.get("callback_id")))]
    state = read_state(view.get("private_metadata"))
    barrier_id = state_int(state, "barrier_id")
    fallback = BarrierField.OWNER if what is Action.ASSIGN else BarrierField.NOTE
    if barrier_id is None:
        ack(**render.form_errors({BarrierField.NOTE.value: OUT_OF_DATE}))
        return
    form = _shown(blank_steward_form(what), view)
    values = _submitted(blank_steward_form(what), view)
    try:
        change = services.escalations.act(
            PLATFORM,
            body["user"]["id"],
            barrier_id,
            state_int(state, "version"),
            what,
            note=values.get(BarrierField.NOTE),
            owner_user_id=values.get(BarrierField.OWNER),
        )
    except ValidationFailed as exc:
        ack(**_errors(form, exc.errors, fallback))
        return
    except LearnLoopError as exc:
        ack(**_errors(form, {"": render.plain(exc.said)}, fallback))
        if isinstance(exc, StaleBarrier):
            services.escalations.refresh_card(barrier_id)
        return
    ack()
    services.escalations.publish(change)


def _shown(form: Form, view: dict[str, Any]) -> Form:
    """The form with only the fields the modal Slack sent back has (errors must name those)."""
    present = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    items = tuple(
        item for item in form.items if item not in form.fields or getattr(item, "id", "") in present
    )
    return Form(id=form.id, title=form.title, submit=form.submit, items=items)


def register(app: App) -> None:
    """Attach the escalation listeners."""
    app.command(Command.ESCALATE.value)(reported(escalate_command))
    app.command(Command.BARRIERS.value)(reported(barriers_command))
    app.action(ActionId.ESCALATE_CHECKIN.value)(reported(escalate_checkin))
    app.action(RecurringAction.RAISE.value)(reported(raise_recurring))
    for one_click in ONE_CLICK_ACTIONS:
        app.action(one_click.value)(reported(act_now))
    for opens_form in FORM_ACTIONS:
        app.action(opens_form.value)(reported(open_steward_form))
    app.view(BarrierForm.ESCALATE.value)(reported(submit_escalation))
    for steward in STEWARD_FORMS:
        app.view(steward.value)(reported(submit_steward))
