"""E-mail digests end to end: real services and database, a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ALICE, BOB, CAROL, TEST_ALLIANCE, Clock_, alliance_config
from conftest import test_settings as settings_for
from slack_api import FakeSlackAPI
from smtp_server import SmtpServer, closed_port_url
from sqlalchemy import text

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build, build_mailer
from bot.domain.checkins import Source
from bot.mail.smtp import SmtpMailer
from bot.settings import ConfigError
from bot.views.digest import summary

EVE = "U0EVE"
CHAIR = "chair@board.example"
COMMISSIONER = "commissioner@council.example"
WEEK = "2026-W47"
THURSDAY = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
FRIDAY_AFTER = dt.datetime(2026, 11, 20, 10, 5, tzinfo=dt.UTC)


def email_alliance() -> Any:
    agencies = copy.deepcopy(TEST_ALLIANCE["agencies"])
    agencies[0]["members"] = [ALICE, BOB, EVE]
    return alliance_config(
        agencies=agencies,
        people=[{"email": CHAIR, "name": "Pat Chair", "role": "board"}],
        digests=[
            {"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"},
            {
                "id": "board-email",
                "email": [CHAIR, COMMISSIONER],
                "scope": "alliance",
                "schedule": {"days": ["fri"], "time": "10:00"},
            },
        ],
    )


@pytest.fixture
def clock() -> Clock_:
    return Clock_(THURSDAY)


@pytest.fixture
def loop(
    database_url: str, fake_slack: FakeSlackAPI, smtp_server: SmtpServer, clock: Clock_
) -> Iterator[LearnLoop]:
    settings = settings_for(database_url, fake_slack.url).model_copy(
        update={
            "smtp_url": _secret(smtp_server.url),
            "smtp_from": "learnloop@alliance.example",
            # The alliance lists people: the board's key must be set (checked at start-up).
            "board_secret_key": _secret("test-board-secret-key-0123456789"),
        }
    )
    built = build(settings, alliance=email_alliance(), clock=clock)
    assert built.services.digests.mailer is not None  # SMTP_URL set: the mailer is wired
    # No waiting between the mailer's quick tries in tests.
    built.services.digests.mailer = SmtpMailer(
        smtp_server.url, "learnloop@alliance.example", waits=(0.0,)
    )
    yield built
    built.engine.dispose()


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def a_week(loop: LearnLoop) -> None:
    for user, said in [
        (ALICE, "Asking where people will sleep tonight opened the conversation."),
        (BOB, "A call to the landlord 07700 900123 saved a tenancy."),
        (EVE, "Joint visits with the hospital team worked."),
    ]:
        loop.services.checkins.submit(
            "slack",
            user,
            answers={"learned": said, "got_in_the_way": ""},
            themes=["Housing"],
            visibility="alliance",
            source=Source.MODAL,
        )
    loop.services.checkins.submit(
        "slack",
        CAROL,
        answers={"learned": "Nobody told the ward about the hostel rules.", "got_in_the_way": ""},
        themes=["Housing"],
        visibility="anonymous",
        source=Source.MODAL,
    )


def for_address(server: SmtpServer, address: str) -> list[Any]:
    return [m for m in server.received if m["To"] == address]


def test_each_address_gets_the_digest_once_with_its_chart_after_a_temporary_failure(
    loop: LearnLoop, smtp_server: SmtpServer, clock: Clock_
) -> None:
    a_week(loop)
    digests = loop.services.digests
    assert [d.id for d in digests.matching("board-email")] == [
        f"board-email:{CHAIR}",
        f"board-email:{COMMISSIONER}",
    ]
    assert [r for r in digests.send_due() if r.destination_id.startswith("board")] == []
    clock.now = FRIDAY_AFTER
    # The chair's first try is refused twice with 451 (the mailer's quick retry, then the
    # ledger's): the worker's next pass sends it; the commissioner's goes at once.
    smtp_server.answer_next("451 4.3.0 Try again later", "451 4.3.0 Try again later")
    first = {r.destination_id: (r.status, r.detail) for r in digests.send_due()}
    assert first[f"board-email:{CHAIR}"] == ("retry", "smtp_451")
    assert first[f"board-email:{COMMISSIONER}"] == ("posted", "")
    second = {r.destination_id: r.status for r in digests.send_due()}
    assert second == {f"board-email:{CHAIR}": "posted"}
    # Later passes, a restart and `digest send` send nothing more.
    assert digests.send_due() == []
    again = digests.send(digests.destination(f"board-email:{CHAIR}"), WEEK)
    assert again.status == "already"

    (mail,) = for_address(smtp_server, CHAIR)
    assert len(for_address(smtp_server, COMMISSIONER)) == 1
    assert mail["From"] == "learnloop@alliance.example"
    # The subject is the digest's own one-line summary (the chat notification's words).
    view = digests.build(digests.destination(f"board-email:{CHAIR}"), WEEK)
    assert mail["Subject"] == summary(view).plain()
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",))
    html = html_part.get_content()
    assert "Asking where people will sleep tonight" in plain and "sleep tonight" in html
    # The same words as the chat digest, redacted before storage: no phone number anywhere.
    assert "07700" not in plain and "07700" not in html
    # The chart is inline: an <img src="cid:…"> and a PNG part with that Content-ID.
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert images, "the themes chart is attached inline"
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    # Its alt text is in the HTML, and the text part carries the chart's words.
    assert 'alt="' in html and "[Themes" in plain
    # The same Message-ID on every try of one (destination, week).
    assert mail["Message-ID"].startswith("<learnloop.")
    with loop.engine.connect() as conn:
        rows = list(
            conn.execute(
                text("SELECT destination_id, status, error FROM digests WHERE period = :p"),
                {"p": WEEK},
            )
        )
    assert (f"board-email:{CHAIR}", "posted", None) in [tuple(r) for r in rows]


def test_a_permanent_refusal_is_reported_and_not_tried_again(
    loop: LearnLoop, smtp_server: SmtpServer, clock: Clock_, fake_slack: FakeSlackAPI
) -> None:
    a_week(loop)
    digests = loop.services.digests
    clock.now = FRIDAY_AFTER
    smtp_server.answer_next("550 5.1.1 No such user here")
    results = {r.destination_id: (r.status, r.detail) for r in digests.send_due()}
    assert results[f"board-email:{CHAIR}"] == ("failed", "smtp_550")
    assert results[f"board-email:{COMMISSIONER}"] == ("posted", "")
    assert for_address(smtp_server, CHAIR) == []
    # Not tried again by the worker.
    assert [r for r in digests.send_due() if r.destination_id.startswith("board")] == []
    assert smtp_server.handler.refused == ["550 5.1.1 No such user here"]
    # Visible to admins: the status command's data, and a DM to each admin.
    ledger = {
        d.id: (status, error)
        for d, _, status, error in digests.ledger(digests.destinations(), WEEK)
    }
    assert ledger[f"board-email:{CHAIR}"] == ("failed", "smtp_550")
    dms = [c for c in fake_slack.calls("chat.postMessage") if c.params.get("channel") == "U0ADMIN"]
    assert any("refused" in str(c.params.get("text", "")) for c in dms)
    # An admin fixes the address and reopens it: it goes on the next pass.
    assert digests.reopen(digests.destination(f"board-email:{CHAIR}"), WEEK) == WEEK
    assert {r.destination_id: r.status for r in digests.send_due()} == {
        f"board-email:{CHAIR}": "posted"
    }
    assert len(for_address(smtp_server, CHAIR)) == 1


def test_a_server_that_refuses_connections_is_a_temporary_failure(
    loop: LearnLoop, clock: Clock_
) -> None:
    digests = loop.services.digests
    digests.mailer = SmtpMailer(closed_port_url(), "learnloop@alliance.example", waits=())
    clock.now = FRIDAY_AFTER
    results = {r.destination_id: (r.status, r.detail) for r in digests.send_due()}
    assert results[f"board-email:{CHAIR}"] == ("retry", "connection_error")


def test_a_digest_entry_needs_exactly_one_of_channel_and_email() -> None:
    data = copy.deepcopy(TEST_ALLIANCE)
    data["digests"] = [
        {"id": "both", "channel": "C0X", "email": [CHAIR]},
        {"id": "neither"},
        {"id": "bad", "email": ["not-an-address"]},
    ]
    with pytest.raises(ConfigError) as caught:
        parse_alliance(data)
    text_ = "\n".join(caught.value.problems)
    assert "digests.0.channel" in text_ and "digests.1.channel" in text_
    assert "digests.2.email.0" in text_


def test_smtp_url_is_checked_at_start_up(database_url: str) -> None:
    from bot.settings import Settings

    with pytest.raises(ValueError, match="smtp://"):
        Settings(_env_file=None, database_url=database_url, smtp_url="http://mail.example")
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        smtp_url="smtp+starttls://user:pa%40ss@mail.example:2525",
        board_url="https://learn.example.org/",
    )
    mailer = build_mailer(settings)
    assert mailer is not None
    assert (mailer.target.host, mailer.target.port, mailer.target.starttls) == (
        "mail.example",
        2525,
        True,
    )
    assert mailer.target.password == "pa@ss"
    assert mailer.sender == "LearnLoop <learnloop@learn.example.org>"


def test_digest_status_shows_a_refused_address_and_retry_reopens_it(
    tmp_path: Any, sqlite_template: Any
) -> None:
    import shutil

    import yaml
    from typer.testing import CliRunner

    from bot.cli import app as cli

    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    data = copy.deepcopy(TEST_ALLIANCE)
    data["people"] = [{"email": CHAIR, "name": "Pat Chair", "role": "board"}]
    data["digests"] = [{"id": "board-email", "email": [CHAIR], "scope": "alliance"}]
    config = tmp_path / "alliance.yml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {
        "LEARNLOOP_CONFIG": str(config),
        "DATABASE_URL": f"sqlite:///{db}",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "BOARD_SECRET_KEY": "test-board-secret-key-0123456789",
    }
    runner = CliRunner()
    ok = runner.invoke(cli, ["digest", "status", "--week", WEEK, "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    assert '"status": "not yet"' in ok.output and f"board-email:{CHAIR}" in ok.output
    # The mail server refused it for good (as the worker would have recorded it).
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO digests (destination_id, period, status, error, created_at) "
                "VALUES (:d, :p, 'failed', 'smtp_550', CURRENT_TIMESTAMP)"
            ),
            {"d": f"board-email:{CHAIR}", "p": WEEK},
        )
    engine.dispose()
    failed = runner.invoke(cli, ["digest", "status", "--week", WEEK], env=env)
    assert failed.exit_code == 1
    assert "smtp_550" in failed.output and "learnloop digest retry" in failed.output
    retried = runner.invoke(
        cli, ["digest", "retry", "--destination", "board-email", "--week", WEEK], env=env
    )
    assert retried.exit_code == 0, retried.output
    assert "pending again" in retried.output
    again = runner.invoke(
        cli, ["digest", "retry", "--destination", "board-email", "--week", WEEK], env=env
    )
    assert again.exit_code == 1 and "nothing to retry" in again.output
