"""`learnloop demo`: the example alliance, a few weeks of check-ins, through the real services."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy.engine import make_url

from bot.config import EXAMPLE_CONFIG, load_alliance
from bot.demo_digest import show_digest
from bot.domain.checkins import Source, Visibility
from bot.domain.suppression import suppress, suppressed
from bot.ports import DigestProgress, MessageRef, UserProfile
from bot.services import Services, build_services
from bot.views.message import Message, Thread
from storage.db import make_engine, migrate
from storage.uow import UnitOfWorkFactory

# Realistic, fictional learnings. Some carry identifiers on purpose: the demo shows them removed.
LEARNINGS: dict[str, list[tuple[str, str, str, list[str]]]] = {
    "housing": [
        (
            "A tenant facing eviction engaged once we met at the food bank instead of the office.",
            "Meeting where people already are.",
            "Our letters still read like threats.",
            ["Housing"],
        ),
        (
            "Two families were placed in B&Bs 30 miles away because nothing local was free.",
            "The hospital team phoned us before discharge.",
            "Temporary accommodation is full every Friday.",
            ["Housing", "Hospital discharge"],
        ),
        (
            "Universal Credit deductions were the real cause of rent arrears, not budgeting.",
            "Benefits adviser sat in on the visit.",
            "We can't see DWP decisions without consent forms that take weeks.",
            ["Money and benefits", "Information sharing"],
        ),
        # Told again in other words by Recovery and Outreach: the digest's shared pattern.
        (
            "Moved a man into temporary accommodation out of area and he lost his methadone "
            "script: the pharmacy there would not take him on.",
            "Recovery found him a prescriber within the week.",
            "Nobody moves the script when we place someone out of area.",
            ["Housing", "Substance use"],
        ),
    ],
    "hospital": [
        (
            "Patient (NHS 943 476 5919) stayed 9 extra days waiting for a housing assessment.",
            "Outreach came onto the ward.",
            "Housing can't assess until a discharge date is fixed, and we can't fix one without "
            "an address.",
            ["Hospital discharge", "Housing", "Thresholds and eligibility"],
        ),
        (
            "Asking 'where will you sleep tonight?' on admission changed the whole plan.",
            "A simple question at the right time.",
            "It isn't on the admission form, and referral forms ask too much, too early.",
            ["Hospital discharge"],
        ),
    ],
    "outreach": [
        (
            "Someone we'd lost contact with came back because the same worker kept texting.",
            "Continuity — one person, not a team inbox.",
            "Phones get stolen; we need a way to reach people that doesn't depend on one.",
            ["Mental health"],
        ),
        (
            "Rough sleeper at BA1 1AA was refused a mental health assessment because he'd been "
            "drinking.",
            "The GP wrote a letter.",
            "The 'sober first' rule for assessments shuts out the people who most need them.",
            ["Mental health", "Substance use", "Thresholds and eligibility"],
        ),
        (
            "A woman on OST went three days without a dose after being put in a B&B across the "
            "county: her methadone script did not follow her to a local chemist.",
            "The recovery worker drove her to the old pharmacy.",
            "Nobody moves the script when someone is placed out of area.",
            ["Substance use", "Housing"],
        ),
    ],
    "recovery": [
        (
            "Holding appointments at the day centre doubled attendance.",
            "Going to where people are.",
            "Our booking system only allows clinic rooms.",
            ["Substance use"],
        ),
        (
            "Clients placed in TA out of area lose their methadone script - no pharmacy near the "
            "placement will dispense without a new prescriber.",
            "Ringing the new pharmacy before the move.",
            "Housing tells us about a move after it has happened.",
            ["Substance use", "Housing"],
        ),
        (
            "A woman told us about abuse at home only after the third visit; call her on "
            "07700 900123 was on the referral — we removed it.",
            "Time and trust.",
            "Referral forms ask for too much, too early.",
            ["Domestic abuse", "Information sharing"],
        ),
    ],
}
# The same learning told by several agencies in their own words: always shared with the alliance
# under the author's name, so the demo digest shows a cross-agency pattern with agencies named.
SHARED_WITH_NAME = frozenset(
    entry[0] for entries in LEARNINGS.values() for entry in entries if "methadone" in entry[0]
)
REPLIES = [
    "Short one: joint visits with housing save everyone time.",
    "Learned that people answer texts more than calls.",
    "Nothing big — but the new hub is working well for drop-ins.",
]


@dataclass
class ConsoleMessenger:
    """Stands in for Slack in the demo: keeps a transcript of what would have been sent."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    counter: int = 0

    def _ref(self, channel: str) -> MessageRef:
        self.counter += 1
        return MessageRef(channel=f"D{channel}", ts=f"{1_700_000_000 + self.counter}.000100")

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Record a message."""
        self.sent.append((message.summary.plain(), to))
        return self._ref(to)

    def update(self, ref: MessageRef, message: Message) -> None:
        """Record a message re-rendered in place."""
        self.sent.append((f"updated: {message.summary.plain()}", ref.channel))

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """Record a file DM (issue 6: a data export)."""
        self.sent.append((f"file {filename}", user_id))

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """Record a digest (issue 4; the demo prints it instead)."""
        self.sent.append(("digest", channel))
        ref = self._ref(channel)
        if progress is not None and not progress.parts:
            progress.total = 1
            progress.accepted(0, ref)
        return ref

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Record a chart upload (issue 4)."""
        self.sent.append((f"chart {filename}", channel))

    def join_channel(self, channel: str) -> None:
        """Nothing to join in the demo (issue 4)."""

    def channel_members(self, channel: str) -> list[str]:
        """No channels in the demo alliance."""
        return []

    def usergroup_members(self, usergroup: str) -> list[str]:
        """No user groups in the demo alliance (issue 3)."""
        return []

    def user_profile(self, user_id: str) -> UserProfile | None:
        """No profiles: everyone is in the alliance's time zone (issue 3)."""
        return None

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """Nothing is ever in doubt in the demo (issue 3)."""
        return None

    # Issue 5: escalations.

    def link_to(self, ref: MessageRef) -> str | None:
        """No links outside Slack."""
        return None


def _thursday_afternoon(weeks_ago: int, zone: dt.tzinfo) -> dt.datetime:
    today = dt.datetime.now(zone).date()
    thursday = today - dt.timedelta(days=(today.weekday() - 3) % 7, weeks=weeks_ago)
    return dt.datetime.combine(thursday, dt.time(15, 5), tzinfo=zone)


def run_demo(database_url: str, weeks: int, console: Console) -> Services:
    """Create a fresh demo database and walk `weeks` weeks of the check-in loop through it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    engine = make_engine(database_url)
    migrate(engine)
    alliance = load_alliance(EXAMPLE_CONFIG)
    zone = alliance.alliance.zone
    now = {"t": _thursday_afternoon(weeks, zone)}
    messenger = ConsoleMessenger()
    services = build_services(UnitOfWorkFactory(engine), alliance, messenger, lambda: now["t"])
    services.members.sync_config()
    rng = random.Random(2026)
    console.print(f"[bold]LearnLoop demo[/bold] — {alliance.alliance.name}")
    console.print(f"Config: {EXAMPLE_CONFIG}\nDatabase: {database_url}\n")

    outcomes: Counter[str] = Counter()
    removed: list[str] = []
    week_table = Table("week", "prompts sent", "shared (form)", "replied", "skipped", "no answer")
    # Issue 8: a progress bar while the weeks are walked (it disappears when done).
    weeks_walked = track(
        range(weeks, 0, -1), description="Prompts and check-ins", console=console, transient=True
    )
    for week in weeks_walked:
        now["t"] = _thursday_afternoon(week - 1, zone)
        reports = services.prompts.send(now=True)
        week_counts: Counter[str] = Counter()
        for agency in alliance.agencies:
            for user_id in agency.members:
                roll = rng.random()
                now["t"] += dt.timedelta(minutes=rng.randint(1, 90))
                prompt_id = _open_prompt(services, user_id)
                if roll < 0.6:
                    happened, helped, hindered, themes = rng.choice(LEARNINGS[agency.id])
                    saved = services.checkins.submit(
                        "slack",
                        user_id,
                        answers={"learned": happened, "helped": helped, "got_in_the_way": hindered},
                        themes=themes,
                        visibility=_visibility(happened, rng.choice(list(Visibility))),
                        source=Source.DEMO,
                        prompt_id=prompt_id,
                    )
                    services.checkins.thank(user_id, saved)
                    if saved.redaction_summary:
                        removed.append(saved.redaction_summary)
                    week_counts["form"] += 1
                elif roll < 0.75:
                    saved = services.checkins.submit_reply(
                        "slack", user_id, rng.choice(REPLIES), event_id=f"demo-{week}-{user_id}"
                    )
                    services.checkins.confirm_reply(f"D{user_id}", saved)
                    week_counts["reply"] += 1
                elif roll < 0.9 and prompt_id is not None:
                    services.checkins.skip("slack", user_id, prompt_id)
                    week_counts["skip"] += 1
                else:
                    week_counts["none"] += 1
        sent = sum(r.sent for r in reports)
        outcomes.update(week_counts)
        week_table.add_row(
            now["t"].strftime("%G-W%V"),
            str(sent),
            str(week_counts["form"]),
            str(week_counts["reply"]),
            str(week_counts["skip"]),
            str(week_counts["none"]),
        )
    console.print(week_table)
    _print_summary(services, console, removed)
    show_digest(services, database_url, weeks, console)  # issue 4: the digest, chart and report
    return services


def _visibility(learning: str, drawn: Visibility) -> Visibility:
    # Drawn either way, so every other check-in of the demo stays as it was.
    return Visibility.ALLIANCE if learning in SHARED_WITH_NAME else drawn


def _open_prompt(services: Services, user_id: str) -> int | None:
    with services.uow() as uow:
        member = uow.members.by_platform_id("slack", user_id)
        prompt = uow.prompts.latest_open(member.id) if member else None
        return prompt.id if prompt else None


def _print_summary(services: Services, console: Console, removed: list[str]) -> None:
    with services.uow() as uow:
        by_agency = uow.checkins.counts_by_agency()
        by_theme = uow.checkins.counts_by_theme()
        statuses = uow.prompts.counts_by_status()
    names = {a.id: a.name for a in services.alliance.agencies}
    threshold = services.alliance.alliance.suppress_below
    # The same rule as every digest: small counts in words, agencies in name order (no ranking).
    agencies = Table(
        "agency", "check-ins", title="Check-ins by agency (counts only, anonymous left out)"
    )
    for agency_id, count in sorted(by_agency.items(), key=lambda kv: names.get(kv[0], kv[0])):
        agencies.add_row(names.get(agency_id, agency_id), suppressed(count, threshold))
    themes = Table("theme", "check-ins", title="Check-ins by theme")
    shown = {theme: suppress(count, threshold) for theme, count in by_theme.items()}
    for theme, count in sorted(shown.items(), key=lambda kv: (-kv[1].sort_key, kv[0])):
        themes.add_row(theme, str(count))
    console.print(agencies)
    console.print(themes)
    console.print(
        "Prompt ledger: "
        + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    )
    if removed:
        console.print(
            f"\nRedaction before storage: {len(removed)} check-ins had identifiers removed, e.g. "
            f"“{removed[0]}”"
        )
    console.print(
        "\nNext: `learnloop check-config bot/examples/alliance.yml`, then the README's "
        "Socket Mode steps to try it in a real Slack workspace."
    )
