"""What learning cycles cost: the form's extra questions, and an inquiry's summary.

Run from the repository root::

    python bench/learning_cycles.py [--postgres postgresql+psycopg://…/learnloop_bench]

1. Side by side, in one run and one database: an alliance without, and one with, a purpose
   cadence and a running inquiry, timing what a person waits for — opening the form
   (`question_set_for`, which now looks up a running inquiry and whether the purpose question
   is due) and saving a check-in (`submit`, which also tags it). Medians of 7 repeats × 200
   calls, the repeats of the two interleaved so that noise on a shared machine hits both
   alike, and the ratio.
2. Closing an inquiry builds its summary (tagged check-ins read through their own questions,
   counts by agency, TF-IDF shared patterns, linked barriers): median of 5 builds for 100,
   1,000 and 5,000 tagged check-ins. Target: under 1 s at 5,000 (a big alliance's four weeks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# bench/ is on sys.path when this runs as a script.
from digest_build import BARRIERS, WHAT, WHO, WHY  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.alliance import AllianceConfig, parse_alliance  # noqa: E402
from bot.domain.checkins import Source  # noqa: E402
from bot.ports import MessageRef  # noqa: E402
from bot.services import Services, build_services  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import CheckinRow  # noqa: E402
from storage.uow import UnitOfWorkFactory  # noqa: E402

NOW = dt.datetime(2027, 1, 7, 15, 30, tzinfo=dt.UTC)  # Thursday of a quarter's first week
AGENCIES = 8
MEMBERS = 25
REPEATS = 7
CALLS = 200
SIZES = (100, 1_000, 5_000)
# The digest benchmark's fragments: about a thousand distinct learnings, with real overlaps.
BARRIER_TEXTS = [b for b in BARRIERS if b]


class Quiet:
    """A messenger that sends nothing (the benchmark measures LearnLoop, not Slack)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            return MessageRef("C0BENCH", "1.0") if name.startswith("post") else None

        return method


def alliance(with_cycles: bool) -> AllianceConfig:
    """Two alliances that can share one database: their ids never meet."""
    tag = "c" if with_cycles else "p"
    data: dict[str, Any] = {
        "alliance": {"name": "Bench Alliance"},
        "themes": ["Housing", "Hospital discharge", "Mental health"],
        "roles": {"stewards": ["U0STEW"]},
        "agencies": [
            {
                "id": f"{tag}{i}",
                "name": f"Agency {i}",
                "members": [f"U{tag}{i}M{j}" for j in range(MEMBERS)],
            }
            for i in range(AGENCIES)
        ],
        "cohorts": [{"id": f"{tag}weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
        "digests": [{"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"}],
    }
    if with_cycles:
        data["purpose"] = {"cadence": "quarterly"}
    return parse_alliance(data)


def users(with_cycles: bool) -> list[str]:
    tag = "c" if with_cycles else "p"
    return [f"U{tag}{i}M{j}" for i in range(AGENCIES) for j in range(MEMBERS)]


_FILES = iter(range(1_000_000))


def fresh(url: str) -> Any:
    """An empty, migrated database (a new file each time on SQLite); its engine."""
    if url.startswith("sqlite:///"):
        url = url.replace(".db", f"-{next(_FILES)}.db")
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    return engine


def services_on(engine: Any, config: AllianceConfig) -> Services:
    services = build_services(UnitOfWorkFactory(engine), config, Quiet(), lambda: NOW)  # type: ignore[arg-type]
    services.members.sync_config()
    return services


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(WHO)} {rng.choice(WHAT)} {rng.choice(WHY)}."


def paired(plain: Callable[[int], Any], cycles: Callable[[int], Any]) -> tuple[float, float]:
    """Median ms per call of each, repeats interleaved so machine noise hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for repeat in range(REPEATS):
        for fn, out in ((plain, times[0]), (cycles, times[1])):
            start = time.perf_counter()
            for i in range(CALLS):
                fn(repeat * CALLS + i)
            out.append((time.perf_counter() - start) / CALLS * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def form_and_submit(url: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """(open the form, save a check-in): (plain, with purpose and a running inquiry) each."""
    engine = fresh(url)
    plain = services_on(engine, alliance(False))
    cycles = services_on(engine, alliance(True))
    cycles.inquiries.start("slack", "U0STEW", "How is hospital discharge working?", "cweekly", 4)
    rng = random.Random(9)

    def opener(services: Services, people: list[str]) -> Callable[[int], Any]:
        return lambda n: services.checkins.question_set_for("slack", people[n % len(people)])

    def submitter(services: Services, people: list[str]) -> Callable[[int], Any]:
        def submit(n: int) -> None:
            # The same answers both ways: without an inquiry the third one is not asked.
            answers = {
                "learned": sentence(rng),
                "got_in_the_way": rng.choice(BARRIER_TEXTS),
                "inquiry": sentence(rng),
            }
            services.checkins.submit(
                "slack", people[n % len(people)], answers, ["Housing"], "alliance", Source.MODAL
            )

        return submit

    p_users, c_users = users(False), users(True)
    opening = paired(opener(plain, p_users), opener(cycles, c_users))
    saving = paired(submitter(plain, p_users), submitter(cycles, c_users))
    engine.dispose()
    return opening, saving


def summary_build(url: str, size: int) -> float:
    engine = fresh(url)
    services = services_on(engine, alliance(True))
    info = services.inquiries.start("slack", "U0STEW", "How is discharge working?", "cweekly", 4)
    rng = random.Random(size)
    visibilities = ["team"] * 6 + ["alliance"] * 3 + ["anonymous"]
    with services.uow() as uow:
        ids = [
            (row_id, agency)
            for row_id, agency in uow.session.execute(text("SELECT id, agency_id FROM members"))
        ]
        questions = [
            {"id": "learned", "label": "What happened?", "kind": "long_text", "required": True},
            {"id": "got_in_the_way", "label": "In the way?", "kind": "long_text", "barrier": True},
            {"id": "inquiry", "label": "How is discharge working?", "kind": "long_text"},
        ]
        uow.session.add_all(
            CheckinRow(
                member_id=ids[i % len(ids)][0],
                agency_id=ids[i % len(ids)][1],
                question_set_id="hls-default",
                questions=questions,
                answers={
                    "learned": sentence(rng),
                    "got_in_the_way": rng.choice(BARRIERS),
                    "inquiry": sentence(rng),
                },
                visibility=rng.choice(visibilities),
                source="modal",
                redaction_count=0,
                created_at=NOW,
                inquiry_id=info.id,
            )
            for i in range(size)
        )
        uow.commit()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        services.inquiries.summary(info.id)
        times.append(time.perf_counter() - start)
    engine.dispose()
    return statistics.median(times) * 1000


def main() -> None:
    """Print the side-by-side table and the summary timings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run on this (empty, disposable) PostgreSQL URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", f"sqlite:///{tmp}/bench.db")]
        if args.postgres:
            backends.append(("PostgreSQL", args.postgres))
        for name, url in backends:
            print(f"\n{name}: {AGENCIES * MEMBERS} members, medians of {REPEATS} × {CALLS} calls")
            (plain_open, cycles_open), (plain_submit, cycles_submit) = form_and_submit(url)
            print(f"{'per call':<34}{'plain':>10}{'purpose+inquiry':>18}{'ratio':>8}")
            for label, a, b in (
                ("open the form (question_set_for)", plain_open, cycles_open),
                ("save a check-in (submit)", plain_submit, cycles_submit),
            ):
                print(f"{label:<34}{a:>8.2f}ms{b:>16.2f}ms{b / a:>8.2f}")
            print(f"{'inquiry summary build':<34}{'tagged':>10}{'median':>18}")
            for size in SIZES:
                print(f"{'':<34}{size:>10,}{summary_build(url, size):>16.1f}ms")


if __name__ == "__main__":
    main()
