"""What log scrubbing (bot/logs.py) costs per log record, side by side with plain logging.

Run from the repository root: ``python bench/log_scrubbing.py``. For three kinds of record it
times making and handling one record with the standard LogRecord factory and with the
LogScrubber, and prints the medians over several repeats and their ratio.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.logs import LogScrubber  # noqa: E402

REPEATS = 7
CALLS = 2000

PAYLOAD = json.dumps(
    {
        "channel": "D0ALICE",
        "text": "Thank you — your learning is saved.",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 1800}}],
    }
)
CASES = {
    "LearnLoop INFO line": (
        "learnloop.services",
        "prompt %s not delivered: %s",
        (1234, "user_not_found"),
    ),
    "slack_sdk DEBUG, 2 KB body": (
        "learnloop.slack",
        "Sending a request - url: %s, json_body: %s",
        ("https://slack.com/api/chat.postMessage", PAYLOAD),
    ),
    "exception message, 300 chars": (
        "learnloop.handlers",
        "unhandled error (reference %s): %s",
        ("ab12cd34", "ValueError: " + "could not parse the value given " * 9),
    ),
}


def median_us(factory: object, name: str, msg: str, args: tuple[object, ...]) -> float:
    """Median microseconds to make a record and render its message."""

    def once() -> None:
        record = factory(name, logging.INFO, __file__, 1, msg, args, None)  # type: ignore[operator]
        record.getMessage()

    runs = timeit.repeat(once, number=CALLS, repeat=REPEATS)
    return statistics.median(runs) / CALLS * 1e6


def main() -> None:
    """Print the table."""
    scrubber = LogScrubber(logging.LogRecord)
    scrubber.add_secrets(["xoxb-not-a-real-token-0000", "signing-secret-value"])
    print(f"{REPEATS} repeats x {CALLS} records, median per record")
    print(f"{'record':32} {'plain':>10} {'scrubbed':>10} {'ratio':>7}")
    for label, (name, msg, args) in CASES.items():
        plain = median_us(logging.LogRecord, name, msg, args)
        scrubbed = median_us(scrubber, name, msg, args)
        print(f"{label:32} {plain:8.1f}µs {scrubbed:8.1f}µs {scrubbed / plain:6.1f}x")


if __name__ == "__main__":
    main()
