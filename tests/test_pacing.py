"""The pacers' logic on a fake clock: what they estimate, how they recover, how they space posts.

No real time passes: `sleep` advances the fake clock. The limiters below model the two ways a
rate limit is commonly enforced (a token bucket with a second's burst, as the fake Slack Web
API does, and a sliding one-second window) so the estimator is checked against both.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque

import pytest

from bot.slack.pacing import ChannelPacer, Pacer

R = 50.0


class FakeClock:
    """Monotonic seconds that only move when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Bucket:
    """Slack-like token bucket: `rate` a second, holding one second's worth."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate, self.tokens, self.last = rate, rate, now

    def call(self, now: float) -> float | None:
        """None if accepted, else the Retry-After (whole seconds)."""
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return max(1, math.ceil((1.0 - self.tokens) / self.rate))
        self.tokens -= 1.0
        return None


class Window:
    """At most `rate` accepted calls in any trailing second."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate, self.accepted = rate, deque[float]()

    def call(self, now: float) -> float | None:
        """None if accepted, else the Retry-After (whole seconds)."""
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= self.rate:
            return max(1, math.ceil(self.accepted[0] + 1.0 - now))
        self.accepted.append(now)
        return None


def fan_out(
    limiter_kind: type[Bucket] | type[Window],
    seconds: float = 100.0,
    senders: int = 8,
    latency: float = 0.04,
    failures: float = 0.02,
) -> float:
    """Senders sharing a pacer against a limiter; the accepted rate as a share of R.

    A discrete-event run of the worker's shape: each sender takes its turn from the pacer,
    its call reaches the limiter half a round trip later and the answer comes back after the
    other half, when the pacer hears of it; a share of calls fail with a 5xx (taking a token,
    as a real server error does) and that sender backs off for half a second.
    """
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    limiter = limiter_kind(R, clock.now)
    rng = random.Random(7)
    start, accepted = clock.now, 0
    events = [(start, n, "turn", 0.0) for n in range(senders)]
    heapq.heapify(events)
    while events:
        at, sender, what, retry_after = heapq.heappop(events)
        clock.now = at
        if at - start >= seconds:
            break
        if what == "turn":
            heapq.heappush(events, (pacer.reserve(), sender, "go", 0.0))
        elif what == "go":
            if not pacer.still_clear():  # a 429 came while this sender waited
                heapq.heappush(events, (at, sender, "turn", 0.0))
                continue
            heapq.heappush(events, (at + latency / 2, sender, "arrive", 0.0))
        elif what == "arrive":
            refused = limiter.call(at)
            failed = refused is None and rng.random() < failures
            answer = "failed" if failed else ("ok" if refused is None else "429")
            heapq.heappush(events, (at + latency / 2, sender, answer, float(refused or 0)))
        elif what == "ok":
            accepted += 1
            pacer.succeeded()
            heapq.heappush(events, (at, sender, "turn", 0.0))
        elif what == "429":
            pacer.rate_limited(retry_after)
            heapq.heappush(events, (at, sender, "turn", 0.0))
        else:  # a 5xx: this sender backs off, then tries again through the pacer
            pacer.failed()
            heapq.heappush(events, (at + 0.5, sender, "turn", 0.0))
    return accepted / (clock.now - start) / R


@pytest.mark.parametrize(
    ("limiter", "at_least"),
    [(Bucket, 0.95), (Window, 0.92)],
    ids=["token bucket", "sliding window"],
)
def test_a_fan_out_runs_close_to_the_limit(
    limiter: type[Bucket] | type[Window], at_least: float
) -> None:
    # 2% of calls fail with a 5xx (and use up the limit), so 0.98 is the most there is. A
    # sliding window banks nothing for a pause, so each 429 there costs a second outright.
    assert fan_out(limiter) >= at_least


def feed(pacer: Pacer, clock: FakeClock, per_second: float, seconds: float) -> None:
    """Slack accepts `per_second` calls for `seconds`."""
    for _ in range(round(per_second * seconds)):
        clock.now += 1.0 / per_second
        pacer.succeeded()


def test_the_estimate_leaves_out_the_retry_after_pause_and_recovers_quickly() -> None:
    clock = FakeClock()
    pacer = Pacer(initial=51.0, clock=clock, sleep=clock.sleep)
    pacer.limit, pacer.target = 51.0, 51.0  # past the slow start
    pacer.rate_limited(1.0)  # a 429: a second's pause follows
    pacer.rate = 51.0
    pacer.acquire()  # waits out the pause
    assert clock.slept == [pytest.approx(1.0)]
    feed(pacer, clock, 51.0, 4.0)  # 51 a second accepted for the next 4 s, then a 429
    pacer.rate_limited(1.0)
    # 204 posts in 5 s including the pause would say 41/s; the last second of sending says
    # 51: the pacer settles low at first but climbs back to just under 51 within seconds.
    assert pacer.target == pytest.approx(51 * 0.98, abs=1)
    assert pacer.rate < pacer.target
    clock.now += 1.0
    feed(pacer, clock, 45.0, 3.0)
    assert pacer.rate == pytest.approx(51 * 0.98, abs=1)


def test_slow_start_grows_until_the_first_429_and_a_short_run_is_no_target() -> None:
    clock = FakeClock()
    pacer = Pacer(initial=20.0, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        clock.now += 0.5
        pacer.succeeded()
    assert pacer.rate == pytest.approx(20 * 1.25 * 1.25)
    clock.now += 5.0  # a quiet spell, then a fan-out that meets a 429 within a second
    feed(pacer, clock, 30.0, 0.8)
    pacer.rate_limited(1.0)
    # 24 calls in 0.8 s may have been a burst Slack had stored: settle by the whole run's
    # reading, counted as if a second longer, and feel upward from there.
    assert pacer.limit == pytest.approx(24 / 1.8, rel=0.1)
    assert pacer.target is None
    settled = pacer.rate
    clock.now += 1.0
    feed(pacer, clock, 12.0, 0.9)  # two steps' worth
    assert pacer.rate == pytest.approx(settled * 1.05 * 1.05, rel=0.01)


def test_it_probes_upward_and_probes_less_often_when_it_finds_the_same_limit() -> None:
    clock = FakeClock()
    pacer = Pacer(initial=50.0, clock=clock, sleep=clock.sleep, probe_every=10.0)
    pacer.limit, pacer.target, pacer.rate = 49.0, 49.0, 49.0
    clock.now += 10.0
    pacer.succeeded()
    assert pacer.rate == pytest.approx(49.0 * 1.01)
    clock.now += 9.0
    pacer.succeeded()
    assert pacer.rate == pytest.approx(49.0 * 1.01)  # not yet another probe
    # The probe meets a 429 with the last second at the limit already known.
    pacer.rate = 50.5
    feed(pacer, clock, 50.0, 3.0)
    pacer.rate_limited(1.0)
    assert pacer.target == pytest.approx(49.5, abs=1)
    clock.now += 1.0
    feed(pacer, clock, 49.0, 8.0)  # climbs back to the target
    at_target = pacer.rate
    assert at_target == pytest.approx(pacer.target)
    feed(pacer, clock, 49.0, 15.0)
    assert pacer.rate == pytest.approx(at_target)  # the next probe waits 20 s now
    feed(pacer, clock, 49.0, 6.0)
    assert pacer.rate == pytest.approx(at_target * 1.01)


def test_a_burst_of_429s_is_one_estimate_and_one_pause() -> None:
    clock = FakeClock()
    pacer = Pacer(initial=40.0, clock=clock, sleep=clock.sleep)
    pacer.rate_limited(2.0)
    settled = pacer.rate
    pacer.rate_limited(2.0)  # another caller's answer from the same burst
    pacer.rate_limited(2.0)
    assert pacer.rate == settled and pacer.rate_limits == 3
    pacer.acquire()
    assert sum(clock.slept) == pytest.approx(2.0)


def test_channel_pacer_spaces_each_channel_and_holds_one_for_retry_after() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(interval=1.1, clock=clock, sleep=clock.sleep)
    pacer.acquire("C1")
    pacer.acquire("C2")  # another channel: no wait
    assert clock.slept == []
    pacer.acquire("C1")
    assert clock.slept == [pytest.approx(1.1)]
    pacer.hold("C2", 5.0)
    assert pacer.wait_for("C2") == pytest.approx(5.0)
    pacer.acquire("C2")
    assert clock.slept[-1] == pytest.approx(5.0)
    assert pacer.wait_for("C3") == 0.0
