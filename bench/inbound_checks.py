"""What the shape checks in front of Bolt and the Teams SDK cost per request.

Run from the repository root: ``python bench/inbound_checks.py``. For a documented view
submission, a DM event and a Teams message, it times the check (``read_slack_body`` /
``activity_problem``) side by side with only decoding the same body (``parse_qs`` + ``json.loads``
or ``json.loads``), and prints the medians over several repeats and their ratio.
"""

from __future__ import annotations

import json
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from slack_requests import load_sample  # noqa: E402
from teams_requests import load_teams_sample  # noqa: E402

from bot.slack.inbound import read_slack_body  # noqa: E402
from bot.teams.inbound import activity_problem  # noqa: E402

REPEATS = 7
CALLS = 2000
FORM = "application/x-www-form-urlencoded"


def median_us(work: Callable[[], object]) -> float:
    """Median microseconds per call of `work`."""
    runs = timeit.repeat(work, number=CALLS, repeat=REPEATS)
    return statistics.median(runs) / CALLS * 1e6


def main() -> None:
    """Print one row per request kind: decoding only, decoding and checking, and the ratio."""
    view = urlencode({"payload": json.dumps(load_sample("view_submission"))}).encode()
    event = json.dumps(load_sample("message_im")).encode()
    activity = load_teams_sample("teams_message_activity")
    activity.update(
        {
            "from": {"id": "29:1", "name": "Megan"},
            "recipient": {"id": "28:bot"},
            "conversation": {"id": "a:1", "conversationType": "personal"},
            "serviceUrl": "https://smba.trafficmanager.net/uk/",
        }
    )
    teams = json.dumps(activity).encode()
    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "Slack view_submission (form)": (
            lambda: json.loads(parse_qs(view.decode())["payload"][0]),
            lambda: read_slack_body(FORM, view),
        ),
        "Slack message.im event (JSON)": (
            lambda: json.loads(event),
            lambda: read_slack_body("application/json", event),
        ),
        "Teams message activity": (
            lambda: json.loads(teams),
            lambda: activity_problem(json.loads(teams)),
        ),
    }
    # Every sample is well formed, so each check runs to the end.
    assert activity_problem(json.loads(teams)) is None
    print(f"{'request':<32} {'decode µs':>10} {'check µs':>10} {'ratio':>6}")
    for name, (decode, check) in cases.items():
        plain, checked = median_us(decode), median_us(check)
        print(f"{name:<32} {plain:>10.1f} {checked:>10.1f} {checked / plain:>6.2f}")


if __name__ == "__main__":
    main()
