"""How fast the Learning Board's register and themes pages render, beside the CLI's queries.

Run from the repository root::

    python bench/board_pages.py \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/learnloop_bench_board

It loads (once; reused unless --fresh) the digest benchmark's history — 70 agencies and
1,000,000 check-ins over five years plus a week of 5,000 (`bench/digest_build.py`'s loader, by
COPY) — and 5,000 barriers over the same years with their ladder history (raised, then some
acknowledged, escalated and resolved) and two linked check-ins each. On SQLite (--sqlite-dir)
the same, by executemany. Then, for a board member (alliance-level), it times, interleaved:

- the register page (`BoardService.register` + its template), unfiltered and filtered;
- the CLI export's query (`learnloop barriers export`: every barrier with its history);
- the themes page, 8 weeks (`BoardService.themes` + its template), with the finished weeks'
  counts and shared patterns kept by the worker (`BoardService.keep_due`, "warm") and with
  nothing kept ("cold": the page counts the weeks and works out the running week's patterns
  only; the finished weeks' patterns read "still being worked out");
- the themes page with every week counted live on each view (as before counts were kept: the
  kept page plus the 8-week grouped query, the same template), side by side with the above;
- one week's digest build (`learnloop digest preview`), whose query and patterns the themes
  page reuses.

It prints the median and p99 of each, side by side, and the ratio to the CLI's query, and how
long the worker took to keep 26 weeks from nothing (once).
Target: p99 under 200 ms on PostgreSQL for the two pages.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import digest_build  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.serve import settle_heap  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.services.barriers import records_as_csv  # noqa: E402
from bot.services.board import Viewer  # noqa: E402
from bot.views.board import RegisterFilters  # noqa: E402
from bot.web.board.routes import board_templates  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import BoardKeptWeekRow  # noqa: E402
from storage.uow import UnitOfWorkFactory  # noqa: E402

LADDER = [("agency", "Agency leadership"), ("alliance", "Steward group"), ("board", "Board")]
STATUSES = ["open", "acknowledged", "in_progress", "resolved", "closed"]


def alliance() -> Any:
    """The digest benchmark's alliance, with a three-rung ladder and a board member."""
    data = digest_build.alliance().model_dump(mode="json", exclude_defaults=True)
    for digest in data.get("digests", []):
        if digest.get("schedule"):
            digest["schedule"]["time"] = digest["schedule"]["time"][:5]  # HH:MM, as written
    data["escalation_ladder"] = [
        {"level": level, "name": name, "channel": f"C0{level.upper()}"} for level, name in LADDER
    ]
    data["people"] = [{"email": "chair@board.example", "name": "Chair", "role": "board"}]
    return parse_alliance(data)


def load_barriers(url: str, count: int, history: int) -> None:
    """Bulk-insert `count` barriers with events and two linked check-ins each."""
    rng = random.Random(11)
    engine = make_engine(url)
    span = dt.timedelta(days=365 * digest_build.HISTORY_YEARS).total_seconds()
    total_checkins = history + digest_build.WEEK_CHECKINS
    barriers, events, links = [], [], []
    for i in range(1, count + 1):
        created = digest_build.WEEK_END - dt.timedelta(seconds=rng.random() * span)
        status = rng.choice(STATUSES)
        level = rng.choice(LADDER)[0]
        agencies = [
            f"a{a:02d}" for a in rng.sample(range(digest_build.AGENCIES), rng.randint(1, 3))
        ]
        ended = status in ("resolved", "closed")
        outcome = f"What changed for barrier {i}" if ended else None
        updated = created + dt.timedelta(days=rng.randint(0, 60))
        barriers.append(
            {
                "id": i,
                "title": f"Barrier {i}: {rng.choice(digest_build.BARRIERS)}"[:200],
                "description": rng.choice(digest_build.BARRIERS),
                "agencies": agencies,
                "level": level,
                "status": status,
                "outcome": outcome,
                "raised_by_id": rng.randint(1, digest_build.AGENCIES * 60),
                "owner_id": rng.randint(1, digest_build.AGENCIES * 60)
                if status != "open"
                else None,
                "anon": rng.random() < 0.2,
                "created": created,
                "updated": updated,
            }
        )
        events.append((i, None, "raised", None, "open", None, "agency", None, created))
        if status != "open":
            events.append((i, 1, "acknowledged", "open", "acknowledged", None, None, None, created))
        if level != "agency":
            events.append(
                (i, 1, "escalated", None, None, "agency", level, "Needs the group", updated)
            )
        if ended:
            events.append((i, 1, status, "acknowledged", status, None, None, outcome, updated))
        for checkin in rng.sample(range(1, total_checkins + 1), 2):
            links.append({"e": i, "c": checkin})
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO escalations (id, title, description, agencies, level, status, outcome,"
                " raised_by_id, raiser_anonymous, owner_id, version, created_at, updated_at) VALUES"
                " (:id, :title, :description, :agencies, :level, :status, :outcome,"
                " :raised_by_id, :anon, :owner_id, 1, :created, :updated)"
            ),
            [{**b, "agencies": json.dumps(b["agencies"])} for b in barriers],
        )
        conn.execute(
            text(
                "INSERT INTO escalation_events (escalation_id, actor_id, kind, from_status,"
                " to_status, from_level, to_level, note, at) VALUES"
                " (:e, :a, :k, :fs, :ts, :fl, :tl, :n, :at)"
            ),
            [
                dict(zip(("e", "a", "k", "fs", "ts", "fl", "tl", "n", "at"), row, strict=True))
                for row in events
            ],
        )
        conn.execute(
            text("INSERT INTO escalation_links (escalation_id, checkin_id) VALUES (:e, :c)"), links
        )
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval('escalations_id_seq', (SELECT max(id) FROM escalations))")
            )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"  loaded {count:,} barriers, {len(events):,} events, {len(links):,} links")


def loaded(url: str, history: int, barriers: int) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            checkins = conn.execute(text("SELECT count(*) FROM checkins")).scalar()
            found = conn.execute(text("SELECT count(*) FROM escalations")).scalar()
        return checkins == history + digest_build.WEEK_CHECKINS and found == barriers
    except Exception:  # noqa: BLE001 - no schema yet
        return False
    finally:
        engine.dispose()


def measure(url: str, runs: int) -> dict[str, list[float]]:
    """Each operation's times in seconds, runs interleaved."""
    engine = make_engine(url)
    migrate(engine)  # a history loaded by an older schema gets the newer tables
    services = build_services(
        UnitOfWorkFactory(engine),
        alliance(),
        digest_build._Silent(),  # type: ignore[arg-type]
        lambda: digest_build.WEEK_END,
    )
    board = services.board
    viewer = Viewer("email:chair@board.example", "Chair", "board")
    pages = board_templates()
    common = {"alliance": "Benchmark Alliance", "viewer": viewer, "csrf": "x", "path": "/b"}

    def register() -> None:
        view = board.register(viewer, RegisterFilters())
        pages.get_template("board/barriers.html").render(
            view=view, page_link=str, title="Register", **common
        )

    def register_filtered() -> None:
        view = board.register(viewer, RegisterFilters(agency="a07", status="resolved"))
        pages.get_template("board/barriers.html").render(
            view=view, page_link=str, title="Register", **common
        )

    def export() -> None:
        records_as_csv(services.escalations.register.export_records())

    def themes() -> None:
        view = board.themes(viewer, 8)
        pages.get_template("board/themes.html").render(view=view, title="Themes", **common)

    def themes_counted_live() -> None:
        # The page as it was before counts were kept: all 8 weeks counted in the one grouped
        # query on every view (the patterns read as kept), then the same template.
        view = board.themes(viewer, 8)
        dest = services.digests.board_destination(viewer.scope)
        periods = board._weeks(board.clock(), 8)
        lines = services.digests.week_themes(dest, periods)
        weeks = tuple(
            dataclasses.replace(w, lines=tuple(week_lines))
            for w, week_lines in zip(view.weeks, lines, strict=True)
        )
        pages.get_template("board/themes.html").render(
            view=dataclasses.replace(view, weeks=weeks), title="Themes", **common
        )

    kept_table = BoardKeptWeekRow.__table__

    def kept_rows() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(kept_table.select())]

    def restore(rows: list[dict[str, Any]]) -> None:
        with engine.begin() as conn:
            conn.execute(kept_table.delete())
            if rows:
                conn.execute(kept_table.insert(), rows)

    def themes_cold() -> None:
        restore([])  # nothing kept: a new deployment, or every week just invalidated
        themes()

    dest = services.digests.board_destination("alliance")

    def digest() -> None:
        services.digests.build(dest, digest_build.WEEK)

    ops: dict[str, Callable[[], None]] = {
        "register page": register,
        "register page, filtered": register_filtered,
        "CLI export query": export,
        "themes page (8 weeks, warm)": themes,
        "themes page, 8 weeks counted live": themes_counted_live,
        "themes page (8 weeks, cold)": themes_cold,
        "one week's digest build": digest,
    }
    restore([])
    now = digest_build.WEEK_END
    started = time.perf_counter()
    while board.keep_due(now, dt.timedelta(hours=1)):
        pass  # the worker, from nothing, until it has kept every week a page may show
    keep_seconds = time.perf_counter() - started
    warm = kept_rows()
    for fn in ops.values():
        fn()  # warm the caches and connections once
        restore(warm)
    settle_heap()  # as `learnloop serve` does once its app is built
    times: dict[str, list[float]] = {name: [] for name in ops}
    cold_every = max(1, runs // 5)
    for i in range(runs):
        for name, fn in ops.items():
            if name.endswith("cold)") and i % cold_every:
                continue  # cold runs cost seconds: a fifth as many
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
            if name.endswith("cold)"):
                restore(warm)  # what the worker had kept, back for the warm runs
    engine.dispose()
    times["worker: keep 26 weeks from nothing (once)"] = [keep_seconds]
    return times


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="an empty PostgreSQL database it may wipe")
    parser.add_argument("--sqlite-dir", type=Path, help="also measure SQLite, in this folder")
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--barriers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    urls = []
    if args.postgres:
        urls.append(("PostgreSQL", args.postgres))
    if args.sqlite_dir:
        args.sqlite_dir.mkdir(parents=True, exist_ok=True)
        urls.append(("SQLite", f"sqlite:///{args.sqlite_dir / f'board-{args.history}.db'}"))
    for backend, url in urls:
        if args.fresh or not loaded(url, args.history, args.barriers):
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            print(f"{backend}: loading {args.history:,} check-ins and {args.barriers:,} barriers")
            digest_build.load(url, args.history)
            load_barriers(url, args.barriers, args.history)
    for backend, url in urls:
        times = measure(url, args.runs)
        base = statistics.median(times["CLI export query"])
        print(
            f"\n{backend}: {args.history:,} check-ins, {args.barriers:,} barriers, "
            f"{args.runs} interleaved runs "
            f"(cold themes: {len(times['themes page (8 weeks, cold)'])})"
        )
        print(f"{'operation':<42} {'median':>9} {'p99':>9} {'median / CLI export':>20}")
        for name, values in times.items():
            med = statistics.median(values)
            print(
                f"{name:<42} {med * 1000:>7.1f}ms {p99(values) * 1000:>7.1f}ms {med / base:>19.2f}"
            )


if __name__ == "__main__":
    main()
