"""The App Home: what it holds for one person, and the words it shows them.

What a person sees depends on their roles: everyone sees their own check-ins (and can edit,
re-share or delete each), schedule and privacy actions; a steward also sees the open barriers
by ladder level; an admin also sees the configuration and delivery health — counts only,
never a person. `home_page` writes a `HomeView` as neutral blocks; the person's own entries
are laid out by their own view and go between `HomePage.before_entries` and `after_entries`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import START_AGAIN
from bot.domain.pause import DEFAULT_PAUSE
from bot.domain.suppression import Count
from bot.views.digest import NOTE_OFF, NOTE_ON
from bot.views.entries import EntriesView
from bot.views.message import Actions, Block, Button, Divider, Heading, Paragraph
from bot.views.privacy import DELETE, EXPORT, PrivacyAction
from bot.views.words import Cmd, Command, Link, Literal, Span, Strong, Words, joined, words


class HomeAction(StrEnum):
    """Ids of the App Home's own buttons (it also shows the privacy panel's Export and Delete)."""

    PAUSE = "home_pause"
    RESUME = "home_resume"
    NOTE_OFF = "home_note_off"
    NOTE_ON = "home_note_on"


@dataclass(frozen=True)
class HomeSchedule:
    """When the person is asked, and whether they paused it."""

    cohort_id: str | None
    when: str | None  # "Thursdays at 15:00", or None when no cohort covers them
    time_zone: str
    reminder: str | None
    paused_until: dt.date | None


@dataclass(frozen=True)
class HomeBarrier:
    """An open barrier as a steward sees it in the list."""

    title: str
    status_label: str
    days_since_change: int
    card_url: str | None


@dataclass(frozen=True)
class HomeLevel:
    """One rung of the ladder with its open barriers."""

    name: str
    barriers: tuple[HomeBarrier, ...]


@dataclass(frozen=True)
class HomeAdmin:
    """The configuration and delivery health, counts only."""

    alliance_name: str
    agencies: int
    agencies_by_platform: dict[str, int]
    cohorts: int
    digests: int
    themes: int
    ladder: tuple[str, ...]
    retention_months: int
    suppress_below: int
    # Counts about people and deliveries pass the suppression rule like every other output.
    members: dict[str, Count]  # active, paused, inactive
    prompts: dict[str, Count]  # by ledger status, last `days` days
    prompt_errors: dict[str, Count]  # failed prompts by error code
    digests_by_status: dict[str, Count]
    days: int


@dataclass(frozen=True)
class HomeView:
    """Everything the App Home shows one person."""

    roles: frozenset[str]
    is_member: bool
    data_deleted: bool = False
    agency_name: str | None = None
    entries: EntriesView | None = None  # the person's own entries, with what they can change
    schedule: HomeSchedule | None = None
    levels: tuple[HomeLevel, ...] | None = None  # stewards only
    open_barriers: int = 0
    admin: HomeAdmin | None = None  # admins only
    notice: Words | str | None = None  # the result of a button just pressed
    problem: Words | str | None = None  # why a button just pressed did nothing
    alliance_note: bool = True  # whether the person gets the weekly alliance note


@dataclass(frozen=True)
class HomePage:
    """The App Home as blocks, split where the person's own entries go."""

    before_entries: tuple[Block, ...]
    after_entries: tuple[Block, ...] = ()


def _date(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _said(text: Words | str) -> Words:
    return text if isinstance(text, Words) else words(text)


def _lines(*lines: Words | Span) -> Words:
    return joined(lines, "\n")


def _counts(counts: dict[str, Count]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in sorted(counts.items()))


def paused_notice(until: dt.date) -> Words:
    """After "Pause prompts"."""
    return words(f"Paused: no prompts until {_date(until)}.")


def resumed_notice() -> Words:
    """After "Resume my prompts"."""
    return words("Welcome back — your weekly prompt is on again.")


def exported_notice() -> Words:
    """After "Export my data" on the App Home: the file went to the person's messages."""
    return words("Your data is in your messages with LearnLoop, as a file only you can see.")


def delete_pending_notice() -> Words:
    """After "Delete my data" on the App Home: the confirmation went to their messages."""
    return words("Nothing is deleted yet: confirm it in your messages with LearnLoop.")


def _schedule(schedule: HomeSchedule) -> list[Block]:
    title = Strong("Your weekly prompt")
    if schedule.when is None:
        lines: list[Words | Span] = [
            title,
            words(
                "No cohort covers your agency, so LearnLoop doesn't send you a weekly prompt. "
                "You can share a learning any time with ",
                Cmd(Command.CHECKIN),
                ".",
            ),
        ]
    else:
        lines = [title, f"{schedule.when}, your time ({schedule.time_zone})."]
        if schedule.reminder:
            lines.append(schedule.reminder + ".")
    if schedule.paused_until is not None:
        lines.append(words("⏸️ ", Strong("Paused"), f" until {_date(schedule.paused_until)}."))
        button = Button("Resume my prompts", HomeAction.RESUME)
    else:
        weeks = DEFAULT_PAUSE.days // 7
        button = Button(f"Pause prompts for {weeks} weeks", HomeAction.PAUSE)
    blocks: list[Block] = [Paragraph(_lines(*lines))]
    if schedule.when is not None:
        blocks.append(Actions((button,)))
    return blocks


def _alliance_note(on: bool) -> list[Block]:
    """The weekly alliance note: whether it comes, and the one button that changes it."""
    title = Strong("The weekly alliance note")
    if on:
        said = "Each week you get a short note of what the whole alliance learned."
        button = Button(NOTE_OFF, HomeAction.NOTE_OFF)
    else:
        said = "You don't get the weekly note of what the whole alliance learned."
        button = Button(NOTE_ON, HomeAction.NOTE_ON)
    return [Paragraph(_lines(title, said)), Actions((button,))]


def _privacy() -> list[Block]:
    return [
        Paragraph(
            _lines(
                Strong("Your data"),
                "Only you can see this page. You can have a copy of everything LearnLoop holds "
                "about you, or delete it.",
            )
        ),
        Actions((Button(EXPORT, PrivacyAction.EXPORT), Button(DELETE, PrivacyAction.DELETE))),
    ]


def _not_a_member(view: HomeView) -> Block:
    if view.data_deleted:
        return Paragraph(
            words(
                "You deleted your LearnLoop data, so you get no prompts and nothing about you "
                "is kept. To take part again, ",
                START_AGAIN,
                ".",
            )
        )
    return Paragraph(
        words(
            "You're not on LearnLoop's list for any agency yet, so you don't get the weekly "
            "prompt. Ask your LearnLoop admin to add you to your agency in the alliance file."
        )
    )


def _level(level: HomeLevel) -> Block:
    if not level.barriers:
        return Paragraph(words(Strong(level.name), " — no open barriers"))
    lines: list[Words | Span] = [words(Strong(level.name), f" — {len(level.barriers)} open")]
    for barrier in level.barriers:
        title: Span = Link(barrier.card_url, barrier.title) if barrier.card_url else barrier.title
        days = barrier.days_since_change
        age = "changed today" if days == 0 else f"no change for {days} day{'s' * (days != 1)}"
        lines.append(words("• ", title, f" — {barrier.status_label}, {age}"))
    return Paragraph(_lines(*lines))


def _steward(view: HomeView) -> list[Block]:
    blocks: list[Block] = [Divider(), Heading("Open barriers by level")]
    if not view.levels:
        blocks.append(Paragraph(words("No escalation ladder is configured.")))
    blocks += [_level(level) for level in view.levels or ()]
    blocks.append(
        Paragraph(
            words(
                f"{view.open_barriers} open in all. ",
                Cmd(Command.BARRIERS),
                " lists them with links; ",
                Cmd(Command.ESCALATE),
                " raises one.",
            ),
            subtle=True,
        )
    )
    return blocks


def _admin(admin: HomeAdmin) -> list[Block]:
    platforms = ", ".join(f"{p.title()} {n}" for p, n in sorted(admin.agencies_by_platform.items()))
    ladder = " → ".join(admin.ladder) or "none"
    config = _lines(
        Strong(admin.alliance_name),
        f"Agencies: {admin.agencies} ({platforms})",
        f"Cohorts: {admin.cohorts} · Digests: {admin.digests} · Themes: {admin.themes}",
        f"Escalation ladder: {ladder}",
        f"Check-ins kept {admin.retention_months} months; counts under "
        f"{admin.suppress_below} shown as “fewer than {admin.suppress_below}”",
    )
    health: list[Words | Span] = [
        words(Strong(f"Delivery, last {admin.days} days"), " (counts only)"),
        f"Prompts: {_counts(admin.prompts)}",
    ]
    if admin.prompt_errors:
        health.append(f"Failed prompts by reason: {_counts(admin.prompt_errors)}")
    health += [
        f"Digests: {_counts(admin.digests_by_status)}",
        f"People: {_counts(admin.members)}",
    ]
    return [
        Divider(),
        Heading("Configuration and delivery"),
        Paragraph(config),
        Paragraph(_lines(*health)),
        Paragraph(
            words(
                Literal("learnloop check-config"),
                " checks the alliance file; ",
                Literal("/metrics"),
                " has the rest.",
            ),
            subtle=True,
        ),
    ]


def home_page(view: HomeView) -> HomePage:
    """Everything the App Home shows one person, by role."""
    top: list[Block] = [Heading("LearnLoop")]
    if view.notice:
        top.append(Paragraph(words("✅ ", _said(view.notice))))
    if view.problem:
        top.append(Paragraph(words("⚠️ ", _said(view.problem))))
    rest: list[Block] = []
    if not view.is_member:
        top.append(_not_a_member(view))
    else:
        if view.schedule is not None:
            top += _schedule(view.schedule)
        top += _alliance_note(view.alliance_note)
        top.append(Divider())
        rest.append(Divider())
        rest += _privacy()
    if view.levels is not None:
        rest += _steward(view)
    if view.admin is not None:
        rest += _admin(view.admin)
    return HomePage(tuple(top), tuple(rest))
