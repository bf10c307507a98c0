"""`learnloop demo`: the example alliance, a few weeks of check-ins, through the real services."""

from __future__ import annotations

import datetime as dt
import random
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rich.console import Console
from rich.progress import track
from sqlalchemy.engine import make_url

from bot.alliance import AllianceConfig, load_alliance
from bot.app import build, open_database
from bot.cli.common import table
from bot.cli.demo_digest import demo_output_dir, show_digest
from bot.cli.terminal import form_text, message_text
from bot.domain.checkins import Source, Visibility
from bot.domain.escalation import Action
from bot.domain.suppression import suppress, suppressed
from bot.ports import DigestProgress, MessageRef, UserProfile
from bot.services import Services
from bot.services.barriers import Change
from bot.settings import EXAMPLE_CONFIG, Settings, load_settings
from bot.views.checkin import checkin_form
from bot.views.message import Message, Thread

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
# One agency on Microsoft Teams (the rest are on Slack): one alliance, one digest.
TEAMS_AGENCY = {
    "id": "probation",
    "name": "Somerset Probation Delivery Unit",
    "platform": "teams",
    "members": ["6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"],
}
TEAMS_LEARNINGS = [
    (
        "A man leaving prison had nowhere to go on release day because the housing referral "
        "was sent the day before.",
        "The prison resettlement worker rang housing directly.",
        "Referrals go out too late for an address on release day.",
        ["Housing", "Thresholds and eligibility"],
    ),
    (
        "Licence conditions were easier to keep once the recovery worker joined the first "
        "appointment.",
        "A joint first appointment.",
        "Our systems can't see each other's appointments.",
        ["Substance use", "Information sharing"],
    ),
]
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
    # The first message each person was sent, as the view wrote it (the demo shows one).
    first: dict[str, Message] = field(default_factory=dict)

    def _ref(self, channel: str) -> MessageRef:
        self.counter += 1
        return MessageRef(channel=f"D{channel}", ts=f"{1_700_000_000 + self.counter}.000100")

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Record a message."""
        self.sent.append((message.summary.plain(), to))
        self.first.setdefault(to, message)
        return self._ref(to)

    def pace_key(self, to: str) -> str:
        """One pace: nothing leaves this process."""
        return ""

    def update(self, ref: MessageRef, message: Message) -> None:
        """Record a message re-rendered in place."""
        self.sent.append((f"updated: {message.summary.plain()}", ref.channel))

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """Record a file DM (a data export)."""
        self.sent.append((f"file {filename}", user_id))

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """Record a digest (the demo prints it instead)."""
        self.sent.append(("digest", channel))
        ref = self._ref(channel)
        if progress is not None and not progress.parts:
            progress.total = 1
            progress.accepted(0, ref)
        return ref

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Record a chart upload."""
        self.sent.append((f"chart {filename}", channel))

    def join_channel(self, channel: str) -> None:
        """Nothing to join in the demo."""

    def channel_members(self, channel: str) -> list[str]:
        """No channels in the demo alliance."""
        return []

    def usergroup_members(self, usergroup: str) -> list[str]:
        """No user groups in the demo alliance."""
        return []

    def user_profile(self, user_id: str) -> UserProfile | None:
        """No profiles: everyone is in the alliance's time zone."""
        return None

    def user_by_email(self, platform: str, email: str, where: str | None = None) -> str | None:
        """No directory in the demo: nobody is found by address."""
        return None

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """Nothing is ever in doubt in the demo."""
        return None

    def fewer_senders(self) -> None:
        """Nothing is paced in the demo."""

    def can_find_prompt(self, user_id: str) -> bool:
        """Nothing to read back: nothing is ever in doubt in the demo."""
        return True

    # Escalations.

    def link_to(self, ref: MessageRef) -> str | None:
        """No links outside Slack."""
        return None


def _thursday_afternoon(weeks_ago: int, zone: dt.tzinfo) -> dt.datetime:
    today = dt.datetime.now(zone).date()
    thursday = today - dt.timedelta(days=(today.weekday() - 3) % 7, weeks=weeks_ago)
    return dt.datetime.combine(thursday, dt.time(15, 5), tzinfo=zone)


DEMO_CONFIG_FILE = "learnloop-demo.yml"


def write_demo_alliance(folder: Path) -> Path:
    """The example alliance plus one agency on Teams, written beside the demo database.

    The commands the demo prints at the end read it, so they see the same alliance.
    """
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data["agencies"].append(TEAMS_AGENCY)
    path = folder / DEMO_CONFIG_FILE
    path.write_text(
        "# Written by `learnloop demo`: the example alliance with one agency on Teams.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def _demo_settings(database_url: str, config: Path) -> Settings:
    """The demo's own database and alliance file; no platform, whatever is set."""
    return load_settings(
        database_url=database_url,
        learnloop_config=config,
        teams_client_id=None,
        slack_client_id=None,
        slack_client_secret=None,
    )


def run_demo(database_url: str, weeks: int, console: Console) -> Services:
    """Create a fresh demo database and walk `weeks` weeks of the check-in loop through it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    # A fresh schema (PostgreSQL's too), then the same composition root as every command.
    open_database(database_url, upgrade=True).dispose()
    folder = demo_output_dir(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    config = write_demo_alliance(folder)
    alliance = load_alliance(config)
    zone = alliance.alliance.zone
    now = {"t": _thursday_afternoon(weeks, zone)}
    messenger = ConsoleMessenger()
    services = build(
        _demo_settings(database_url, config),
        alliance,
        clock=lambda: now["t"],
        messenger=messenger,
        with_slack=False,
    ).services
    rng = random.Random(2026)
    # Its own draws, so the Slack agencies' weeks are the same with or without it.
    teams_rng = random.Random(2027)
    console.print(f"LearnLoop demo — {alliance.alliance.name}", style="bold")
    console.print(f"Config: {config}\nDatabase: {database_url}\n")

    outcomes: Counter[str] = Counter()
    removed: list[str] = []
    barrier_source: tuple[str, int, str] | None = None
    week_table = table("week", "prompts sent", "shared (form)", "replied", "skipped", "no answer")
    # A progress bar while the weeks are walked (it disappears when done).
    weeks_walked = track(
        range(weeks, 0, -1), description="Prompts and check-ins", console=console, transient=True
    )
    for week in weeks_walked:
        now["t"] = _thursday_afternoon(week - 1, zone)
        reports = services.prompts.send(now=True)
        week_counts: Counter[str] = Counter()
        if week == weeks:
            _show_what_a_practitioner_sees(services, messenger, alliance, console)
        for agency in alliance.agencies:
            if agency.platform == "teams":
                for user_id in agency.members:
                    _teams_checkin(services, user_id, teams_rng, week_counts)
                continue
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
                    # The barrier walked up the ladder is the methadone script one when housing
                    # told it (its outcome says what was done); other recurring barriers stay
                    # unraised, so the digest flags them.
                    if agency.id == BARRIER_AGENCY and (
                        barrier_source is None
                        or "script" in hindered
                        or "script" not in barrier_source[2]
                    ):
                        barrier_source = (user_id, saved.checkin_id, hindered)
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
    if barrier_source is not None:
        now["t"] += dt.timedelta(hours=1)
        _walk_a_barrier(services, messenger, barrier_source, now, console)
    _print_summary(services, console, removed)
    show_digest(services, database_url, weeks, console)  # The digest, chart and report
    _print_next(database_url, config, weeks, services, console)
    return services


def _show_what_a_practitioner_sees(
    services: Services, messenger: ConsoleMessenger, alliance: AllianceConfig, console: Console
) -> None:
    """The first week's prompt and the form behind "Share a learning", as text."""
    practitioner = next(
        (m for a in alliance.agencies if a.platform != "teams" for m in a.members), None
    )
    prompt = messenger.first.get(practitioner) if practitioner else None
    if practitioner is None or prompt is None:
        return
    qset = services.checkins.question_set_for("slack", practitioner)
    form = checkin_form(alliance.version, qset, alliance.themes).blank
    console.print(f"What {practitioner} sees: the weekly prompt in a DM", style="bold")
    console.print(message_text(prompt), markup=False, highlight=False)
    console.print('\n…and, after pressing "Share a learning", the form:', style="bold")
    console.print(form_text(form) + "\n", markup=False, highlight=False)


# The barrier the demo raises comes from a check-in of this agency.
BARRIER_AGENCY = "housing"
BARRIER_OUTCOME = (
    "Housing now tells the recovery service two days before an out-of-area placement, and the "
    "prescription moves with the person."
)


def _walk_a_barrier(
    services: Services,
    messenger: ConsoleMessenger,
    source: tuple[str, int, str],
    now: dict[str, dt.datetime],
    console: Console,
) -> None:
    """Raise a barrier from a check-in and walk it up the whole ladder to resolved.

    Each step goes through the same service calls as a steward's buttons, and shows what the
    person who raised it was told (the messenger's transcript, nothing written here).
    """
    raiser, checkin_id, hindered = source
    ladder = services.alliance.escalation_ladder
    steward = services.alliance.roles.stewards[0]
    names = {rung.level: rung.name for rung in ladder}
    console.print(
        f"\nA barrier from {raiser}'s check-in #{checkin_id}, up the ladder", style="bold"
    )
    grid = table("step", "by", "now at", "the raiser was told", whole=("step", "by", "now at"))

    def step(label: str, actor: str, change: Change) -> None:
        before = len(messenger.sent)
        services.escalations.publish(change)
        told = [text for text, to in messenger.sent[before:] if to == raiser]
        level = f"{names.get(change.to_level, change.to_level)} ({change.to_level})"
        grid.add_row(label, actor, level, "; ".join(told) or "—")
        now["t"] += dt.timedelta(minutes=30)  # the same afternoon: this week's digest has it

    raised = services.escalations.raise_barrier(
        "slack",
        raiser,
        title=hindered.split(". ")[0].rstrip(".")[:80],
        description=hindered,
        who_is_affected="People placed in temporary accommodation out of area",
        agencies=[BARRIER_AGENCY],
        level=ladder[0].level,
        anonymous=False,
        checkin_ids=[checkin_id],
    )
    step("raised", raiser, raised)
    for _ in ladder[1:]:
        change = services.escalations.act(
            "slack", steward, raised.barrier_id, None, Action.ESCALATE
        )
        step("escalated", steward, change)
    resolved = services.escalations.act(
        "slack", steward, raised.barrier_id, None, Action.RESOLVE, note=BARRIER_OUTCOME
    )
    step("resolved", steward, resolved)
    console.print(grid)


def _teams_checkin(
    services: Services, user_id: str, rng: random.Random, counts: Counter[str]
) -> None:
    """A Teams member shares a learning through the same service as a Slack member."""
    prompt_id = _open_prompt(services, user_id, "teams")
    happened, helped, hindered, themes = rng.choice(TEAMS_LEARNINGS)
    saved = services.checkins.submit(
        "teams",
        user_id,
        answers={"learned": happened, "helped": helped, "got_in_the_way": hindered},
        themes=themes,
        visibility=Visibility.ALLIANCE,
        source=Source.DEMO,
        prompt_id=prompt_id,
    )
    services.checkins.thank(user_id, saved)
    counts["form"] += 1


def _visibility(learning: str, drawn: Visibility) -> Visibility:
    # Drawn either way, so every other check-in of the demo stays as it was.
    return Visibility.ALLIANCE if learning in SHARED_WITH_NAME else drawn


def _open_prompt(services: Services, user_id: str, platform: str = "slack") -> int | None:
    with services.uow() as uow:
        member = uow.members.by_platform_id(platform, user_id)
        prompt = uow.prompts.latest_open(member.id) if member else None
        return prompt.id if prompt else None


LEDGER_WORDS = {
    "pending": "waiting to be delivered",
    "sent": "delivered, not answered",
    "expired": "expired unanswered",
}


def next_commands(database_url: str, config: Path, weeks: int, today: dt.date) -> list[str]:
    """Commands that work as printed against the demo's own database and alliance file."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    where = url.render_as_string(hide_password=False)
    first = today - dt.timedelta(weeks=weeks)
    return [
        f"export DATABASE_URL={shlex.quote(where)} LEARNLOOP_CONFIG={shlex.quote(str(config))}",
        "learnloop digest preview --destination alliance",
        "learnloop digest preview --destination manager:hospital:U0MGR2",
        "learnloop prompts status",
        "learnloop barriers export --format csv",
        f"learnloop report --from {first:%Y-%m-%d} --to {today:%Y-%m-%d} --out report.html",
        f"learnloop check-config {shlex.quote(str(config))}",
    ]


def _print_next(
    database_url: str, config: Path, weeks: int, services: Services, console: Console
) -> None:
    today = services.checkins.clock().astimezone(services.alliance.alliance.zone).date()
    console.print("\nNext: try the operator's commands on the demo's data", style="bold")
    for command in next_commands(database_url, config, weeks, today):
        console.print(f"  {command}", soft_wrap=True)
    console.print(
        "Then follow the README's Socket Mode steps to try LearnLoop in a real Slack workspace."
    )


def _print_summary(services: Services, console: Console, removed: list[str]) -> None:
    with services.uow() as uow:
        by_agency = uow.checkins.counts_by_agency()
        by_theme = uow.checkins.counts_by_theme()
        statuses = uow.prompts.counts_by_status()
    names = {a.id: a.name for a in services.alliance.agencies}
    threshold = services.alliance.alliance.suppress_below
    # The same rule as every digest: small counts in words, agencies in name order (no ranking).
    agencies = table(
        "agency", "check-ins", title="Check-ins by agency (counts only, anonymous left out)"
    )
    for agency_id, count in sorted(by_agency.items(), key=lambda kv: names.get(kv[0], kv[0])):
        agencies.add_row(names.get(agency_id, agency_id), suppressed(count, threshold))
    themes = table("theme", "check-ins", title="Check-ins by theme")
    shown = {theme: suppress(count, threshold) for theme, count in by_theme.items()}
    for theme, count in sorted(shown.items(), key=lambda kv: (-kv[1].sort_key, kv[0])):
        themes.add_row(theme, str(count))
    console.print(agencies)
    console.print(themes)
    # The ledger's states in an operator's words: "sent" alone read as if all were fine.
    console.print(
        "Prompt ledger: "
        + ", ".join(
            f"{LEDGER_WORDS.get(status, status)} {count}"
            for status, count in sorted(statuses.items())
        )
    )
    if removed:
        console.print(
            f"\nRedaction before storage: {len(removed)} check-ins had identifiers removed, e.g. "
            f"“{removed[0]}”"
        )
