"""Pacing one Web API method so a fan-out runs close to Slack's rate limit without tripping it.

Slack answers calls over its limit with 429 and a Retry-After in whole seconds. A 429 holds
every caller back until Retry-After has passed, so each one costs the whole fan-out about a
second: it pays to send just under the limit rather than to bounce off it. The limit is not
published for chat.postMessage and differs between workspaces, so the pacer learns it.

It starts at `initial` calls a second and grows 50% every half second until the first 429 (a
slow start). At a 429 Slack had nothing left to give, so what it took just before says what it
allows. Only time spent sending counts — never the pacer's own Retry-After pause, nor a quiet
spell before a fan-out began. Two readings are taken:

- *what it took in the last second* (never more than the pacer was sending at): the limit
  itself where Slack counts calls in a sliding second, but an overestimate where it lets a
  stored burst through first;
- *what it took over the whole run of sending, counted as if one extra second had been spent*
  (the burst a bucket holds): the limit itself where Slack lets a second's burst through, and
  an underestimate of it, shrinking as the run lengthens, otherwise.

The pacer settles at 98% of the lower reading and climbs quickly (a quarter of the gap every
half second) to 98% of the higher one; from there it probes upward by 1% every `probe_every`
seconds, so it finds a limit that rose. A probe that finds the same limit again waits twice as
long before the next (up to 8×), as each probe costs a 429.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger(__name__)

SLOW_START_GROWTH = 1.25
FEEL_GROWTH = 1.05  # per step, after a reading from a short run
TOOK_ALL = 0.95  # a last second this close to the rate sent means Slack refused none of it
RAN_AHEAD = 0.9  # a run whose average is below this share of its last second sped up
TRUSTED_RUN = 2.0  # seconds of sending before a 429 for its last second to be a target
STEP_EVERY = 0.5  # seconds between slow-start steps, and between steps of climbing back
CLIMB = 0.25  # share of the gap to the higher reading closed at each step
SETTLE_FRACTION = 0.98
PROBE_GROWTH = 1.01
WINDOW = 1.0  # seconds: the last second's reading, and the burst a bucket may hold
IDLE = 1.0  # a gap this long between calls starts a new run of sending
# A new reading this close to the last one confirms it; probes then come less often.
SAME_LIMIT = 0.03
MAX_PROBE_BACKOFF = 8


class Pacer:
    """A shared, self-tuning spacing of calls (thread-safe)."""

    def __init__(
        self,
        initial: float = 25.0,
        ceiling: float = 1000.0,
        floor: float = 0.5,
        probe_every: float = 10.0,
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
        self._last_change = clock()
        self._accepted: deque[float] = deque()  # calls Slack took in the last second
        self._run_start: float | None = None  # this run of sending: since when, how many
        self._run_count = 0
        self._last_call = float("-inf")
        self.limit: float | None = None  # the lower reading at the last 429
        self.target: float | None = None  # where the pacer climbs back to after a 429
        self.rate_limits = 0
        self._probe_every = probe_every

    def acquire(self) -> None:
        """Wait for this caller's turn (after any Retry-After pause, even one that began since)."""
        while True:
            turn = self.reserve()
            wait = turn - self._clock()
            if wait > 0:
                self._sleep(wait)
            if self.still_clear():
                return

    def reserve(self) -> float:
        """Take the next turn and return when it is (the clock's time)."""
        with self._lock:
            turn = max(self._clock(), self._next, self._blocked_until)
            self._next = turn + 1.0 / self.rate
            return turn

    def still_clear(self) -> bool:
        """Whether a caller whose turn has come may go: no Retry-After pause began meanwhile.

        A turn given out before a 429 was spaced for the old rate, and Slack asked everyone to
        wait: such a caller takes a new turn instead.
        """
        with self._lock:
            return self._clock() >= self._blocked_until

    def succeeded(self) -> None:
        """Note an accepted call; grow the rate while Slack keeps accepting."""
        with self._lock:
            now = self._clock()
            self._took(now)
            if self.limit is None:
                if now - self._last_change >= STEP_EVERY:
                    self._set_rate(self.rate * SLOW_START_GROWTH, now)
            elif self.target is None:  # the last reading was too short to trust: feel upward
                if now - self._last_change >= STEP_EVERY:
                    self._set_rate(self.rate * FEEL_GROWTH, now)
            elif self.rate < self.target:
                if now - self._last_change >= STEP_EVERY:
                    step = max(CLIMB * (self.target - self.rate), 0.01 * self.rate)
                    self._set_rate(min(self.target, self.rate + step), now)
            elif now - self._last_change >= self._probe_every:
                self._set_rate(self.rate * PROBE_GROWTH, now)

    def failed(self) -> None:
        """Note a call Slack answered with a server error: it counted against the limit too."""
        with self._lock:
            self._took(self._clock())

    def rate_limited(self, retry_after: float) -> None:
        """Slack said 429: hold everyone back for Retry-After and settle below what it took."""
        with self._lock:
            now = self._clock()
            self.rate_limits += 1
            # Several callers see the same 429 burst: estimate once per burst, not per caller.
            if now >= self._blocked_until:
                self._estimate(now)
            self._blocked_until = max(self._blocked_until, now + retry_after)
            # The pause is not sending time: the next run of sending starts after it.
            self._accepted.clear()
            self._run_start, self._run_count = None, 0
            self._last_change = now

    def hold(self, seconds: float) -> None:
        """Another worker was told 429 in this workspace: hold every sender back as long.

        Slack said nothing to this worker about its own rate, so the estimate is left alone;
        the pause is not sending time, as after a 429 of its own.
        """
        with self._lock:
            now = self._clock()
            until = now + seconds
            if until <= self._blocked_until:
                return
            self._blocked_until = until
            self._accepted.clear()
            self._run_start, self._run_count = None, 0

    def relearn(self) -> None:
        """Forget the limit learned: another process that shared this workspace's limit has
        stopped, so this one may take all of it. From the rate now, the slow start grows again
        until Slack says 429 (one 429, where a probe would take minutes to climb)."""
        with self._lock:
            self.limit = self.target = None
            self._last_change = self._clock()

    def _took(self, now: float) -> None:
        if self._run_start is None or now - self._last_call > IDLE:
            self._run_start, self._run_count = max(now - 1.0 / self.rate, 0.0), 0
        self._run_count += 1
        self._last_call = now
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - WINDOW:
            self._accepted.popleft()

    def _set_rate(self, rate: float, now: float) -> None:
        self.rate = max(self.floor, min(self.ceiling, rate))
        self._last_change = now

    def _estimate(self, now: float) -> None:
        before = self.rate
        last_second = float(sum(1 for t in self._accepted if t >= now - WINDOW))
        sending = now - self._run_start if self._run_start is not None else 0.0
        whole_run = self._run_count / (sending + WINDOW)
        high = min(before, last_second) if last_second else before * SETTLE_FRACTION
        average = self._run_count / sending if sending > 0 else high
        if high >= TOOK_ALL * before and average < RAN_AHEAD * high:
            # Slack took all we sent until it said 429, and the run went faster at its end
            # than on average: that second was a stored burst running out, and says only what
            # we sent. The run's plain average is the better (still generous) guess.
            high = average
        low = min(high, whole_run) if self._run_count else high
        if self.limit is not None and abs(high - (self.target or 0) / SETTLE_FRACTION) <= (
            SAME_LIMIT * high
        ):
            # Probing found the limit where it was: probe less often (each probe costs a 429).
            self._probe_every = min(self._probe_every * 2, self.probe_every * MAX_PROBE_BACKOFF)
        else:
            self._probe_every = self.probe_every
        # A short run's last second may be mostly a burst Slack had stored up: not a target.
        self.limit = low
        self.target = high * SETTLE_FRACTION if sending >= TRUSTED_RUN else None
        self._set_rate(low * SETTLE_FRACTION, now)
        log.info(
            "slack pacer: 429 after %.1f s of sending at %.1f/s (%d calls taken in the last "
            "second, %d in the run); rate now %.1f/s, climbing to %.1f/s",
            sending,
            before,
            last_second,
            self._run_count,
            self.rate,
            self.target or self.rate,
        )


# The key of the one workspace a single-workspace deployment sends in.
ONE_WORKSPACE = ""


class WorkspacePacers:
    """One adaptive `Pacer` per Slack workspace, made the first time a workspace sends.

    Slack's limits are per workspace (per app and team): each workspace learns its own, and
    a 429 (with its Retry-After pause) in one never holds back another. A single-workspace
    deployment is simply one key (`ONE_WORKSPACE`).
    """

    def __init__(self, make: Callable[[], Pacer] = Pacer) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._pacers: dict[str, Pacer] = {}

    def for_workspace(self, workspace: str | None) -> Pacer:
        """The workspace's pacer (created now if this is its first paced send)."""
        key = workspace or ONE_WORKSPACE
        with self._lock:
            pacer = self._pacers.get(key)
            if pacer is None:
                pacer = self._pacers[key] = self._make()
            return pacer

    def known(self) -> dict[str, Pacer]:
        """Every workspace's pacer so far (a copy: for metrics and tests)."""
        with self._lock:
            return dict(self._pacers)


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
    """The stock 429 handler, except for paced methods: their 429 goes back to the caller, who
    tells the pacer and retries through it (so retries count against the rate too)."""

    def __init__(self, pacers: Collection[str], max_retry_count: int = 1, **kwargs: Any) -> None:
        super().__init__(max_retry_count=max_retry_count, **kwargs)
        self.pacers = frozenset(pacers)  # the paced methods' names

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

    def __init__(self, pacers: Collection[str], max_retry_count: int = 1, **kwargs: Any) -> None:
        super().__init__(max_retry_count=max_retry_count, **kwargs)
        self.pacers = frozenset(pacers)  # the paced methods' names

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
