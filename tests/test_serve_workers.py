"""`learnloop serve --workers 2` as a real process tree: the check-in loop goes through both
workers, and a burst of 200 "Share a learning" clicks is answered and stored in full.

The server is started once for the module (a SQLite file, the fake Slack Web API in this test
process); the waits are generous because worker start-up is slow on a busy machine, and no
test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_api import FakeSlackAPI
from slack_requests import (
    SignedRequest,
    block_actions,
    message_im,
    new_trigger_id,
    slash_command,
    view_submission,
)
from slack_ui import button, fill
from sqlalchemy import text
from worker_process import wait_for, worker_env, write_config

from bot.app import build
from bot.settings import Settings
from bot.slack.ids import View
from storage.db import make_engine

SECRET = "process-test-secret"  # worker_env's signing secret
LOOP_MEMBERS = [f"U0L{i:04d}" for i in range(6)]
BURST_MEMBERS = [f"U0B{i:04d}" for i in range(200)]
START_SECONDS = 240  # uvicorn's workers import and build everything before they answer
ANSWER = "We rang housing before discharge"
VISIBILITY = "The alliance, with my name"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """The running `serve --workers 2` and what it talks to."""

    proc: subprocess.Popen[bytes]
    url: str
    slack: FakeSlackAPI
    database_url: str
    log_path: Path
    folder: Path

    def post(self, req: SignedRequest) -> httpx.Response:
        """One signed request on a new connection, so the kernel picks a worker each time."""
        with httpx.Client(timeout=120) as http:
            return http.post(self.url + "/slack/events", content=req.body, headers=req.headers)

    def scalar(self, sql: str) -> Any:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def access_pids(self) -> Counter[int]:
        """Which worker process answered each Slack request, from the access lines."""
        pids: Counter[int] = Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "learnloop.http" and entry.get("route") == "/slack/events":
                pids[int(entry["pid"])] += 1
        return pids

    def children(self) -> set[int]:
        """The serve process's worker processes (not its multiprocessing helper)."""
        found = set()
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(self.proc.pid):
                cmdline = (status.parent / "cmdline").read_bytes()
                if b"spawn_main" in cmdline:
                    found.add(int(status.parent.name))
        return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`learnloop serve --workers 2` on a SQLite file, prompts already sent to everyone."""
    folder = tmp_path_factory.mktemp("serve-workers")
    slack = FakeSlackAPI().start()
    alliance = {
        "alliance": {"name": "Workers Alliance", "timezone": "Europe/London"},
        "themes": ["Housing", "Hospital discharge"],
        "agencies": [
            {"id": "loop", "name": "Loop Agency", "members": LOOP_MEMBERS},
            {"id": "burst", "name": "Burst Agency", "members": BURST_MEMBERS},
        ],
        "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
    }
    config = write_config(folder, alliance)
    database_url = f"sqlite:///{folder / 'learnloop.db'}"
    env = worker_env(database_url, slack.url, config)
    env["LOG_FORMAT"] = "json"
    port = free_port()
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--workers", "2"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    served = Served(proc, url, slack, database_url, log_path, folder)
    try:

        def both_up() -> bool:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                return (
                    len(served.children()) == 2
                    and httpx.get(url + "/healthz", timeout=5).status_code == 200
                )
            except httpx.HTTPError:
                return False

        wait_for(both_up, START_SECONDS, "two workers answering /healthz", poll=0.5)
        # This cycle's prompts, sent as the worker process would (the web workers only answer).
        sender = build(_settings(env))
        try:
            sender.services.prompts.send("weekly", now=True)
        finally:
            sender.engine.dispose()
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        slack.stop()


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=env["SLACK_BOT_TOKEN"],
        slack_signing_secret=env["SLACK_SIGNING_SECRET"],
        slack_api_url=env["SLACK_API_URL"],
        database_url=env["DATABASE_URL"],
        learnloop_config=Path(env["LEARNLOOP_CONFIG"]),
    )


def prompt_button(slack: FakeSlackAPI, user_id: str, label: str) -> dict[str, Any]:
    (call,) = [c for c in slack.calls("chat.postMessage") if c.params["channel"] == user_id]
    return button(call.json_field("blocks"), label)


def opened_for(slack: FakeSlackAPI, trigger_id: str) -> dict[str, Any]:
    """The modal LearnLoop opened in answer to the request with this trigger id."""
    wait_for(
        lambda: any(c.params.get("trigger_id") == trigger_id for c in slack.calls("views.open")),
        120,
        f"views.open for {trigger_id}",
    )
    call = next(c for c in slack.calls("views.open") if c.params.get("trigger_id") == trigger_id)
    return call.json_field("view")


def submission(user_id: str, view: dict[str, Any], answer: str) -> SignedRequest:
    return view_submission(
        View.CHECKIN,
        fill(
            view, {"What happened that you learned from?": answer, "Who can see this?": VISIBILITY}
        ),
        user_id=user_id,
        private_metadata=view["private_metadata"],
        view_id=f"V{user_id}",
        signing_secret=SECRET,
    )


def test_the_checkin_loop_runs_through_both_workers(served: Served) -> None:
    for user_id in LOOP_MEMBERS:
        share = prompt_button(served.slack, user_id, "Share a learning")
        trigger = new_trigger_id()
        click = block_actions(
            share["action_id"],
            share["value"],
            user_id=user_id,
            trigger_id=trigger,
            signing_secret=SECRET,
        )
        assert served.post(click).status_code == 200
        view = opened_for(served.slack, trigger)
        assert json.loads(view["private_metadata"]) == {"prompt_id": int(share["value"])}
        saved = served.post(submission(user_id, view, f"{ANSWER} ({user_id})"))
        assert saved.status_code == 200
        # Stored before the modal closed, whichever worker took the submission.
        assert (
            served.scalar(
                "SELECT count(*) FROM checkins c JOIN members m ON m.id = c.member_id "
                f"WHERE m.platform_user_id = '{user_id}' AND c.source = 'modal'"
            )
            == 1
        )
        reply = message_im(f"A plain reply from {user_id}", user_id=user_id, signing_secret=SECRET)
        assert served.post(reply).status_code == 200
        assert (
            served.scalar(
                "SELECT count(*) FROM checkins c JOIN members m ON m.id = c.member_id "
                f"WHERE m.platform_user_id = '{user_id}' AND c.source = 'dm_reply'"
            )
            == 1
        )
    answered = served.scalar(
        "SELECT count(*) FROM prompts p JOIN members m ON m.id = p.member_id "
        "WHERE m.agency_id = 'loop' AND p.status = 'answered'"
    )
    assert answered == len(LOOP_MEMBERS)
    # Each reply is confirmed in its DM.
    wait_for(
        lambda: all(
            any(
                "saved as a learning" in (m.get("text") or "")
                for m in served.slack.messages(f"D{u}")
            )
            for u in LOOP_MEMBERS
        ),
        120,
        "every reply confirmed",
    )
    # Until both workers have answered some of it (the kernel hands connections to either).
    for _ in range(200):
        if len(served.access_pids()) >= 2:
            break
        check = slash_command("/checkin", user_id=LOOP_MEMBERS[0], signing_secret=SECRET)
        assert served.post(check).status_code == 200
        time.sleep(0.05)
    pids = served.access_pids()
    assert set(pids) == served.children() and len(pids) == 2, (pids, served.children())
    # Only LearnLoop's access line (the route), never uvicorn's (the raw path and query).
    assert '"uvicorn.access"' not in served.log_path.read_text(errors="replace")


async def _all(requests: list[SignedRequest], url: str, at_once: int) -> list[int]:
    """Send every request, `at_once` in flight; their HTTP statuses in order."""
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=180, limits=limits) as http:
        responses = await asyncio.gather(
            *(http.post(url, content=r.body, headers=r.headers) for r in requests)
        )
    return [r.status_code for r in responses]


def statuses_of(served: Served, requests: list[SignedRequest], at_once: int) -> Counter[int]:
    """How many of each HTTP status the requests got."""
    return Counter(asyncio.run(_all(requests, served.url + "/slack/events", at_once)))


def test_a_burst_of_200_clicks_is_answered_and_every_form_stored_once(served: Served) -> None:
    before = served.scalar("SELECT count(*) FROM checkins")
    triggers = {user_id: new_trigger_id() for user_id in BURST_MEMBERS}
    clicks = []
    for user_id in BURST_MEMBERS:
        share = prompt_button(served.slack, user_id, "Share a learning")
        clicks.append(
            block_actions(
                share["action_id"],
                share["value"],
                user_id=user_id,
                trigger_id=triggers[user_id],
                signing_secret=SECRET,
            )
        )
    # All 200 at once, as when a prompt has just reached the whole alliance.
    assert statuses_of(served, clicks, len(clicks)) == {200: len(clicks)}
    views = {user_id: opened_for(served.slack, triggers[user_id]) for user_id in BURST_MEMBERS}
    opened = Counter(c.params.get("trigger_id") for c in served.slack.calls("views.open"))
    assert all(opened[t] == 1 for t in triggers.values())  # one form per click

    forms = [submission(u, views[u], f"{ANSWER} ({u})") for u in BURST_MEMBERS]
    # People take their own time over the form: the saves come in a steady stream, each
    # stored before its ack (on SQLite one write at a time, whichever worker takes it).
    assert statuses_of(served, forms, 16) == {200: len(forms)}
    # Every modal that closed is stored, once.
    assert served.scalar("SELECT count(*) FROM checkins") - before == len(BURST_MEMBERS)
    engine = make_engine(served.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT m.platform_user_id, c.answers FROM checkins c "
                    "JOIN members m ON m.id = c.member_id WHERE m.agency_id = 'burst'"
                )
            ).all()
    finally:
        engine.dispose()
    authors = Counter(user_id for user_id, _ in rows)
    assert authors == Counter({u: 1 for u in BURST_MEMBERS})
    for user_id, answers in rows:
        stored = json.loads(answers) if isinstance(answers, str) else answers
        assert stored["learned"] == f"{ANSWER} ({user_id})"
