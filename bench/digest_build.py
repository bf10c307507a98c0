"""How long the weekly alliance digest takes to build, and whether history makes it slower.

Run from the repository root::

    python bench/digest_build.py \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/learnloop_bench

It generates, on SQLite and (when --postgres is given) on PostgreSQL (that database and the
one of the same name plus `_100k`, both wiped), two databases of 70
agencies: one with 1,000,000 check-ins of history over five years and one with 100,000, each
with the same measured week of 5,000 check-ins. Rows go in by bulk `executemany` (SQLite) and
`COPY` (PostgreSQL). It then times `DigestService.build` for the alliance destination (queries,
aggregates, shared-pattern finding) and for one agency, and prints medians side by side with
the 1M/100k ratio. Targets: under 1 s, and a ratio under 1.3 (the cost follows the week).
Databases are kept in --workdir and reused unless --fresh is given.

Then it times the whole post of the alliance digest on the 1M databases: the build, the chart
rendering (matplotlib), the Block Kit layout and the Slack calls (messages and chart uploads,
through the real Slack messenger, to the fake Web API running in a process of its own), and
prints each step's median and the build's share of the total (`--no-post` skips this).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a plain script, the repository root is not on sys.path; the bot package is.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.alliance import parse_alliance  # noqa: E402
from bot.ports import DigestProgress  # noqa: E402
from bot.services.digests import Destination, DigestService  # noqa: E402
from bot.slack.messenger import SlackMessenger  # noqa: E402
from bot.slack.pacing import CHANNEL_INTERVAL, ChannelPacer  # noqa: E402
from bot.slack.render import thread  # noqa: E402
from bot.views.digest import digest_thread  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.uow import UnitOfWorkFactory  # noqa: E402

AGENCIES = 70
MEMBERS_PER_AGENCY = 60
WEEK_CHECKINS = 5_000
HISTORY_YEARS = 5
RUNS = 9
WEEK = "2026-W47"
# The measured week: seven days ending Friday 20 November 2026, 09:00 (Europe/London = UTC).
WEEK_END = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
WEEK_START = WEEK_END - dt.timedelta(days=7)
THEMES = [
    "Housing",
    "Hospital discharge",
    "Mental health",
    "Substance use",
    "Domestic abuse",
    "Thresholds and eligibility",
    "Information sharing",
    "Money and benefits",
]
QUESTIONS = json.dumps(
    [
        {"id": "learned", "label": "What happened that you learned from?", "kind": "long_text"},
        {"id": "helped", "label": "What helped?", "kind": "long_text"},
        {"id": "got_in_the_way", "label": "What got in the way?", "kind": "long_text"},
    ]
)
# Fragments combined at random: enough variety that texts are rarely identical, with real
# overlaps between agencies (the patterns the digest should find).
WHO = [
    "A tenant",
    "A patient",
    "Someone we support",
    "A young carer",
    "A man on the ward",
    "A woman at the hub",
    "A family",
    "A rough sleeper",
    "An older person",
    "A care leaver",
]
WHAT = [
    "engaged once we met at the food bank",
    "stayed nine extra days waiting for an assessment",
    "came back because the same worker kept texting",
    "was refused help after drinking",
    "told us about abuse after the third visit",
    "lost benefits after a missed letter",
    "was discharged with nowhere to sleep",
    "got a flat once housing joined the visit",
    "missed appointments the clinic could not move",
    "was passed between four services",
]
WHY = [
    "because nobody owned the referral",
    "once we shared notes with consent",
    "when the GP wrote a letter",
    "after a joint visit with outreach",
    "because the form asked too much too early",
    "when we asked where they would sleep",
    "because temporary accommodation was full on Friday",
    "after we waived the threshold",
    "because the phone number had changed",
    "once the benefits adviser sat in",
]
BARRIERS = [
    "Temporary accommodation is full every Friday",
    "Referral forms ask too much too early",
    "We cannot see DWP decisions without consent forms",
    "The sober-first rule shuts people out",
    "Housing cannot assess until a discharge date is fixed",
    "Our letters read like threats",
    "Booking only allows clinic rooms",
    "Phones get stolen and we lose contact",
    "",
    "",
]


def alliance() -> Any:
    """The benchmark alliance: 70 agencies, the default questions, one alliance digest."""
    return parse_alliance(
        {
            "alliance": {"name": "Benchmark Alliance", "timezone": "Europe/London"},
            "themes": THEMES,
            "agencies": [
                {"id": f"a{i:02d}", "name": f"Agency {i:02d}", "members": [f"U{i:02d}000"]}
                for i in range(AGENCIES)
            ],
            "digests": [
                {
                    "id": "alliance",
                    "channel": "C0STEWARDS",
                    "scope": "alliance",
                    "schedule": {"days": ["fri"], "time": "09:00"},
                }
            ],
            "escalation_ladder": [{"level": "agency", "name": "Leads", "channel": "C0LEADS"}],
        }
    )


def checkins(history: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """(id, member id, agency id, created_at, answers JSON, visibility, theme ids) rows."""
    rng = random.Random(seed)
    span = dt.timedelta(days=365 * HISTORY_YEARS).total_seconds()
    visibilities = ["team"] * 6 + ["alliance"] * 3 + ["anonymous"]
    # Ids follow time, as they do when check-ins arrive one by one.
    offsets = sorted(-rng.random() * span for _ in range(history))
    offsets += sorted(rng.random() * 7 * 86400 - 1 for _ in range(WEEK_CHECKINS))
    for i, offset in enumerate(offsets):
        created = WEEK_START + dt.timedelta(seconds=offset)
        agency = rng.randrange(AGENCIES)
        member = agency * MEMBERS_PER_AGENCY + rng.randrange(MEMBERS_PER_AGENCY) + 1
        answers = {
            "learned": f"{rng.choice(WHO)} {rng.choice(WHAT)} {rng.choice(WHY)}.",
            "helped": rng.choice(WHY).capitalize() + ".",
            "got_in_the_way": rng.choice(BARRIERS),
        }
        themes = rng.sample(range(1, len(THEMES) + 1), rng.choice([0, 1, 1, 2, 2, 3]))
        yield (
            i + 1,
            member,
            f"a{agency:02d}",
            created,
            json.dumps(answers),
            rng.choice(visibilities),
            themes,
        )


def load(url: str, history: int) -> None:
    """Create the schema and bulk-load agencies, members, themes and check-ins."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    agencies = [(f"a{i:02d}", f"Agency {i:02d}", "slack") for i in range(AGENCIES)]
    members = [
        (a * MEMBERS_PER_AGENCY + m + 1, "slack", f"U{a:02d}{m:03d}", f"a{a:02d}", True, now)
        for a in range(AGENCIES)
        for m in range(MEMBERS_PER_AGENCY)
    ]
    themes = [(i + 1, name) for i, name in enumerate(THEMES)]
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            _load_sqlite(raw, agencies, members, themes, history)
        else:
            _load_postgres(raw, agencies, members, themes, history)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"  loaded {history + WEEK_CHECKINS:,} check-ins in {time.perf_counter() - started:.0f}s")


def _sqlite_time(moment: dt.datetime) -> str:
    # The format SQLAlchemy's SQLite DateTime stores (UTC, microseconds).
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _load_sqlite(raw: Any, agencies: list, members: list, themes: list, history: int) -> None:
    cur = raw.cursor()
    cur.executemany("INSERT INTO agencies (id, name, platform) VALUES (?, ?, ?)", agencies)
    cur.executemany(
        "INSERT INTO members (id, platform, platform_user_id, agency_id, active, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(*m[:5], _sqlite_time(m[5])) for m in members],
    )
    cur.executemany("INSERT INTO themes (id, name) VALUES (?, ?)", themes)
    batch: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for cid, member, agency, created, answers, visibility, theme_ids in checkins(history, 7):
        batch.append(
            (
                cid,
                member,
                agency,
                "hls-default",
                QUESTIONS,
                answers,
                visibility,
                "modal",
                0,
                _sqlite_time(created),
            )
        )
        links += [(cid, t) for t in theme_ids]
        if len(batch) >= 50_000:
            _sqlite_flush(cur, batch, links)
    _sqlite_flush(cur, batch, links)


def _sqlite_flush(cur: Any, batch: list, links: list) -> None:
    cur.executemany(
        "INSERT INTO checkins (id, member_id, agency_id, question_set_id, questions, answers, "
        "visibility, source, redaction_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    cur.executemany("INSERT INTO checkin_themes (checkin_id, theme_id) VALUES (?, ?)", links)
    batch.clear()
    links.clear()


def _load_postgres(raw: Any, agencies: list, members: list, themes: list, history: int) -> None:
    cur = raw.cursor()
    cur.executemany("INSERT INTO agencies (id, name, platform) VALUES (%s, %s, %s)", agencies)
    cur.executemany(
        "INSERT INTO members (id, platform, platform_user_id, agency_id, active, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        members,
    )
    cur.executemany("INSERT INTO themes (id, name) VALUES (%s, %s)", themes)
    links: list[tuple[int, int]] = []
    with cur.copy(
        "COPY checkins (id, member_id, agency_id, question_set_id, questions, answers, "
        "visibility, source, redaction_count, created_at) FROM STDIN"
    ) as copy:
        for cid, member, agency, created, answers, visibility, theme_ids in checkins(history, 7):
            copy.write_row(
                (
                    cid,
                    member,
                    agency,
                    "hls-default",
                    QUESTIONS,
                    answers,
                    visibility,
                    "modal",
                    0,
                    created,
                )
            )
            links += [(cid, t) for t in theme_ids]
    with cur.copy("COPY checkin_themes (checkin_id, theme_id) FROM STDIN") as copy:
        for link in links:
            copy.write_row(link)
    for table in ("checkins", "members", "themes"):
        cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")


class _Silent:
    """The benchmark builds digests; it never sends one."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the benchmark does not message ({name})")


def _service(url: str) -> tuple[Any, DigestService]:
    engine = make_engine(url)
    service = DigestService(
        UnitOfWorkFactory(engine),
        alliance(),
        _Silent(),  # type: ignore[arg-type]
        lambda: WEEK_END,
    )
    return engine, service


def time_pair(big_url: str, small_url: str) -> dict[str, dict[str, float]]:
    """Median build times on the 1M and 100k databases, runs interleaved so load hits both."""
    services = {"1,000,000": _service(big_url), "100,000": _service(small_url)}
    agency = Destination(id="a00", channel="C0A00", scope="agency:a00", schedule=None)
    times: dict[str, dict[str, list[float]]] = {
        h: {"alliance": [], "one agency": []} for h in services
    }
    patterns = {}
    for history, (_, service) in services.items():
        view = service.build(service.destination("alliance"), WEEK)  # warm-up
        assert view.learnings_count == WEEK_CHECKINS, view.learnings_count
        patterns[history] = float(len(view.patterns))
    for _ in range(RUNS):
        for history, (_, service) in services.items():
            for name, dest in (
                ("alliance", service.destination("alliance")),
                ("one agency", agency),
            ):
                started = time.perf_counter()
                service.build(dest, WEEK)
                times[history][name].append(time.perf_counter() - started)
    for engine, _ in services.values():
        engine.dispose()
    return {
        history: {
            "alliance": statistics.median(t["alliance"]),
            "one agency": statistics.median(t["one agency"]),
            "patterns": patterns[history],
        }
        for history, t in times.items()
    }


# The fake Slack Web API in a process of its own, so its work is not the benchmark's.
FAKE_SLACK_PROCESS = """
import sys
from slack_api import FakeSlackAPI
fake = FakeSlackAPI().start()
print(fake.url, flush=True)
sys.stdin.read()
fake.stop()
"""


def fake_slack() -> tuple[subprocess.Popen[str], str]:
    """Start the fake Slack Web API process; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_SLACK_PROCESS],
        cwd=ROOT / "tests",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def time_post(url: str, slack_url: str) -> dict[str, float]:
    """Medians of a whole alliance digest post: build, charts, Block Kit, the Slack calls.

    Posted through the real Slack messenger to the fake Web API over HTTP, with the
    per-channel spacing off (that is waiting, not work: reported separately).
    """
    engine, service = _service(url)
    messenger = SlackMessenger(
        WebClient(token="xoxb-bench", base_url=slack_url),
        channel_pacer=ChannelPacer(interval=0.0),
    )
    dest = service.destination("alliance")
    steps: dict[str, list[float]] = {"build": [], "charts": [], "block kit": [], "calls": []}
    parts = charts_count = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        view = service.build(dest, WEEK)
        built = time.perf_counter()
        charts = service.charts(view)
        charted = time.perf_counter()
        digest = digest_thread(view)
        messages = thread(digest)
        laid_out = time.perf_counter()
        ref = messenger.post_digest(dest.channel, digest, DigestProgress())
        for chart in charts:
            messenger.upload_chart(ref.channel, chart.png, "chart.png", chart.title, chart.alt)
        posted = time.perf_counter()
        steps["build"].append(built - started)
        steps["charts"].append(charted - built)
        steps["block kit"].append(laid_out - charted)
        # post_digest lays the messages out again: what is left is the calls themselves.
        steps["calls"].append(max(0.0, (posted - laid_out) - (laid_out - charted)))
        parts, charts_count = len(messages), len(charts)
    engine.dispose()
    result = {name: statistics.median(values) for name, values in steps.items()}
    result["parts"], result["charts_count"] = float(parts), float(charts_count)
    return result


def _small_url(url: str) -> str:
    """The 100k database's URL: the 1M one's with `_100k` after the database name."""
    base, _, query = url.partition("?")
    return f"{base}_100k" + (f"?{query}" if query else "")


def main() -> None:
    """Generate (or reuse) the databases, time the builds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/learnloop-digest-bench"))
    parser.add_argument(
        "--postgres",
        help="URL of an empty PostgreSQL database it may wipe (1M history); the 100k history "
        "goes in the database of the same name plus _100k",
    )
    parser.add_argument("--fresh", action="store_true", help="regenerate the databases")
    parser.add_argument(
        "--no-post", action="store_true", help="time the build only, not the whole post"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    pairs: list[tuple[str, str, str]] = []
    urls = {h: f"sqlite:///{args.workdir / f'digest-{h}.db'}" for h in (1_000_000, 100_000)}
    for history, url in urls.items():
        path = Path(url.removeprefix("sqlite:///"))
        if args.fresh or not path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            print(f"SQLite, {history:,} check-ins of history:")
            load(url, history)
    pairs.append(("SQLite", urls[1_000_000], urls[100_000]))
    if args.postgres:
        pg = {1_000_000: args.postgres, 100_000: _small_url(args.postgres)}
        for history, url in pg.items():
            if args.fresh or not _loaded(url, history):
                print(f"PostgreSQL, {history:,} check-ins of history:")
                load(url, history)
        pairs.append(("PostgreSQL", pg[1_000_000], pg[100_000]))

    rows = [(backend, time_pair(big, small)) for backend, big, small in pairs]
    print(
        f"\nDigest build for {WEEK} ({WEEK_CHECKINS:,} check-ins that week, {AGENCIES} "
        f"agencies), median of {RUNS} interleaved runs:"
    )
    print(f"{'backend':<11} {'history':>10} {'alliance':>10} {'one agency':>11} {'patterns':>9}")
    for backend, result in rows:
        for history, r in result.items():
            print(
                f"{backend:<11} {history:>10} {r['alliance']:>9.3f}s {r['one agency']:>10.3f}s "
                f"{int(r['patterns']):>9}"
            )
    for backend, result in rows:
        big, small = result["1,000,000"], result["100,000"]
        print(
            f"{backend}: 1M/100k ratio alliance {big['alliance'] / small['alliance']:.2f}, "
            f"one agency {big['one agency'] / small['one agency']:.2f} (target < 1.3)"
        )
    if args.no_post:
        return
    proc, slack_url = fake_slack()
    try:
        posts = [(backend, time_post(big, slack_url)) for backend, big, _ in pairs]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)
    print(
        f"\nPosting the alliance digest ({WEEK}, 1,000,000 history) to the fake Slack Web API "
        f"in its own process, median of {RUNS}:"
    )
    print(
        f"{'backend':<11} {'build':>7} {'charts':>7} {'Block Kit':>10} {'calls':>7} "
        f"{'total':>7} {'build share':>12}"
    )
    for backend, r in posts:
        total = r["build"] + r["charts"] + r["block kit"] + r["calls"]
        print(
            f"{backend:<11} {r['build']:>6.3f}s {r['charts']:>6.3f}s {r['block kit']:>9.3f}s "
            f"{r['calls']:>6.3f}s {total:>6.3f}s {r['build'] / total:>11.0%}"
        )
    r = posts[0][1]
    waits = (r["parts"] - 1 + r["charts_count"]) * CHANNEL_INTERVAL
    print(
        f"({int(r['parts'])} message(s) and {int(r['charts_count'])} chart(s); Slack's "
        f"one-message-a-second-per-channel limit adds {waits:.1f} s of spacing on top)"
    )


def _loaded(url: str, history: int) -> bool:
    """Whether a PostgreSQL database already holds this benchmark load (so it can be reused)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM checkins")).scalar()
        return count == history + WEEK_CHECKINS
    except Exception:  # noqa: BLE001 - no schema yet
        return False
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
