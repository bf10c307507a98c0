"""What "Across the alliance" adds to an agency's digest, and what the weekly note costs to build.

Run from the repository root::

    python bench/across_alliance.py [--checkins 5000] [--agencies 70] [--runs 7]

Pure domain, no database: one week of check-ins over the agencies (60% team-only, 30% named,
10% anonymous, worded from a pool of paraphrases so the pattern finder finds real groups). It
times, interleaved in one run, `build_digest` for one agency's audience (its own section plus
"Across the alliance"), the across section alone, and the alliance-level note
(`across_alliance` with no agency), and prints medians with the across section's share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.digest import (  # noqa: E402
    CheckinFact,
    DigestInputs,
    across_alliance,
    build_digest,
    quotable,
    week_period,
)
from bot.domain.visibility import Audience  # noqa: E402

SAYINGS = [
    "Temporary accommodation out of area lost their methadone script at the pharmacy",
    "People in TA out of area lose their methadone script because the pharmacy can't see it",
    "Friday discharges without a care package come back by Monday",
    "Discharged on a Friday with no package of care and readmitted after the weekend",
    "Joint visits with the ward saved a week of waiting",
    "Letters still read like threats to tenants",
    "Asking where people will sleep tonight changed the plan",
    "The consent form stops us sharing with the GP",
    "Curfew at the hostel clashes with evening appointments",
    "Out-of-hours calls to the ward go unanswered",
]
WORDS = "client family worker nurse tenant council housing ward GP hostel week day".split()


def week(agencies: int, checkins: int, seed: int = 7) -> list[CheckinFact]:
    rng = random.Random(seed)
    period = week_period("2026-W47", ZoneInfo("Europe/London"))
    facts = []
    for i in range(checkins):
        agency = f"a{rng.randrange(agencies):02d}"
        roll = rng.random()
        visibility = "team" if roll < 0.6 else "alliance" if roll < 0.9 else "anonymous"
        text = rng.choice(SAYINGS) + " " + " ".join(rng.sample(WORDS, 3))
        facts.append(
            CheckinFact(
                id=i + 1,
                agency_id=agency,
                member_id=rng.randrange(agencies * 60),
                visibility=visibility,
                created_at=period.start + dt.timedelta(seconds=i * 60),
                learning=text,
                author_name=f"Person {i}",
            )
        )
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=5000)
    parser.add_argument("--agencies", type=int, default=70)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    facts = week(args.agencies, args.checkins)
    names = {f"a{i:02d}": f"Agency {i:02d}" for i in range(args.agencies)}
    period = week_period("2026-W47", ZoneInfo("Europe/London"))
    own = "a03"
    # What the service reads for an agency: everything shared with the alliance, plus its own.
    agency_entries = [f for f in facts if f.visibility != "team" or f.agency_id == own]
    alliance_entries = [f for f in facts if f.visibility != "team"]

    def inputs(audience: Audience, entries: list[CheckinFact]) -> DigestInputs:
        scope = {own: names[own]} if audience.kind == "agency" else names
        return DigestInputs(
            audience=audience,
            period=period,
            alliance_name="Bench Alliance",
            scope_label="bench",
            scope_agencies=scope,
            agency_names=names,
            suppress_below=3,
            learnings={},
            people={},
            theme_counts={},
            baseline=[],
            checkins=entries,
            contributors={a: 5 for a in names},
        )

    agency = inputs(Audience.agency(own), agency_entries)
    alliance = inputs(Audience.alliance(), alliance_entries)
    timings: dict[str, list[float]] = {"agency digest": [], "across alone": [], "note": []}
    for _ in range(args.runs):
        for name, run in (
            ("agency digest", lambda: build_digest(agency)),
            ("across alone", lambda: across_alliance(quotable(agency), own)),
            ("note", lambda: across_alliance(alliance, None, 3, 3)),
        ):
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    med = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"{args.checkins} check-ins in the week, {args.agencies} agencies, "
        f"{len(alliance_entries)} shared with the alliance; median of {args.runs} runs"
    )
    print(f"{'agency digest (own + across)':32} {med['agency digest'] * 1000:8.1f} ms")
    print(f"{'  of which across the alliance':32} {med['across alone'] * 1000:8.1f} ms")
    own_part = med["agency digest"] - med["across alone"]
    print(f"{'  own section (difference)':32} {own_part * 1000:8.1f} ms")
    print(f"{'across / own section':32} {med['across alone'] / own_part:8.2f}")
    print(f"{'alliance note (built once)':32} {med['note'] * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
