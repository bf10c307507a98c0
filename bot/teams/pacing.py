"""Pacing Bot Connector calls under Microsoft's published limits for Teams bots.

Microsoft publishes these limits ("Optimize your bot with rate limiting in Teams",
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit):

- per bot per thread (a 1:1 chat, a group chat or a channel conversation), sending to the
  conversation: 7 operations in 1 second, 8 in 2 seconds, 60 in 30 seconds, 1800 in 3600
  seconds;
- a global limit per app per tenant of 50 requests per second.

Every call a bot makes counts against them (sends, updates, roster fetches) and a call over
them gets HTTP 429, with a Retry-After. So each call takes a turn here: a tenant's turns are
spaced at `TENANT_RATE` (under the 50 a second, leaving room for the web process's replies),
and a conversation's turns keep under every window of the per-thread table. A 429 holds back
the tenant (Teams does not say which limit it was) for its Retry-After.

Unlike Slack's, these limits are published, so this pacer does not learn them; it only honours
what the service says when it refuses.

The per-tenant limit is the app's, whichever process calls: with several workers each keeps to
its share, `TENANT_RATE` ÷ the workers running (`workers`, asked at most every
`WORKERS_REFRESH` seconds; on PostgreSQL the workers' presence locks say how many there are).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# (operations, seconds): the per bot per thread limits for sending to one conversation.
THREAD_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# Per app per tenant: Microsoft allows 50 requests a second; the worker keeps under 45.
TENANT_LIMIT = 50.0
TENANT_RATE = 45.0
LONGEST_WINDOW = max(seconds for _, seconds in THREAD_LIMITS)
# Conversations whose last turn is this far back are forgotten once there are this many.
FORGET_AFTER = 1000
WORKERS_REFRESH = 5.0  # seconds between asking how many workers share the tenant's limit


class TeamsPacer:
    """Turns for Bot Connector calls: per tenant, and per conversation (thread-safe)."""

    def __init__(
        self,
        tenant_rate: float = TENANT_RATE,
        thread_limits: tuple[tuple[int, float], ...] = THREAD_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        workers: Callable[[], int] | None = None,
    ) -> None:
        self.tenant_rate = tenant_rate
        # How many workers send into the tenants (each keeps to its share); None: this one.
        self.workers = workers
        self._sharing = 1
        self._asked = float("-inf")
        self.thread_limits = thread_limits
        self._clock = clock
        self._lock = threading.Lock()
        self._tenant_next: dict[str, float] = {}
        self._tenant_blocked: dict[str, float] = {}
        self._turns: dict[str, deque[float]] = {}  # a conversation's turns, oldest first
        self.rate_limits = 0

    def reserve(self, tenant: str | None, conversation: str) -> float:
        """Take the next turn for a call into `conversation`; seconds to wait for it (0: now)."""
        key = tenant or ""
        sharing = self.sharing()
        with self._lock:
            now = self._clock()
            turns = self._turns.setdefault(conversation, deque())
            turn = max(now, self._tenant_next.get(key, 0.0), self._tenant_blocked.get(key, 0.0))
            turn = self._thread_turn(turns, turn)
            self._tenant_next[key] = turn + sharing / self.tenant_rate
            turns.append(turn)
            while turns and turns[0] <= turn - LONGEST_WINDOW:
                turns.popleft()
            if len(self._turns) > FORGET_AFTER:
                self._turns = {
                    c: t for c, t in self._turns.items() if t and t[-1] > now - LONGEST_WINDOW
                }
            return max(0.0, turn - now)

    def sharing(self) -> int:
        """How many workers share each tenant's rate now (asked again every few seconds)."""
        if self.workers is None:
            return 1
        now = self._clock()
        if now - self._asked >= WORKERS_REFRESH:
            self._asked = now
            self._sharing = max(1, self.workers())
        return self._sharing

    def _thread_turn(self, turns: deque[float], turn: float) -> float:
        """The earliest time at or after `turn` that keeps the conversation under every window."""
        moved = True
        while moved:
            moved = False
            for count, seconds in self.thread_limits:
                if len(turns) < count:
                    continue
                # The `count`-th most recent turn must have left the window first.
                earliest = turns[-count] + seconds
                if earliest > turn:
                    turn, moved = earliest, True
        return turn

    def rate_limited(self, tenant: str | None, retry_after: float) -> None:
        """Teams said 429: the tenant's next turn is `retry_after` seconds away at the earliest."""
        key = tenant or ""
        with self._lock:
            self.rate_limits += 1
            until = self._clock() + retry_after
            self._tenant_blocked[key] = max(self._tenant_blocked.get(key, 0.0), until)

    def hold(self, tenant: str | None, seconds: float) -> None:
        """Another worker was told 429 in this tenant: its next turn is `seconds` away."""
        key = tenant or ""
        with self._lock:
            until = self._clock() + seconds
            self._tenant_blocked[key] = max(self._tenant_blocked.get(key, 0.0), until)
