"""How long `find` takes over 100k and 1M check-ins, on SQLite (FTS5) and PostgreSQL (GIN).

Run from the repository root::

    python bench/library_search.py --sizes 100000 1000000 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/learnloop_bench_library

For each size it builds a migrated database (SQLite in --workdir, and the PostgreSQL database
given, wiped) of 20 agencies and check-ins over three years (a third alliance-shared, a third
anonymous, a third team-only; a quarter tagged with a theme), written by bulk `executemany`
through the real migration's triggers (SQLite) and index (PostgreSQL). It then runs a fixed
mix of searches — a common word, a rare word, a phrase, `or`, a left-out word, a theme
filter, an agency filter, and hostile input — each as the first page (6 rows) of
`SearchQueries.search` for one reader, and prints p50 and p99 per database and size, with the
1M/100k ratio side by side. Databases are kept in --workdir and reused unless --fresh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, insert, select, text  # noqa: E402

from bot.domain.search import Named, parse_search  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import (  # noqa: E402
    AgencyRow,
    Base,
    CheckinRow,
    CheckinThemeRow,
    MemberRow,
    ThemeRow,
)
from storage.search_queries import Reader, SearchQueries  # noqa: E402

AGENCIES = [f"agency{i:02d}" for i in range(20)]
THEMES = ["Housing", "Hospital discharge", "Mental health", "Substance use", "Money and benefits"]
COMMON = (
    "client tenant ward pharmacy script discharge visit team worker hostel benefits rent "
    "arrears letter call family carer support plan week friday night form consent referral "
    "appointment gp nurse housing officer council police probation curfew school"
).split()
FILLER = "the a was on to and with for after before at in of it they we our their".split()
RARE = ["methadone", "safeguarding", "interpreter", "eviction", "ombudsman", "dtoc"]
QUERIES = [
    "pharmacy",
    "methadone",
    '"lost their script"',
    "curfew or hostel",
    "discharge -friday",
    "benefits --theme Money and benefits",
    "eviction --agency agency03",
    "NEAR(* \"' -",
    "ombudsman interpreter",
]
START = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)


def sentence(rng: random.Random) -> str:
    """A plausible learning: common words, filler, now and then a rare word."""
    words = [
        rng.choice(COMMON if rng.random() < 0.6 else FILLER) for _ in range(rng.randint(8, 30))
    ]
    if rng.random() < 0.05:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    if rng.random() < 0.02:
        words += ["lost", "their", "script"]
    return " ".join(words).capitalize() + "."


def build(engine: Engine, size: int, seed: int = 7) -> None:
    """Migrate and fill a database with `size` check-ins."""
    migrate(engine)
    rng = random.Random(seed)
    with engine.begin() as conn:
        conn.execute(
            insert(AgencyRow), [{"id": a, "name": a, "platform": "slack"} for a in AGENCIES]
        )
        conn.execute(insert(ThemeRow), [{"name": t} for t in THEMES])
        conn.execute(
            insert(MemberRow),
            [
                {"platform": "slack", "platform_user_id": f"U{a}{m}", "agency_id": a}
                for a in AGENCIES
                for m in range(20)
            ],
        )
    span = 3 * 365 * 86_400
    batch = 5_000
    members = 20 * len(AGENCIES)
    for first in range(0, size, batch):
        rows, tags = [], []
        for n in range(first, min(first + batch, size)):
            member = rng.randrange(members)
            rows.append(
                {
                    "id": n + 1,
                    "member_id": member + 1,
                    "agency_id": AGENCIES[member // 20],
                    "question_set_id": "hls-default",
                    "questions": [],
                    "answers": {"learned": sentence(rng), "helped": "", "blocker": ""},
                    "visibility": ("team", "alliance", "anonymous")[n % 3],
                    "source": "modal",
                    "redaction_count": 0,
                    "created_at": START + dt.timedelta(seconds=n * span // size),
                }
            )
            if rng.random() < 0.25:
                tags.append({"checkin_id": n + 1, "theme_id": rng.randrange(len(THEMES)) + 1})
        with engine.begin() as conn:
            conn.execute(insert(CheckinRow), rows)
            if tags:
                conn.execute(insert(CheckinThemeRow), tags)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def ready(engine: Engine, size: int) -> bool:
    """Whether the database already holds this many check-ins."""
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(CheckinRow)) == size
    except Exception:  # noqa: BLE001 - no schema yet
        return False


def wipe_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def time_queries(engine: Engine, runs: int) -> list[float]:
    """Milliseconds per first-page search, over every query `runs` times."""
    themes = [Named(t, (t,)) for t in THEMES]
    agencies = [Named(a, (a,)) for a in AGENCIES]
    searches = [parse_search(q, themes, agencies) for q in QUERIES]
    reader = Reader(member_id=1, agency_id=AGENCIES[0])
    from sqlalchemy.orm import Session

    timings = []
    with Session(engine) as session:
        queries = SearchQueries(session)
        for s in searches:  # warm the caches once
            queries.search(reader, s.terms, theme=s.theme, agency_id=s.agency_id, limit=6)
        for _ in range(runs):
            for s in searches:
                began = time.perf_counter()
                rows = queries.search(
                    reader, s.terms, theme=s.theme, agency_id=s.agency_id, limit=6
                )
                _ = [r.answers for r in rows]
                timings.append((time.perf_counter() - began) * 1000)
            session.expunge_all()
    return timings


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", help="a PostgreSQL URL (its database is wiped)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/learnloop-bench-library"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for size in args.sizes:
        targets = [("sqlite", f"sqlite:///{args.workdir / f'library-{size}.db'}")]
        if args.postgres:
            targets.append(("postgresql", f"{args.postgres}_{size}"))
        for name, url in targets:
            if name == "postgresql":
                admin = make_engine(args.postgres.rsplit("/", 1)[0] + "/postgres")
                with admin.connect() as conn:
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    exists = conn.scalar(
                        text("SELECT 1 FROM pg_database WHERE datname = :d"),
                        {"d": url.rsplit("/", 1)[1]},
                    )
                    if not exists:
                        conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
                admin.dispose()
            engine = make_engine(url)
            if args.fresh or not ready(engine, size):
                if name == "postgresql":
                    wipe_postgres(engine)
                else:
                    engine.dispose()
                    (args.workdir / f"library-{size}.db").unlink(missing_ok=True)
                    engine = make_engine(url)
                began = time.perf_counter()
                build(engine, size)
                print(f"built {name} {size:,} in {time.perf_counter() - began:.0f} s", flush=True)
            timings = time_queries(engine, args.runs)
            results[(name, size)] = (statistics.median(timings), p(timings, 0.99))
            engine.dispose()
            print(
                f"{name:<10} {size:>9,}  p50 {results[(name, size)][0]:7.2f} ms  "
                f"p99 {results[(name, size)][1]:7.2f} ms",
                flush=True,
            )
    print()
    print(f"{'database':<10} {'size':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'p50 / smallest':>14}")
    for (name, size), (p50, p99) in sorted(results.items()):
        base = results[(name, min(args.sizes))][0]
        print(f"{name:<10} {size:>9,}  {p50:8.2f}  {p99:8.2f}  {p50 / base:14.2f}")
    _ = Base  # the models' metadata is what migrate() builds


if __name__ == "__main__":
    main()
