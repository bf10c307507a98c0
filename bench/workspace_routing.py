"""Multi-workspace (OAuth) mode's cost: one token vs a token looked up and decrypted per call.

Side by side in one run, against the fake Slack Web API on 127.0.0.1, SQLite in a temp dir:

* outbound — `prompts send` to M members (two agencies): single-workspace (SLACK_BOT_TOKEN)
  vs OAuth mode with two installed workspaces, where every Web API call finds its workspace
  (alliance file or database), reads the bot row and decrypts the token;
* inbound — N signed `/checkin` requests into the live app: single-workspace vs OAuth with
  Bolt's authorize result cached per token (LearnLoop's setting) vs not cached (Bolt's default,
  one extra `auth.test` round trip per request).

Prints medians over rounds and the ratios.

    python bench/workspace_routing.py [--members 200] [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from live_server import LiveServer  # noqa: E402
from slack_api import TEAM_ID, FakeSlackAPI  # noqa: E402
from slack_requests import slash_command  # noqa: E402
from slack_sdk.oauth.installation_store.models.installation import Installation  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.app import LearnLoop, build  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.routes import create_web_app  # noqa: E402

SECRET = "bench-signing-secret"
TEAMS = ("T0AAAA", "T0BBBB")


def alliance(members: int) -> Any:
    half = members // 2
    return parse_alliance(
        {
            "alliance": {"name": "Bench", "timezone": "Europe/London", "slack_team": TEAMS[0]},
            "agencies": [
                {
                    "id": f"agency{i}",
                    "name": f"Agency {i}",
                    "team": TEAMS[i],
                    "members": [f"U{i}{n:06d}" for n in range(half)],
                }
                for i in (0, 1)
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        }
    )


def make(oauth: bool, db: Path, fake: FakeSlackAPI, members: int) -> LearnLoop:
    values: dict[str, Any] = {
        "_env_file": None,
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.url,
        "database_url": f"sqlite:///{db}",
        "log_level": "ERROR",
    }
    if oauth:
        values.update(
            slack_client_id="1.2",
            slack_client_secret="s",
            learnloop_encryption_key=Fernet.generate_key().decode(),
        )
    else:
        values["slack_bot_token"] = "xoxb-bench"
    loop = build(Settings(**values), alliance=alliance(members))
    if loop.installs is not None:
        for i, team in enumerate(TEAMS):
            loop.installs.store.save(
                Installation(
                    app_id="A1",
                    team_id=team,
                    bot_token=f"xoxb-{i}-" + base64.b32encode(bytes(20)).decode(),
                    bot_id="B1",
                    bot_user_id="UBOT",
                    user_id="UADMIN",
                    installed_at=time.time(),
                )
            )
    return loop


def outbound(oauth: bool, members: int, fake: FakeSlackAPI) -> float:
    """Seconds per prompt delivered."""
    with tempfile.TemporaryDirectory() as tmp:
        loop = make(oauth, Path(tmp) / "b.db", fake, members)
        started = time.perf_counter()
        report = loop.services.prompts.send("weekly", now=True)[0]
        elapsed = time.perf_counter() - started
        loop.engine.dispose()
    assert report.sent == members, report
    return elapsed / members


def lookup(calls: int, fake: FakeSlackAPI) -> float:
    """Seconds for the routing alone: find the workspace, read the bot row, decrypt the token."""
    with tempfile.TemporaryDirectory() as tmp:
        loop = make(True, Path(tmp) / "b.db", fake, 20)
        router = loop.client.router  # type: ignore[union-attr]
        users = [f"U1{n:06d}" for n in range(10)]
        started = time.perf_counter()
        for n in range(calls):
            token, _ = router.token_for({"channel": users[n % 10]})
            assert token
        elapsed = time.perf_counter() - started
        loop.engine.dispose()
    return elapsed / calls


def inbound(mode: str, requests: int, fake: FakeSlackAPI) -> float:
    """Seconds per acknowledged /checkin (median)."""
    with tempfile.TemporaryDirectory() as tmp:
        loop = make(mode != "single", Path(tmp) / "b.db", fake, 20)
        if mode == "oauth-uncached":
            loop.bolt._authorize.cache_enabled = False  # type: ignore[union-attr]  # noqa: SLF001
        server = LiveServer(create_web_app(loop)).start()
        # A single-workspace deployment serves the workspace its bot token belongs to (what
        # auth.test says: the fake's own team) and refuses others with 403; in OAuth mode the
        # request comes from one of the installed workspaces.
        team = TEAM_ID if mode == "single" else TEAMS[0]
        times = []
        with httpx.Client(timeout=10) as http:
            for n in range(requests):
                req = slash_command(
                    "/checkin",
                    user_id=f"U0{n % 10:06d}",
                    team_id=team,
                    enterprise_id=None,
                    enterprise_name=None,
                    response_url=fake.response_url(),
                    signing_secret=SECRET,
                )
                started = time.perf_counter()
                response = http.post(
                    server.url + "/slack/events", content=req.body, headers=req.headers
                )
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
        server.stop()
        loop.engine.dispose()
    # Each request did what a /checkin does (opened the check-in modal), not just answer 200.
    opened = len(fake.calls("views.open"))
    assert opened == requests, f"{mode}: {opened} modals opened for {requests} requests"
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with FakeSlackAPI() as fake:
        out: dict[bool, list[float]] = {False: [], True: []}
        inn: dict[str, list[float]] = {"single": [], "oauth": [], "oauth-uncached": []}
        routing: list[float] = []
        for _ in range(args.rounds):
            routing.append(lookup(1000, fake))
            for oauth in (False, True):
                out[oauth].append(outbound(oauth, args.members, fake))
                fake.reset()
            for mode in inn:
                inn[mode].append(inbound(mode, args.requests, fake))
                fake.reset()
    single, multi = statistics.median(out[False]), statistics.median(out[True])
    print(f"outbound: {args.members} prompts, median of {args.rounds} rounds, per prompt")
    print(f"  single workspace  {single * 1000:7.2f} ms")
    print(f"  OAuth, 2 installs {multi * 1000:7.2f} ms   ratio {multi / single:.2f}")
    print(f"  (the token lookup alone: {statistics.median(routing) * 1000:.3f} ms per call)")
    base = statistics.median(inn["single"])
    print(f"inbound: {args.requests} /checkin per round, median of round medians, per request")
    for mode, values in inn.items():
        value = statistics.median(values)
        print(f"  {mode:<17} {value * 1000:7.2f} ms   ratio {value / base:.2f}")


if __name__ == "__main__":
    main()
