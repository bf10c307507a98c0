"""People with no chat account follow a barrier by e-mail: told when it changes level or
closes, through a real SMTP server; never told who raised it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from conftest import ALICE, STEWARD, Clock_, Live, alliance_config
from smtp_server import SmtpServer

from bot.domain.errors import NotFound
from bot.domain.escalation import Action
from bot.mail.smtp import SmtpMailer

CHAIR = "chair@board.example"
MONDAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(
    make_live: Callable[..., Live], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Live:
    # The alliance lists people, so start-up asks for the board's key.
    monkeypatch.setattr("bot.app.require_board_key", lambda settings, alliance: None)
    live = make_live(
        alliance=alliance_config(people=[{"email": CHAIR, "name": "Pat Chair", "role": "board"}]),
        clock=Clock_(MONDAY),
    )
    live.loop.services.escalations.mailer = SmtpMailer(
        smtp_server.url, "learnloop@alliance.example", waits=()
    )
    return live


def test_a_contact_hears_when_the_barrier_moves_up_and_when_it_is_resolved(
    app: Live, smtp_server: SmtpServer
) -> None:
    esc = app.loop.services.escalations
    change = esc.raise_barrier(
        "slack",
        ALICE,
        title="No beds for discharge on Fridays",
        description="Wards cannot discharge on Friday evenings",
        who_is_affected=None,
        agencies=["housing"],
        level=None,
        anonymous=True,
        checkin_ids=[],
    )
    esc.publish(change)
    barrier = change.barrier_id
    assert esc.follow_by_email(barrier, "Chair@Board.example", actor="cli:test") is True
    assert esc.follow_by_email(barrier, CHAIR, actor="cli:test") is False  # once is enough
    with pytest.raises(NotFound, match="people"):
        esc.follow_by_email(barrier, "stranger@elsewhere.example", actor="cli:test")

    def act(action: Action, note: str | None = None) -> None:
        esc.publish(esc.act("slack", STEWARD, barrier, None, action, note=note))

    act(Action.ACKNOWLEDGE)
    assert smtp_server.received == []  # acknowledging is not a change of level
    act(Action.ESCALATE)
    (moved,) = smtp_server.received
    assert moved["To"] == CHAIR
    body = moved.get_body(("plain",)).get_content()
    assert "No beds for discharge on Fridays" in body and "which you asked to hear about" in body
    assert "has gone up to" in body and "Steward group" in body
    html = moved.get_body(("html",)).get_content()
    assert "<strong>Steward group</strong>" in html
    # An anonymous raiser stays anonymous; no platform id leaks into an e-mail.
    for leak in (ALICE, "Council Housing", STEWARD):
        assert leak not in body and leak not in html
    act(Action.RESOLVE, note="A Friday discharge team now covers the wards.")
    assert len(smtp_server.received) == 2
    resolved = smtp_server.received[1].get_body(("plain",)).get_content()
    assert "is resolved" in resolved and "A Friday discharge team" in resolved


def test_a_refused_e_mail_does_not_undo_the_change(app: Live, smtp_server: SmtpServer) -> None:
    esc = app.loop.services.escalations
    change = esc.raise_barrier(
        "slack",
        ALICE,
        title="Letters read like threats",
        description="Tenants ignore them",
        who_is_affected=None,
        agencies=["housing"],
        level=None,
        anonymous=False,
        checkin_ids=[],
    )
    esc.publish(change)
    esc.follow_by_email(change.barrier_id, CHAIR, actor="cli:test")
    smtp_server.answer_next("550 5.1.1 No such user")
    esc.publish(esc.act("slack", STEWARD, change.barrier_id, None, Action.ESCALATE))
    assert app.scalar("SELECT level FROM escalations WHERE id = :i", i=change.barrier_id) == (
        "alliance"
    )
