"""One fake Slack Web API for many workspaces, each with its own chat.postMessage limit.

In OAuth mode every workspace's install has its own bot token, and that token is how this fake
tells the workspaces apart: `chat.postMessage` calls beyond a workspace's limit get HTTP 429 with
`Retry-After` (a token bucket per workspace holding one second's worth, as Slack allows short
bursts), whatever the other workspaces do. Everything else is the tests' fake Slack
(tests/slack_api.py). Every accepted post is recorded with its workspace, so a benchmark counts
duplicates and misses from what the "platform" really received.

Used by bench/weekly_cycle.py and its test; it does not depend on pytest.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from slack_api import APP_ID, BOT_ID, BOT_USER_ID, Call, FakeSlackAPI, _Scripted  # noqa: E402

POST = "chat.postMessage"


@dataclass(frozen=True)
class Post:
    """One message a workspace accepted."""

    team: str
    channel: str
    tag: str | None  # the message metadata's event_type (prompt, reminder, digest part)
    key: str  # what makes it unique: the prompt id, or the digest and part
    thread_ts: str | None
    at: float


class MultiWorkspaceSlack(FakeSlackAPI):
    """The fake Slack, with a chat.postMessage limit per workspace (told apart by token)."""

    def __init__(self, tokens: dict[str, str], rates: dict[str, float]) -> None:
        """`tokens` maps each bot token to its workspace (team id); `rates` each team's limit."""
        super().__init__()
        self.team_of = dict(tokens)
        self.rates = dict(rates)
        self._buckets = {team: [rate, time.monotonic()] for team, rate in rates.items()}
        self._posts: list[Post] = []
        self._refused: Counter[str] = Counter()
        self._unknown = 0
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- what was received

    def posts(self) -> list[Post]:
        """Every accepted chat.postMessage, in order of acceptance."""
        with self._lock:
            return list(self._posts)

    def refused(self) -> Counter[str]:
        """429s answered, per workspace."""
        with self._lock:
            return Counter(self._refused)

    @property
    def unknown_tokens(self) -> int:
        """Calls whose token is no workspace's (must stay 0)."""
        return self._unknown

    def forget_posts(self) -> None:
        """Start counting afresh (between phases)."""
        with self._lock:
            self._posts.clear()
            self._refused.clear()

    # ---------------------------------------------------------------- answering

    def _team_limited(self, team: str) -> _Scripted | None:
        rate = self.rates.get(team)
        if rate is None:
            return None
        bucket = self._buckets[team]
        now = time.monotonic()
        tokens = min(rate, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            wait = max(1, math.ceil((1.0 - tokens) / rate))
            return _Scripted({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        bucket[0] = tokens - 1.0
        return None

    def _respond_api(self, call: Call) -> _Scripted:
        team = self.team_of.get(call.token or "")
        if team is None:
            with self._lock:
                self._unknown += 1
        if call.method == "auth.test" and team is not None:
            self._record(call)
            body = {
                "ok": True,
                "url": f"https://{team.lower()}.slack.com/",
                "team": team,
                "user": "learnloop",
                "team_id": team,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "is_enterprise_install": False,
            }
            return _Scripted(body, 200, {})
        if call.method == POST and team is not None:
            with self._lock:
                refused = self._team_limited(team)
                if refused is not None:
                    self._refused[team] += 1
            if refused is not None:
                self._record(call)
                return refused
        answer = super()._respond_api(call)
        if call.method == POST and answer.status == 200 and answer.body.get("ok"):
            self._remember(team or "?", call, answer.body)
        return answer

    def _remember(self, team: str, call: Call, body: dict[str, Any]) -> None:
        metadata = call.params.get("metadata") or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        tag = metadata.get("event_type") if isinstance(metadata, dict) else None
        payload = metadata.get("event_payload") or {} if isinstance(metadata, dict) else {}
        key = json.dumps(payload, sort_keys=True) if payload else str(body.get("ts"))
        post = Post(
            team=team,
            channel=str(body.get("channel")),
            tag=tag,
            key=key,
            thread_ts=call.params.get("thread_ts") or None,
            at=time.time(),
        )
        with self._lock:
            self._posts.append(post)
