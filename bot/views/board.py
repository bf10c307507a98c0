"""The Learning Board's words and view-models: every sentence its pages show, written once.

The templates under `bot/web/templates/board/` only lay these out; what a viewer may see was
decided before a view is built (`bot.services.board`, through the one privacy place).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.views.digest import Pattern, ThemeLine
from bot.views.inquiry import InquiryLine
from bot.views.message import Message

# ------------------------------------------------------------------------ fixed words


@dataclass(frozen=True)
class BoardText:
    """The board's headings, labels and buttons (labelled by what they do)."""

    product: str = "Learning Board"
    skip: str = "Skip to the content"
    nav_label: str = "Board pages"
    nav_week: str = "This week"
    nav_barriers: str = "Barrier register"
    nav_themes: str = "Themes over time"
    nav_inquiries: str = "Inquiries"
    nav_report: str = "Review pack"
    signed_in_as: str = "Signed in as"
    sign_out: str = "Sign out"
    # Sign-in
    signin_title: str = "Sign in to the Learning Board"
    signin_intro: str = (
        "Enter the e-mail address the alliance has for you. We will send you a link that "
        "signs you in; it works once, for 15 minutes."
    )
    email_label: str = "Your e-mail address"
    send_link: str = "Send me a sign-in link"
    slack_signin: str = "Sign in with Slack"
    link_sent_title: str = "Check your e-mail"
    link_sent: str = (
        "If that address is on the alliance's list, a sign-in link is on its way. It works "
        "once, for 15 minutes. Nothing arrived? Ask your LearnLoop admin to check the address "
        "they have for you."
    )
    confirm_title: str = "Finish signing in"
    confirm_intro: str = "Press the button to sign in to the Learning Board on this device."
    confirm_button: str = "Sign in to the Learning Board"
    # The register
    register_title: str = "Barrier register"
    register_intro: str = (
        "Every barrier raised, where it is on the ladder, who owns it and everything that "
        "happened to it."
    )
    filter_heading: str = "Filter the register"
    level_label: str = "Ladder level"
    status_label: str = "Status"
    agency_label: str = "Agency"
    theme_label: str = "Theme"
    any_option: str = "Any"
    apply_filters: str = "Show matching barriers"
    clear_filters: str = "Clear the filters"
    col_barrier: str = "Barrier"
    col_level: str = "Level"
    col_status: str = "Status"
    col_owner: str = "Owner"
    col_age: str = "Age"
    col_agencies: str = "Agencies"
    history: str = "Ladder history"
    no_owner: str = "Nobody yet"
    no_barriers: str = "No barriers match these filters."
    you_said_title: str = "You said, we did"
    you_said_intro: str = "Barriers that were closed, and what changed — ready to share back."
    nothing_closed: str = "No barrier has been resolved or closed yet."
    previous_page: str = "Previous page"
    next_page: str = "Next page"
    # Themes
    themes_title: str = "Themes over time"
    themes_intro: str = (
        "How often each theme came up, week by week. Counts under the alliance's threshold "
        "read “fewer than N”, exactly as in the digests."
    )
    weeks_label: str = "Weeks to show"
    show_weeks: str = "Show these weeks"
    across_alliance: str = "Across the alliance"
    col_theme: str = "Theme"
    patterns_title: str = "Shared patterns, week by week"
    no_patterns: str = "No shared patterns this week."
    patterns_pending: str = (
        "This week's shared patterns are still being worked out: they will show here shortly."
    )
    no_themes: str = "Nothing was tagged with a theme in these weeks."
    # Inquiries
    inquiries_title: str = "Inquiries"
    no_inquiries: str = "No inquiries are open or closed recently."
    # The review pack
    report_title: str = "Review pack"
    report_intro: str = (
        "The learning review pack for any dates: the same page `learnloop report` writes."
    )
    from_label: str = "From (first day)"
    to_label: str = "To (last day)"
    open_report: str = "Open the review pack"
    download_report: str = "Download the review pack"
    week_title: str = "This week"
    weeks_nav_label: str = "Other weeks"
    back_to_this_week: str = "Back to this week"


TEXT = BoardText()

ROLE_NAMES = {
    "board": "Board member",
    "commissioner": "Commissioner",
    "steward": "System steward",
    "manager": "Agency manager",
}


@dataclass(frozen=True)
class Problem:
    """A page that says what went wrong and what to do; `status` is its HTTP status."""

    status: int
    title: str
    detail: str
    sign_in_again: bool = False


def link_not_valid() -> Problem:
    """A sign-in link that is forged, mangled or for nobody."""
    return Problem(
        400,
        "That sign-in link does not work",
        "The link is not one LearnLoop made, or it was cut short when it was copied. Ask for "
        "a new one.",
        sign_in_again=True,
    )


def link_expired() -> Problem:
    """A sign-in link older than 15 minutes."""
    return Problem(
        400,
        "That sign-in link has expired",
        "Sign-in links work for 15 minutes. Ask for a new one.",
        sign_in_again=True,
    )


def link_used() -> Problem:
    """A sign-in link that signed someone in already."""
    return Problem(
        400,
        "That sign-in link was used already",
        "Each link signs you in once. Ask for a new one.",
        sign_in_again=True,
    )


def bad_form() -> Problem:
    """A POST without the form's own check (CSRF token), or with the wrong one."""
    return Problem(
        400,
        "That form could not be accepted",
        "The form was sent without its check, or from another page. Go back, reload the page "
        "and send it again.",
    )


def bad_session() -> Problem:
    """A session cookie that was changed, or has expired."""
    return Problem(
        401,
        "Please sign in again",
        "Your sign-in could not be read (it may have expired). Sign in again to continue.",
        sign_in_again=True,
    )


def signed_out() -> Problem:
    """No session at all."""
    return Problem(
        401,
        "Please sign in",
        "The Learning Board is for the alliance's board, commissioners, stewards and managers.",
        sign_in_again=True,
    )


def not_for_you(what: str) -> Problem:
    """A page the viewer's role does not open."""
    return Problem(
        403,
        "This page is not open to you",
        f"{what} If you think you should see it, ask your LearnLoop admin about your role.",
    )


def not_on_board() -> Problem:
    """A chat account with no board role (a practitioner)."""
    return not_for_you(
        "The Learning Board is for board members, commissioners, system stewards and agency "
        "managers; your weekly learnings are in your chat app."
    )


def agency_page_refused() -> Problem:
    """Someone asking for an agency's own page who is not its manager."""
    return not_for_you("An agency's own page is for that agency's managers.")


def too_many_requests() -> Problem:
    """Too many sign-in links asked for from one place."""
    return Problem(
        429,
        "Too many sign-in links asked for",
        "Please wait 15 minutes before asking for another link.",
    )


def bad_dates() -> Problem:
    """A review pack asked for with dates that cannot be read."""
    return Problem(
        400,
        "Those dates could not be read",
        "Give the first and last day as dates (like 2026-10-01), the first one before the "
        "last, at most a year apart.",
    )


def not_found() -> Problem:
    """A page or filter value that does not exist."""
    return Problem(404, "There is no such page", "Go back to the Learning Board's front page.")


def slack_failed() -> Problem:
    """Slack's sign-in did not complete."""
    return Problem(
        400,
        "Signing in with Slack did not work",
        "Slack did not confirm who you are. Try again, or ask for an e-mail link.",
        sign_in_again=True,
    )


def bad_week() -> Problem:
    """A week asked for with a date that cannot be read."""
    return Problem(
        400,
        "That week could not be read",
        "Give the week as a date, like 2026-11-16 (year, month, day): the page shows the "
        "week, Monday to Sunday, that the day falls in.",
    )


def slack_other_workspace() -> Problem:
    """A Slack account from a workspace this deployment does not serve."""
    return Problem(
        403,
        "That Slack workspace is not the alliance's",
        "You signed in to a Slack workspace LearnLoop does not serve here. Sign in to Slack "
        "with the alliance's workspace and try again, or ask for an e-mail link.",
        sign_in_again=True,
    )


# ------------------------------------------------------------------------ weeks


def week_span(monday: dt.date) -> str:
    """A week's days in words: "9 to 15 November 2026" (months and years only when needed)."""
    sunday = monday + dt.timedelta(days=6)
    if monday.year != sunday.year:
        return f"{monday.day} {monday:%B %Y} to {sunday.day} {sunday:%B %Y}"
    if monday.month != sunday.month:
        return f"{monday.day} {monday:%B} to {sunday.day} {sunday:%B %Y}"
    return f"{monday.day} to {sunday.day} {sunday:%B %Y}"


@dataclass(frozen=True)
class WeekLink:
    """A link to another week: its words and the Monday it starts on (None: this week)."""

    label: str
    monday: dt.date | None


@dataclass(frozen=True)
class WeekNav:
    """Which week the page shows, the weeks either side, and what to say if it is empty."""

    heading: str
    this_week: bool
    previous: WeekLink
    next: WeekLink | None
    nothing: str | None = None


def week_nav(monday: dt.date, this_monday: dt.date, empty: bool) -> WeekNav:
    """The words around a week's page: its heading, "Previous week" and "Next week" (never
    past this week), and the message for a week with nothing to show."""
    span = week_span(monday)
    current = monday == this_monday
    before = monday - dt.timedelta(days=7)
    after = monday + dt.timedelta(days=7)
    following = None
    if after <= this_monday:
        following = WeekLink(
            f"Next week: {week_span(after)}", None if after == this_monday else after
        )
    nothing = None
    if monday > this_monday:
        nothing = f"The week of {span} has not happened yet, so there is nothing to show."
    elif empty and current:
        nothing = "Nothing has been shared this week yet. Come back later in the week."
    elif empty:
        nothing = (
            f"Nothing was shared in the week of {span}, and no barrier moved. Try the week before."
        )
    return WeekNav(
        heading="This week" if current else f"The week of {span}",
        this_week=current,
        previous=WeekLink(f"Previous week: {week_span(before)}", before),
        next=following,
        nothing=nothing,
    )


# ------------------------------------------------------------------------ the register


@dataclass(frozen=True)
class Option:
    """One choice in a filter's list."""

    value: str
    label: str


@dataclass(frozen=True)
class HistoryLine:
    """One event in a barrier's history, as a sentence."""

    at: dt.datetime
    text: str


@dataclass(frozen=True)
class RegisterRow:
    """One barrier on the board (never who raised it)."""

    barrier_id: int
    title: str
    description: str
    status_label: str
    level_name: str
    agencies: tuple[str, ...]
    owner: str | None
    age_days: int
    raised_on: dt.date
    outcome: str
    themes: tuple[str, ...]
    history: tuple[HistoryLine, ...]

    @property
    def age(self) -> str:
        """How long ago it was raised, in days."""
        return "raised today" if self.age_days == 0 else f"{self.age_days} days"


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is filtered by (None: any)."""

    level: str | None = None
    status: str | None = None
    agency: str | None = None
    theme: str | None = None
    page: int = 1


@dataclass(frozen=True)
class RegisterView:
    """A page of the register, the filters' choices, and "You said, we did"."""

    rows: tuple[RegisterRow, ...]
    total: int
    page: int
    pages: int
    filters: RegisterFilters
    levels: tuple[Option, ...]
    statuses: tuple[Option, ...]
    agencies: tuple[Option, ...]
    themes: tuple[Option, ...]
    you_said_we_did: tuple[RegisterRow, ...] = ()

    @property
    def shown(self) -> str:
        """How many barriers match."""
        noun = "barrier matches" if self.total == 1 else "barriers match"
        return f"{self.total} {noun}. Page {self.page} of {max(self.pages, 1)}."


_EVENT_WORDS = {
    "raised": "Raised",
    "acknowledged": "Acknowledged",
    "assigned": "Assigned",
    "escalated": "Escalated",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
    "in_progress": "Work started",
}


def history_line(
    kind: str,
    at: dt.datetime,
    actor: str | None,
    from_level: str | None,
    to_level: str | None,
    note: str | None,
) -> HistoryLine:
    """One event as a sentence: what happened, where it moved, by whom, and the note."""
    text = _EVENT_WORDS.get(kind, kind.replace("_", " ").capitalize())
    if kind == "escalated" and from_level and to_level:
        text += f" from {from_level} to {to_level}"
    elif to_level and kind == "raised":
        text += f" at {to_level}"
    if actor:
        text += f" by {actor}"
    if note:
        text += f": {note}"
    return HistoryLine(at=at, text=text)


# ------------------------------------------------------------------------ themes


@dataclass(frozen=True)
class ThemeWeek:
    """One week's theme lines and shared patterns, from that week's digest."""

    key: str
    label: str
    learnings: str
    lines: tuple[ThemeLine, ...]
    patterns: tuple[Pattern, ...]
    threshold: int
    # The week's patterns are not worked out yet (the worker keeps finished weeks' patterns;
    # a page never works out more than the running week's).
    patterns_pending: bool = False
    _cells: dict[tuple[str, str | None], str] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # The page asks for every theme x agency x week cell: look them up, not through lines.
        for line in self.lines:
            self._cells[(line.theme, None)] = str(line.total)
            for name, count in line.by_agency:
                self._cells.setdefault((line.theme, name), str(count))

    def count(self, theme: str, agency: str | None = None) -> str:
        """The week's count for a theme (alliance total, or one agency's), as words.

        A theme or agency missing from the week reads like any small count: zero is under the
        threshold too, and telling it apart from one or two would say what suppression hides.
        """
        return self._cells.get((theme, agency), f"fewer than {self.threshold}")


@dataclass(frozen=True)
class ThemesView:
    """Themes week by week, across the alliance (or one agency) and per agency."""

    weeks: tuple[ThemeWeek, ...]
    themes: tuple[str, ...]
    agencies: tuple[str, ...]
    total_heading: str
    weeks_shown: int
    week_choices: tuple[int, ...] = (4, 8, 12, 26)

    def rows(self, agency: str | None = None) -> list[tuple[str, list[str]]]:
        """One grid's rows: each theme with its count in every week (the alliance's total, or
        one agency's), as words."""
        return [(theme, [w.count(theme, agency) for w in self.weeks]) for theme in self.themes]


# ------------------------------------------------------------------------ inquiries


@dataclass(frozen=True)
class InquiryEntry:
    """An inquiry line and, where the viewer may read it, its summary."""

    line: InquiryLine
    summary: Message | None = None


@dataclass(frozen=True)
class InquiriesView:
    """Open and recently closed inquiries (for one agency's manager: the agency's name)."""

    entries: tuple[InquiryEntry, ...] = field(default_factory=tuple)
    agency: str | None = None

    @property
    def intro(self) -> str:
        """What the page lists, and whose entries its summaries read."""
        if self.agency is None:
            return (
                "Open learning inquiries, and those closed in the last 90 days, each with what "
                "it found across the cohort."
            )
        return (
            f"The inquiries {self.agency} takes part in, open or closed in the last 90 days. "
            f"Each summary is read from {self.agency}'s own learnings, as in its digest."
        )


def inquiry_line_text(line: InquiryLine) -> str:
    """An inquiry's facts as one line."""
    return (
        f"Cohort {line.cohort}, {line.started:%d %b %Y} to {line.ends:%d %b %Y}; "
        f"{line.status}; {line.learnings} learnings."
    )
