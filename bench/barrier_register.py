"""How the barrier register scales: a steward action, `/barriers`, the digest summary, the export.

Fills a fresh SQLite register (through the real services, messages sent nowhere) with a small
and a large number of barriers over a year — a third moved up, a third resolved — and times each
operation on both, median of several repeats, printing the two side by side with their ratio.
A ratio near 1 means the operation does not grow with the register.

    python bench/barrier_register.py [--small 200] [--large 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.alliance import load_alliance
from bot.domain.escalation import Action
from bot.ports import MessageRef
from bot.services import Services, build_services
from bot.settings import EXAMPLE_CONFIG
from storage.db import make_engine, migrate
from storage.uow import UnitOfWorkFactory

STEWARD = "U0STEW1"
RAISERS = ["U0HOUS1", "U0HOSP1", "U0OUT1", "U0REC1"]
START = dt.datetime(2025, 12, 1, 9, tzinfo=dt.UTC)


class Nowhere:
    """A Messenger that sends nothing (the benchmark times LearnLoop, not Slack)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def sent(*args: Any, **kwargs: Any) -> Any:
            return MessageRef("C0BENCH", "1.0") if name.startswith("post") else None

        return sent


def fill(count: int, folder: Path) -> tuple[Services, dict[str, dt.datetime]]:
    """A register of `count` barriers raised over a year; the clock ends a year on."""
    engine = make_engine(f"sqlite:///{folder / f'register-{count}.db'}")
    migrate(engine)
    now = {"t": START}
    services = build_services(
        UnitOfWorkFactory(engine), load_alliance(EXAMPLE_CONFIG), Nowhere(), lambda: now["t"]
    )  # type: ignore[arg-type]
    services.members.sync_config()
    step = dt.timedelta(days=365) / count
    for i in range(count):
        now["t"] = START + step * i
        change = services.escalations.raise_barrier(
            "slack",
            RAISERS[i % len(RAISERS)],
            title=f"Barrier {i}",
            description="Housing can't assess until a discharge date is fixed.",
            who_is_affected=None,
            agencies=["housing"],
            level=None,
            anonymous=i % 5 == 0,
            checkin_ids=[],
        )
        if i % 3 == 1:
            services.escalations.act("slack", STEWARD, change.barrier_id, None, Action.ESCALATE)
        elif i % 3 == 2:
            services.escalations.act(
                "slack", STEWARD, change.barrier_id, None, Action.RESOLVE, "Changed the rule"
            )
    now["t"] = START + dt.timedelta(days=365)
    return services, now


def median_ms(fn: Callable[[], object], repeats: int, inner: int = 5) -> float:
    """Median over `repeats` of the mean time of `inner` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - began) / inner * 1000)
    return statistics.median(times)


def operations(services: Services, now: dict[str, dt.datetime]) -> dict[str, Callable[[], Any]]:
    """The operations timed, each a call a person or the worker makes."""
    esc = services.escalations
    week_end = now["t"]
    counter = {"n": 0}

    def act() -> None:
        # A fresh barrier each time so every call is one real transition.
        counter["n"] += 1
        change = esc.raise_barrier(
            "slack",
            "U0HOUS2",
            title=f"Timed {counter['n']}",
            description="Timed barrier",
            who_is_affected=None,
            agencies=[],
            level=None,
            anonymous=False,
            checkin_ids=[],
        )
        esc.act("slack", STEWARD, change.barrier_id, None, Action.ACKNOWLEDGE)

    return {
        "raise + acknowledge (2 commits)": act,
        "/barriers (open)": lambda: esc.listing("slack", STEWARD, "open"),
        "/barriers all": lambda: esc.listing("slack", STEWARD, "all"),
        "digest summary (1 week)": lambda: esc.summary_for_period(
            week_end - dt.timedelta(days=7), week_end
        ),
        "export records (all)": lambda: esc.register.export_records(),
    }


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results: dict[int, dict[str, float]] = {}
        for count in (args.small, args.large):
            began = time.perf_counter()
            services, now = fill(count, Path(folder))
            filled = time.perf_counter() - began
            print(f"filled {count} barriers in {filled:.1f} s")
            ops = operations(services, now)
            inner = {name: 1 if "export" in name or "summary" in name else 5 for name in ops}
            results[count] = {
                name: median_ms(fn, args.repeats, inner[name]) for name, fn in ops.items()
            }
    small, large = results[args.small], results[args.large]
    print()
    print(f"| operation | {args.small} barriers | {args.large} barriers | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in small:
        ratio = large[name] / small[name]
        print(f"| {name} | {small[name]:.1f} ms | {large[name]:.1f} ms | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
