"""A live LearnLoop with the Learning Board on, people to sign in, and a week of learnings.

The app runs over real HTTP on 127.0.0.1 (BOARD_URL is http://127.0.0.1:PORT, so its cookies
may travel without TLS), its Slack client points at the fake Slack Web API (which also plays
Slack's OpenID Connect endpoints), and sign-in links are caught by a recording mailer.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import ALICE, BOB, CAROL, DAN, STEWARD, Clock_, alliance_config
from live_server import LiveServer
from slack_api import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, FakeSlackAPI
from slack_requests import SIGNING_SECRET
from sqlalchemy import text

from bot.app import LearnLoop, build
from bot.domain.checkins import Source
from bot.domain.escalation import Action
from bot.settings import Settings
from bot.web.routes import create_web_app

BOARD_KEY = "test-board-secret-key-0123456789"
CHAIR = "chair@board.example"
COMMISSIONER = "commissioner@council.example"
HOUSING_MANAGER = "lead@housing.example"
PEOPLE = [
    {"email": CHAIR, "name": "Pat Chair", "role": "board"},
    {"email": COMMISSIONER, "name": "Sam Commissioner", "role": "commissioner"},
    {"email": HOUSING_MANAGER, "name": "Jo Housing", "role": "manager:housing"},
]
# Words that must never reach anyone but their author's own team.
TEAM_ONLY_TEXT = "Only my team may read this note about the rota"
ANONYMOUS_TEXT = "Nobody asked where the person would sleep tonight"
# Thursday 19 November 2026 (the digest week is Monday 16 to Sunday 22).
NOW = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)


@dataclass
class RecordingMailer:
    """Stands in for the SMTP sender: keeps every sign-in link it was asked to send."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_signin_link(self, to: str, name: str, url: str) -> None:
        with self.lock:
            self.sent.append((to, name, url))

    def link_for(self, address: str) -> str:
        with self.lock:
            found = [url for to, _, url in self.sent if to == address]
        assert found, f"no sign-in link was sent to {address}"
        return found[-1]


@dataclass
class BoardLive:
    """The running app, its clock, the mailer and an HTTP client that keeps no cookies."""

    loop: LearnLoop
    server: LiveServer
    slack: FakeSlackAPI
    clock: Clock_
    mailer: RecordingMailer
    url: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20, follow_redirects=False)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.loop.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def link(self, email: str) -> str:
        """A fresh one-time link for someone, as `learnloop board-link` makes it."""
        from bot.web.board.routes import signin_url
        from bot.web.board.security import BoardSigner

        issued = self.loop.services.board.issue_link(email, "test")
        assert issued is not None
        jti, viewer = issued
        address = viewer.subject.removeprefix("email:")
        return signin_url(BoardSigner(BOARD_KEY), self.url, jti, address, self.clock())

    def sign_in(self, client: httpx.Client, email: str) -> httpx.Response:
        """Sign a client in through a fresh link (the confirm page, then its button)."""
        page = client.get(self.link(email))
        assert page.status_code == 200, page.text
        return client.post(
            "/board/signin/link",
            data={"csrf": csrf_of(page.text), "token": token_of(page.text)},
        )


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def token_of(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, "the page has no token field"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(loop: LearnLoop, clock: Clock_) -> None:
    """A week of learnings (every visibility) and three barriers, one closed with an outcome."""
    services = loop.services
    entries = [
        (ALICE, "team", ["Housing"], TEAM_ONLY_TEXT),
        (BOB, "alliance", ["Housing"], "Temporary accommodation was full again on Friday"),
        (CAROL, "alliance", ["Housing", "Hospital discharge"], "No beds for people leaving"),
        (DAN, "anonymous", ["Housing"], ANONYMOUS_TEXT),
        (CAROL, "alliance", ["Hospital discharge"], "Joint visits with the ward saved a week"),
    ]
    for minutes, (user, visibility, themes, said) in enumerate(entries):
        clock.now = NOW - dt.timedelta(hours=5, minutes=minutes)
        services.checkins.submit(
            "slack",
            user,
            answers={"learned": said},
            themes=themes,
            visibility=visibility,
            source=Source.MODAL,
        )
    clock.now = NOW - dt.timedelta(hours=2)
    services.escalations.raise_barrier(
        "slack",
        ALICE,
        title="No emergency beds after 5pm",
        description="Out of hours there is nowhere to place people",
        who_is_affected=None,
        agencies=["housing"],
        level=None,
        anonymous=True,
        checkin_ids=[],
    )
    services.escalations.raise_barrier(
        "slack",
        CAROL,
        title="Discharge letters arrive late",
        description="Letters reach the GP a week after discharge",
        who_is_affected=None,
        agencies=["hospital"],
        level=None,
        anonymous=False,
        checkin_ids=[],
    )
    closed = services.escalations.raise_barrier(
        "slack",
        BOB,
        title="Benefit forms need a printer",
        description="Claimants without a printer cannot send the form",
        who_is_affected=None,
        agencies=["housing", "hospital"],
        level=None,
        anonymous=False,
        checkin_ids=[],
    )
    clock.now = NOW - dt.timedelta(hours=1)
    barrier_id = closed.barrier_id
    services.escalations.act("slack", STEWARD, barrier_id, None, Action.ACKNOWLEDGE)
    services.escalations.act(
        "slack",
        STEWARD,
        barrier_id,
        None,
        Action.RESOLVE,
        note="The library prints the forms free since November",
    )
    clock.now = NOW


HOUSING_TEAM_ANSWER = "Waiting for the repairs team held up two moves home"
HOUSING_NAMED_ANSWER = "A key safe fitted on the day let people leave on time"
HOSPITAL_ANSWER = "Transport booked the day before made discharge smoother"


def run_inquiry(live: BoardLive) -> int:
    """An inquiry for the weekly cohort (every agency), answered in each agency."""
    services = live.loop.services
    started = services.inquiries.start("slack", STEWARD, "What slows a move home?", "weekly", 2)
    for user, visibility, answer in (
        (ALICE, "team", HOUSING_TEAM_ANSWER),
        (BOB, "alliance", HOUSING_NAMED_ANSWER),
        (CAROL, "alliance", HOSPITAL_ANSWER),
        (DAN, "anonymous", "Nobody knew who books the transport"),
    ):
        live.clock.advance(minutes=1)
        services.checkins.submit(
            "slack",
            user,
            answers={"learned": f"Learned: {answer}", "inquiry": answer},
            themes=["Housing"],
            visibility=visibility,
            source=Source.MODAL,
        )
    return started.id


@pytest.fixture
def board_live(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[BoardLive]:
    """LearnLoop with people listed and the board on, seeded, live over HTTP."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        board_secret_key=BOARD_KEY,
        board_url=url,
        board_slack_client_id=OIDC_CLIENT_ID,
        board_slack_client_secret=OIDC_CLIENT_SECRET,
    )
    clock = Clock_(NOW)
    loop = build(settings, alliance=alliance_config(people=PEOPLE), clock=clock)
    seed(loop, clock)
    mailer = RecordingMailer()
    loop.signin_mailer = mailer
    server = LiveServer(create_web_app(loop), port=port).start()
    live = BoardLive(loop, server, fake_slack, clock, mailer, url)
    yield live
    server.stop()
    loop.engine.dispose()
