"""Escalations in Slack: `/escalate`, `/barriers`, "Escalate this", and the barrier card."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.domain.escalation import Action, StaleBarrier
from bot.services import Services
from bot.services.barriers import USAGE as BARRIERS_USAGE
from bot.services.escalations import Change
from bot.slack.escalation_blocks import (
    ANONYMOUS_VALUE,
    assign_modal,
    barrier_list,
    close_modal,
    escalate_modal,
    modal_errors,
    parse_button_value,
    read_values,
    resolve_modal,
)
from bot.slack.ids import Action as ActionId
from bot.slack.ids import Block as BlockId
from bot.slack.ids import Command
from bot.slack.ids import View as ViewId
from handlers.slack.errors import reported

PLATFORM = "slack"
ESCALATE_USAGE = (
    "`/escalate [what gets in the way]` opens a form to raise a barrier that your team can't "
    "remove, for the system stewards to take up. You can stay anonymous, and you'll hear each "
    "time it moves. `/barriers` lists them."
)
_MODALS: dict[Action, Callable[[int, int, str], dict[str, Any]]] = {
    Action.ASSIGN: assign_modal,
    Action.RESOLVE: resolve_modal,
    Action.CLOSE: close_modal,
}


def _barrier_of(action: dict[str, Any]) -> tuple[int, int | None]:
    try:
        return parse_button_value(str(action.get("value", "")))
    except ValueError:
        raise NotFound("That button is out of date. Try `/barriers` to find the barrier.") from None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _refreshing(services: Services, barrier_id: int, run: Callable[[], Any]) -> Any:
    """Run a steward action; if the card they used was out of date, bring it up to date."""
    try:
        return run()
    except StaleBarrier:
        services.escalations.refresh_card(barrier_id)
        raise


# ------------------------------------------------------------------------- commands


def escalate_command(
    ack: Ack, command: dict[str, Any], client: WebClient, services: Services
) -> None:
    """`/escalate [text]`: open "Raise a barrier", pre-filled with any text typed."""
    text = (command.get("text") or "").strip()
    if text.lower() == "help":
        ack(text=ESCALATE_USAGE)
        return
    ack()
    form = services.escalations.form_for(PLATFORM, command["user_id"], text=text)
    client.views_open(trigger_id=command["trigger_id"], view=escalate_modal(form))


def barriers_command(
    ack: Ack, command: dict[str, Any], respond: Respond, services: Services
) -> None:
    """`/barriers [open|mine|stale|all]`: a compact list, only for the person who asked."""
    which = (command.get("text") or "").strip().lower()
    if which == "help":
        ack(text=BARRIERS_USAGE)
        return
    ack()
    view = services.escalations.listing(PLATFORM, command["user_id"], which or "open")
    text, blocks = barrier_list(view)
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
        raise NotFound("That button is out of date. Try `/escalate` instead.") from None
    form = services.escalations.form_for(PLATFORM, body["user"]["id"], checkin_id=checkin_id)
    client.views_open(trigger_id=body["trigger_id"], view=escalate_modal(form))


def _act_now(
    body: dict[str, Any], action: dict[str, Any], services: Services, what: Action
) -> None:
    barrier_id, seen = _barrier_of(action)
    change: Change = _refreshing(
        services,
        barrier_id,
        lambda: services.escalations.act(PLATFORM, body["user"]["id"], barrier_id, seen, what),
    )
    services.escalations.publish(change)


def acknowledge_barrier(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """ "Acknowledge" on a card."""
    ack()
    _act_now(body, action, services, Action.ACKNOWLEDGE)


def escalate_barrier(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """ "Escalate up" on a card: the card moves to the next level's channel."""
    ack()
    _act_now(body, action, services, Action.ESCALATE)


def _open_modal(
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    services: Services,
    what: Action,
) -> None:
    barrier_id, seen = _barrier_of(action)
    ref = _refreshing(
        services,
        barrier_id,
        lambda: services.escalations.for_steward(
            PLATFORM, body["user"]["id"], barrier_id, seen, what
        ),
    )
    client.views_open(
        trigger_id=body["trigger_id"], view=_MODALS[what](ref.barrier_id, ref.version, ref.title)
    )


def assign_barrier(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Assign" on a card: choose who owns it."""
    ack()
    _open_modal(body, action, client, services, Action.ASSIGN)


def resolve_barrier(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Resolve" on a card: say what was done."""
    ack()
    _open_modal(body, action, client, services, Action.RESOLVE)


def close_barrier(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services
) -> None:
    """ "Close" on a card: say why not."""
    ack()
    _open_modal(body, action, client, services, Action.CLOSE)


# ------------------------------------------------------------------------- modals


def submit_escalation(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    """Store the barrier before acknowledging (a closed modal means it was raised)."""
    values = read_values(view.get("state", {}).get("values", {}))
    checkins = [int(v) for v in values.get(BlockId.BARRIER_CHECKINS) or [] if str(v).isdigit()]
    try:
        change = services.escalations.raise_barrier(
            PLATFORM,
            body["user"]["id"],
            title=values.get(BlockId.BARRIER_TITLE),
            description=values.get(BlockId.BARRIER_DESCRIPTION),
            who_is_affected=values.get(BlockId.BARRIER_AFFECTED),
            agencies=list(values.get(BlockId.BARRIER_AGENCIES) or []),
            level=values.get(BlockId.BARRIER_LEVEL),
            anonymous=values.get(BlockId.BARRIER_ANONYMOUS) == ANONYMOUS_VALUE,
            checkin_ids=checkins,
            idempotency_key=f"slack:view:{view['id']}:{view.get('hash', '')}"
            if view.get("id")
            else None,
        )
    except ValidationFailed as exc:
        ack(
            response_action="errors",
            errors=modal_errors(exc.errors, view, BlockId.BARRIER_DESCRIPTION),
        )
        return
    except LearnLoopError as exc:
        # Keep what they typed, and say why it wasn't raised.
        ack(
            response_action="errors",
            errors=modal_errors({"description": exc.message}, view, BlockId.BARRIER_DESCRIPTION),
        )
        return
    ack()
    services.escalations.publish(change)


def _submit_steward(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    services: Services,
    what: Action,
) -> None:
    meta = _metadata(view)
    barrier_id = _int(meta.get("barrier_id"))
    if barrier_id is None:
        ack(
            response_action="errors",
            errors={BlockId.BARRIER_NOTE.value: "This form is out of date; close it and retry."},
        )
        return
    values = read_values(view.get("state", {}).get("values", {}))
    fallback = BlockId.BARRIER_OWNER if what is Action.ASSIGN else BlockId.BARRIER_NOTE
    try:
        change = services.escalations.act(
            PLATFORM,
            body["user"]["id"],
            barrier_id,
            _int(meta.get("version")),
            what,
            note=values.get(BlockId.BARRIER_NOTE),
            owner_user_id=values.get(BlockId.BARRIER_OWNER),
        )
    except ValidationFailed as exc:
        ack(response_action="errors", errors=modal_errors(exc.errors, view, fallback))
        return
    except LearnLoopError as exc:
        ack(response_action="errors", errors=modal_errors({"": exc.message}, view, fallback))
        if isinstance(exc, StaleBarrier):
            services.escalations.refresh_card(barrier_id)
        return
    ack()
    services.escalations.publish(change)


def submit_assign(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    """ "Assign": record the owner, then tell them and the raisers."""
    _submit_steward(ack, body, view, services, Action.ASSIGN)


def submit_resolve(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    """ "Resolve": record the outcome, then send it to the raisers."""
    _submit_steward(ack, body, view, services, Action.RESOLVE)


def submit_close(ack: Ack, body: dict[str, Any], view: dict[str, Any], services: Services) -> None:
    """ "Close": record why, then tell the raisers."""
    _submit_steward(ack, body, view, services, Action.CLOSE)


def register(app: App) -> None:
    """Attach the escalation listeners."""
    app.command(Command.ESCALATE.value)(reported(escalate_command))
    app.command(Command.BARRIERS.value)(reported(barriers_command))
    app.action(ActionId.ESCALATE_CHECKIN.value)(reported(escalate_checkin))
    app.action(ActionId.BARRIER_ACKNOWLEDGE.value)(reported(acknowledge_barrier))
    app.action(ActionId.BARRIER_ASSIGN.value)(reported(assign_barrier))
    app.action(ActionId.BARRIER_ESCALATE.value)(reported(escalate_barrier))
    app.action(ActionId.BARRIER_RESOLVE.value)(reported(resolve_barrier))
    app.action(ActionId.BARRIER_CLOSE.value)(reported(close_barrier))
    app.view(ViewId.ESCALATE.value)(reported(submit_escalation))
    app.view(ViewId.BARRIER_ASSIGN.value)(reported(submit_assign))
    app.view(ViewId.BARRIER_RESOLVE.value)(reported(submit_resolve))
    app.view(ViewId.BARRIER_CLOSE.value)(reported(submit_close))
