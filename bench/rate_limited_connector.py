"""A fake Bot Connector (one Teams tenant's regional service) with Microsoft-style send limits.

Microsoft documents the Bot Connector's limits per bot and conversation (7 messages a second,
short bursts aside) and per bot across a tenant's conversations; beyond them it answers HTTP 429
with Retry-After. This wraps the tests' fake connector (tests/teams_connector.py) with a token
bucket per conversation and one for the whole tenant, and records each accepted send, so a
benchmark counts what Teams really received. It does not depend on pytest.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from teams_connector import FakeBotConnector  # noqa: E402

from bot.views.checkin import CheckinAction  # noqa: E402

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """One activity a tenant accepted."""

    tenant: str
    conversation_id: str
    at: float
    # The activity carries the prompt's buttons (a prompt or its reminder, not e.g. the
    # weekly alliance note, which also goes to each person's 1:1 chat).
    checkin: bool = False


class RateLimitedConnector(FakeBotConnector):
    """The fake Bot Connector with a send limit per conversation and per tenant."""

    def __init__(self, tenant: str, per_conversation: float, per_tenant: float) -> None:
        """Limits are sends a second; each bucket holds one second's worth."""
        super().__init__()
        self.tenant = tenant
        self.per_conversation = per_conversation
        self.per_tenant = per_tenant
        self._tenant_bucket = [per_tenant, time.monotonic()]
        self._conversation_buckets: dict[str, list[float]] = {}
        self._sent: list[Sent] = []
        self.refused = 0
        self._limit_lock = threading.Lock()

    def __enter__(self) -> RateLimitedConnector:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def sent(self) -> list[Sent]:
        """Every accepted send (new activities, not updates), in order."""
        with self._limit_lock:
            return list(self._sent)

    def forget_sent(self) -> None:
        """Start counting afresh (between phases)."""
        with self._limit_lock:
            self._sent.clear()
            self.refused = 0

    @staticmethod
    def _take(bucket: list[float], rate: float, now: float) -> float:
        """Seconds until the bucket has a token (0: it has one; the caller takes it)."""
        tokens = min(rate, bucket[0] + (now - bucket[1]) * rate)
        bucket[0], bucket[1] = tokens, now
        if tokens < 1.0:
            return (1.0 - tokens) / rate
        return 0.0

    def _answer(
        self, verb: str, parts: list[str], body: JsonDict, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        sending = verb == "POST" and parts[:2] == ["v3", "conversations"] and len(parts) >= 4
        if sending:
            conversation = parts[2].split(";")[0]
            now = time.monotonic()
            with self._limit_lock:
                bucket = self._conversation_buckets.setdefault(
                    conversation, [self.per_conversation, now]
                )
                wait = self._take(bucket, self.per_conversation, now) or self._take(
                    self._tenant_bucket, self.per_tenant, now
                )
                if wait:
                    self.refused += 1
                    error = {"error": {"code": "TooManyRequests", "message": "throttled"}}
                    return 429, error, {"Retry-After": str(max(1, math.ceil(wait)))}
                # Both tokens are taken only when both buckets had one.
                self._conversation_buckets[conversation][0] -= 1.0
                self._tenant_bucket[0] -= 1.0
        status, answer, extra = super()._answer(verb, parts, body, headers)
        if sending and status < 300:
            with self._limit_lock:
                checkin = CheckinAction.SHARE_LEARNING.value in json.dumps(body)
                conversation = parts[2].split(";")[0]
                self._sent.append(Sent(self.tenant, conversation, time.time(), checkin))
        return status, answer, extra
