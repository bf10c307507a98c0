"""Pacing one Web API method so a fan-out runs close to Slack's rate limit without tripping it.

Slack answers calls over its limit with 429 and a Retry-After in whole seconds. A 429 holds
every caller back until Retry-After has passed, so each one costs the whole fan-out about a
second: it pays to send just under the limit rather than to bounce off it. The limit is not
published for chat.postMessage and differs between workspaces, so the pacer learns it.

It starts at `initial` calls a second and grows 50% every half second until the first 429 (a
slow start). From then on it estimates the limit as the calls Slack accepted between two 429s
divided by the time between them (at both moments Slack had nothing left to give, so this is
what it really allows, bursts included), settles at 98% of that, and probes upward by 1% every
`probe_every` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

SLOW_START_GROWTH = 1.5
PROBE_GROWTH = 1.01
SETTLE_FRACTION = 0.98
SLOW_START_EVERY = 0.5  # seconds between slow-start steps


class Pacer:
    """A shared, self-tuning spacing of calls (thread-safe)."""

    def __init__(
        self,
        initial: float = 25.0,
        ceiling: float = 1000.0,
        floor: float = 0.5,
        probe_every: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = initial
        self.ceiling = ceiling
        self.floor = floor
        self.probe_every = probe_every
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0
        self._blocked_until = 0.0
        self._limited = False
        self._last_change = clock()
        self._accepted: deque[float] = deque()
        self._last_limited: float | None = None
        self._since_limited = 0
        self.rate_limits = 0

    def acquire(self) -> None:
        """Wait for this caller's turn."""
        with self._lock:
            now = self._clock()
            turn = max(now, self._next, self._blocked_until)
            self._next = turn + 1.0 / self.rate
        if turn > now:
            self._sleep(turn - now)

    def succeeded(self) -> None:
        """Note an accepted call; grow the rate while Slack keeps accepting."""
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            self._since_limited += 1
            while self._accepted and self._accepted[0] < now - 1.0:
                self._accepted.popleft()
            every = self.probe_every if self._limited else SLOW_START_EVERY
            if now - self._last_change >= every:
                growth = PROBE_GROWTH if self._limited else SLOW_START_GROWTH
                self.rate = min(self.ceiling, self.rate * growth)
                self._last_change = now

    def rate_limited(self, retry_after: float) -> None:
        """Slack said 429: hold everyone back for Retry-After and settle below what it took."""
        with self._lock:
            now = self._clock()
            self.rate_limits += 1
            # Several callers see the same 429 burst: cut the rate once per burst, not per caller.
            if now >= self._blocked_until:
                if self._last_limited is not None and now - self._last_limited > 1.0:
                    allowed = self._since_limited / (now - self._last_limited)
                else:  # the first 429: all we know is what got through in the last second
                    allowed = sum(1 for t in self._accepted if t >= now - 1.0)
                target = allowed * SETTLE_FRACTION if allowed >= self.rate / 2 else self.rate / 2
                self.rate = max(self.floor, min(self.rate * 0.98, target))
                self._last_limited, self._since_limited = now, 0
            self._blocked_until = max(self._blocked_until, now + retry_after)
            self._limited = True
            self._last_change = now


CHANNEL_INTERVAL = 1.1  # seconds between posts into one conversation (Slack allows ~1/s)


class ChannelPacer:
    """Spaces posts into each conversation, and holds one back for its Retry-After (thread-safe).

    Slack allows about one message a second into a channel (short bursts aside), whatever the
    workspace-wide limit: a digest's head, replies and chart all go into the same channel.
    """

    def __init__(
        self,
        interval: float = CHANNEL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait_for(self, channel: str) -> float:
        """Seconds until `channel`'s next turn (0 if now), without taking it."""
        with self._lock:
            return max(0.0, self._next.get(channel, 0.0) - self._clock())

    def acquire(self, channel: str) -> None:
        """Wait for the channel's turn, and take it."""
        with self._lock:
            now = self._clock()
            if len(self._next) > 1000:  # forget channels whose turn has long passed
                self._next = {c: t for c, t in self._next.items() if t > now}
            turn = max(now, self._next.get(channel, 0.0))
            self._next[channel] = turn + self.interval
        if turn > now:
            self._sleep(turn - now)

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said 429 for this channel: its next turn is `seconds` from now at the earliest."""
        with self._lock:
            until = self._clock() + seconds
            self._next[channel] = max(self._next.get(channel, 0.0), until)


def _method(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1].split("?", 1)[0]


class PacedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """The stock 429 handler, except for paced methods: their 429 goes to the pacer and back to
    the caller, who retries through the pacer (so retries count against the rate too)."""

    def __init__(self, pacers: dict[str, Pacer], max_retry_count: int = 1, **kwargs: Any) -> None:
        super().__init__(max_retry_count=max_retry_count, **kwargs)
        self.pacers = pacers

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        # The messenger tells the pacer (it knows which posts are paced) and retries.
        return _method(request) not in self.pacers


class PacedServerErrorRetryHandler(ServerErrorRetryHandler):
    """The stock 5xx handler, except for paced methods, which the caller retries via the pacer."""

    def __init__(self, pacers: dict[str, Pacer], max_retry_count: int = 1, **kwargs: Any) -> None:
        super().__init__(max_retry_count=max_retry_count, **kwargs)
        self.pacers = pacers

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in self.pacers:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)
