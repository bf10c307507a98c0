"""How long a /readyz probe waits on Slack: the old per-probe auth.test against the new cache.

Run from the repository root::

    python bench/readyz_probe.py              # 3 rounds per case
    python bench/readyz_probe.py --rounds 5

Side by side in one run, for three states of Slack — answering at once, slow (every answer
delayed 12 s, past the client's 10 s timeout), and unreachable (connection refused) — it times:

- *before*: one `auth.test` through LearnLoop's production WebClient (10 s timeout, connection,
  429 and 5xx retries), which is what every probe used to do;
- *after, first probe*: `SlackReadiness.answer()` with nothing cached (a process just started);
- *after, next probe*: the same object asked again (the answer, or the call still under way).

The fake Slack Web API (tests/slack_api.py) runs in this process on 127.0.0.1. Medians over
the rounds, in seconds, and the before/after ratio of the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from slack_api import FakeSlackAPI  # noqa: E402
from slack_sdk.errors import SlackApiError  # noqa: E402

from bot.readiness import SlackReadiness, auth_test_call  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.app import build_web_client  # noqa: E402

# Slower than the production client's 10 s timeout, as a struggling Slack can be.
SLOW_SECONDS = 12.0
TOKEN = "xoxb-bench"


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    try:
        fn()
    except (SlackApiError, OSError):
        pass  # the old probe reported the error; what matters here is how long it took
    return time.perf_counter() - started


def before(url: str) -> float:
    settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_api_url=url)
    return timed(build_web_client(settings).auth_test)


def after(url: str) -> tuple[float, float]:
    readiness = SlackReadiness(auth_test_call(TOKEN, url))
    first = timed(readiness.answer)
    second = timed(readiness.answer)
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    fake = FakeSlackAPI().start()
    gone = FakeSlackAPI().start()
    unreachable = gone.url
    gone.stop()
    rows = []
    for case in ("answering", "slow", "unreachable"):
        old, first, second = [], [], []
        for _ in range(args.rounds):
            url = unreachable if case == "unreachable" else fake.url
            if case == "slow":
                fake.set_latency(SLOW_SECONDS)
            old.append(before(url))
            a, b = after(url)
            first.append(a)
            second.append(b)
            fake.clear_faults()
        rows.append((case, *(statistics.median(x) for x in (old, first, second))))
    fake.stop()
    print(f"{'Slack':<12}{'before':>10}{'after 1st':>12}{'after next':>12}{'ratio':>9}")
    for case, old_s, first_s, next_s in rows:
        ratio = old_s / max(first_s, 1e-9)
        print(f"{case:<12}{old_s:>10.3f}{first_s:>12.3f}{next_s:>12.3f}{ratio:>8.1f}x")
    print(
        f"(medians of {args.rounds} rounds, seconds; slow = every answer {SLOW_SECONDS:.0f} s late)"
    )


if __name__ == "__main__":
    main()
