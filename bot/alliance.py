"""The alliance model: agencies, roles, cohorts, question sets, schedules, digests, the ladder.

Read from the alliance file (YAML), validated in one pass so an admin sees every problem at
once, each with its field path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import types
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.platforms import is_entra_object_id, platform_of
from bot.settings import SLACK_TEAM_PATTERN, ConfigError


class Weekday(StrEnum):
    """Days as written in the config."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """Monday is 0, as in `datetime.weekday()`."""
        return list(Weekday).index(self)


class QuestionKind(StrEnum):
    """How a question is answered."""

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllianceSettings(_Strict):
    """The `alliance:` block."""

    name: str = Field(min_length=1)
    timezone: str = "Europe/London"
    bank_holidays: Literal["ENG", "WLS", "SCT", "NIR"] | None = None
    suppress_below: int = Field(default=3, ge=1)
    retention_months: int = Field(default=24, ge=1)
    # In OAuth mode, the workspace of the alliance's own channels (digests, ladder)
    # and of agencies that name none.
    slack_team: str | None = Field(default=None, pattern=SLACK_TEAM_PATTERN)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/London)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The alliance time zone."""
        return ZoneInfo(self.timezone)


class Roles(_Strict):
    """The `roles:` block: platform user ids with alliance-wide roles."""

    stewards: list[str] = []
    admins: list[str] = []


class Agency(_Strict):
    """One organisation in the alliance and where its people are."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    platform: Literal["slack", "teams"] = "slack"
    members: list[str] = []
    channel: str | None = None
    usergroup: str | None = None
    managers: list[str] = []
    # The Slack workspace (team id) the agency's people are in, in OAuth mode.
    team: str | None = Field(default=None, pattern=SLACK_TEAM_PATTERN)
    # The Microsoft Entra tenant (its id, a GUID) a Teams agency's people are in, when it is not
    # the bot's own: their e-mail addresses are looked up in Microsoft Graph there.
    tenant: str | None = None
    # Where the first rung of the ladder ("agency leadership") posts this agency's barriers;
    # the rung's shared channel when unset.
    leadership_channel: str | None = None

    @property
    def directory(self) -> str | None:
        """Where the agency's people are looked up: its Slack workspace or Teams tenant (None:
        the deployment's own)."""
        return self.team if self.platform == "slack" else self.tenant

    @property
    def member_ids(self) -> list[str]:
        """The members listed by platform user id."""
        return [m for m in self.members if not is_email(m)]

    @property
    def member_emails(self) -> list[str]:
        """The members listed by e-mail address (looked up on the platform), lower-cased."""
        return [m.strip().lower() for m in self.members if is_email(m)]


# Slack's Block Kit limits a question set must fit, so `check-config` refuses a set
# that Slack would refuse when the modal opens (docs.slack.dev/reference/block-kit).
SLACK_MAX_MODAL_BLOCKS = 100
SLACK_MAX_OPTION_CHARS = 75
SLACK_MAX_SELECT_OPTIONS = 100
# Slack allows 2,000-character labels; LearnLoop keeps 150 so a label fits a phone screen
# without scrolling — a longer label is usually two questions in one (the hint can say more).
MAX_LABEL_CHARS = 150
# Blocks the check-in modal adds around a set's questions: the "don't name people" note, themes,
# who-can-see-this, and the inquiry and purpose questions when they are asked.
MODAL_EXTRA_BLOCKS = 5
MAX_QUESTIONS = SLACK_MAX_MODAL_BLOCKS - MODAL_EXTRA_BLOCKS
# Ids of the questions LearnLoop adds itself (an inquiry's, the purpose question).
INQUIRY_QUESTION_ID = "inquiry"
PURPOSE_QUESTION_ID = "purpose"
RESERVED_QUESTION_IDS = frozenset({INQUIRY_QUESTION_ID, PURPOSE_QUESTION_ID})
PURPOSE_QUESTION = "What is this system set up to do, and is it doing it?"


class Question(_Strict):
    """One question of a question set."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    kind: QuestionKind = QuestionKind.LONG_TEXT
    required: bool = False
    barrier: bool = False
    choices: list[str] = []
    hint: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)

    @field_validator("choices")
    @classmethod
    def _choices_fit_slack(cls, value: list[str]) -> list[str]:
        if len(value) > SLACK_MAX_SELECT_OPTIONS:
            raise ValueError(
                f"{len(value)} choices is more than the {SLACK_MAX_SELECT_OPTIONS} a Slack menu "
                "can hold"
            )
        for i, choice in enumerate(value):
            if not choice.strip():
                raise ValueError(f"choice {i} is empty")
            if len(choice) > SLACK_MAX_OPTION_CHARS:
                raise ValueError(
                    f"choice {i} ({choice[:30]!r}…) is {len(choice)} characters; Slack shows "
                    f"at most {SLACK_MAX_OPTION_CHARS} in a menu option"
                )
        repeated = sorted({c for c in value if value.count(c) > 1})
        if repeated:
            raise ValueError(f"choice {repeated[0]!r} is listed more than once")
        return value

    @model_validator(mode="after")
    def _choices_match_kind(self) -> Question:
        choice_kinds = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
        if self.kind in choice_kinds and not self.choices:
            raise ValueError(f"a {self.kind} question needs a non-empty choices list")
        if self.kind not in choice_kinds and self.choices:
            raise ValueError(f"a {self.kind} question takes no choices")
        if self.barrier and self.kind in choice_kinds:
            # The barrier answer becomes a barrier's description ("Escalate this", digests).
            raise ValueError("the barrier question must be short_text or long_text")
        return self


class QuestionSet(_Strict):
    """The questions a cohort is asked."""

    id: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _fits_one_modal(cls, value: list[Question]) -> list[Question]:
        if len(value) > MAX_QUESTIONS:
            raise ValueError(
                f"{len(value)} questions is more than {MAX_QUESTIONS}: a Slack modal holds "
                f"{SLACK_MAX_MODAL_BLOCKS} blocks and LearnLoop adds {MODAL_EXTRA_BLOCKS} around "
                "the questions (and a check-in should take about a minute)"
            )
        return value

    @property
    def barrier_question(self) -> Question | None:
        """The question whose answer names a barrier, if the set has one."""
        return next((q for q in self.questions if q.barrier), None)


DEFAULT_QUESTION_SET = QuestionSet(
    id="hls-default",
    questions=[
        Question(
            id="learned",
            label="What happened that you learned from?",
            hint="What happened, and what did we learn? Please don't name the people you support.",
            kind=QuestionKind.LONG_TEXT,
            required=True,
        ),
        Question(id="helped", label="What helped?", kind=QuestionKind.LONG_TEXT),
        Question(
            id="got_in_the_way",
            label="What got in the way?",
            kind=QuestionKind.LONG_TEXT,
            barrier=True,
        ),
    ],
)


class Schedule(_Strict):
    """Days and local time (HH:MM, 24-hour)."""

    days: list[Weekday] = Field(min_length=1)
    time: dt.time
    cadence: Literal["weekly", "fortnightly"] = "weekly"

    @field_validator("time", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, int):
            # YAML 1.1 reads an unquoted 15:00 as the sexagesimal number 900.
            value = f"{value // 60:02d}:{value % 60:02d}"
        if isinstance(value, str):
            try:
                return dt.datetime.strptime(value.strip(), "%H:%M").time()
            except ValueError:
                raise ValueError(f'bad time {value!r}: write it as HH:MM, e.g. "15:00"') from None
        return value


class Purpose(_Strict):
    """The `purpose:` block — how often the purpose question joins the prompt."""

    cadence: Literal["monthly", "quarterly", "half_yearly", "yearly"] = "quarterly"
    question: str = Field(default=PURPOSE_QUESTION, min_length=1, max_length=MAX_LABEL_CHARS)
    cohorts: list[str] | None = None

    def applies_to(self, cohort_id: str) -> bool:
        """Whether this cohort is asked the purpose question."""
        return self.cohorts is None or cohort_id in self.cohorts


class Cohort(_Strict):
    """Who is prompted, when, and with which questions."""

    id: str = Field(min_length=1)
    agencies: list[str] | None = None
    question_set: str | None = None
    schedule: Schedule
    remind_after_hours: int | None = Field(default=None, ge=1, le=24 * 6)


# An address LearnLoop may write to: one @, a dot in the domain, no spaces (not a full RFC 5322
# check; the SMTP server has the last word).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class DigestDestination(_Strict):
    """Where a digest is posted (a channel) or sent (e-mail addresses) and what it covers."""

    id: str = Field(min_length=1)
    # Exactly one of the two (checked with the file's other cross-field rules).
    channel: str | None = Field(default=None, min_length=1)
    email: list[Annotated[str, Field(pattern=EMAIL_PATTERN)]] = []
    scope: str = Field(default="alliance", pattern=r"^(alliance|agency:[a-z0-9_-]+)$")
    schedule: Schedule | None = None


def is_email(value: str) -> bool:
    """Whether a member entry is an e-mail address rather than a platform user id."""
    return re.fullmatch(EMAIL_PATTERN, value.strip()) is not None


class Person(_Strict):
    """Someone reached by e-mail and the Learning Board, who may have no chat account."""

    email: str = Field(pattern=EMAIL_PATTERN)
    name: str = Field(min_length=1)
    # board | commissioner | steward | manager:AGENCY
    role: str = Field(pattern=r"^(board|commissioner|steward|manager:[a-z0-9][a-z0-9_-]*)$")

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def manages(self) -> str | None:
        """The agency id this person manages, if their role is `manager:AGENCY`."""
        return self.role.split(":", 1)[1] if self.role.startswith("manager:") else None


class ContributorGroup(_Strict):
    """A group whose members share through a web link, not a chat account (counted as an agency
    of its own in digests and on the board)."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    # The questions its form asks (omit for the default HLS set).
    question_set: str | None = None


class LadderRung(_Strict):
    """One level of the escalation ladder."""

    level: str = Field(min_length=1)
    name: str = Field(min_length=1)
    channel: str = Field(min_length=1)


class AllianceConfig(_Strict):
    """The whole alliance file."""

    alliance: AllianceSettings
    themes: list[str] = []
    roles: Roles = Roles()
    agencies: list[Agency] = Field(min_length=1)
    question_sets: list[QuestionSet] = []
    cohorts: list[Cohort] = []
    digests: list[DigestDestination] = []
    escalation_ladder: list[LadderRung] = []
    purpose: Purpose | None = None
    # People reached by e-mail and the Learning Board (issue 15).
    people: list[Person] = []
    # Groups who contribute through a link, such as a lived experience panel.
    contributors: list[ContributorGroup] = []
    # More ways the alliance's services write a concept (local names, abbreviations), added to
    # the pattern finder's built-in synonym table: {"temporary accommodation": ["Holly House"]}.
    pattern_terms: dict[
        Annotated[str, Field(min_length=1)], list[Annotated[str, Field(min_length=1)]]
    ] = {}

    # Worked out once from the (frozen) file and reused by every request.
    _version: str | None = PrivateAttr(default=None)
    _roles: dict[str, frozenset[str]] | None = PrivateAttr(default=None)

    @property
    def version(self) -> str:
        """A fingerprint of everything in the file: what is derived from it is cached by it."""
        if self._version is None:
            self._version = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]
        return self._version

    def model_copy(self, *, update: Any = None, deep: bool = False) -> AllianceConfig:
        """A copy whose derived values are worked out again (its content may differ)."""
        copied = super().model_copy(update=update, deep=deep)
        copied._version = None
        copied._roles = None
        return copied

    def agency(self, agency_id: str) -> Agency:
        """The agency with this id (KeyError if none)."""
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def cohort(self, cohort_id: str) -> Cohort:
        """The cohort with this id (KeyError if none)."""
        for cohort in self.cohorts:
            if cohort.id == cohort_id:
                return cohort
        raise KeyError(cohort_id)

    def contributor_group(self, group_id: str) -> ContributorGroup:
        """A contributor group by id (KeyError if unknown)."""
        for group in self.contributors:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def agency_names(self) -> dict[str, str]:
        """Every agency's name by id, contributor groups included (each counts as an agency)."""
        names = {a.id: a.name for a in self.agencies}
        names.update({g.id: g.name for g in self.contributors})
        return names

    def question_set_for(self, cohort: Cohort | None) -> QuestionSet:
        """The questions a cohort asks (the default HLS set when it names none)."""
        if cohort is None or cohort.question_set is None:
            return DEFAULT_QUESTION_SET
        for qset in self.question_sets:
            if qset.id == cohort.question_set:
                return qset
        raise KeyError(cohort.question_set)

    def cohort_agencies(self, cohort: Cohort) -> list[Agency]:
        """The agencies a cohort covers (all when it names none)."""
        if cohort.agencies is None:
            return list(self.agencies)
        return [self.agency(a) for a in cohort.agencies]

    def roles_of(self, user_id: str) -> set[str]:
        """Roles a platform user holds; everyone is a practitioner."""
        if self._roles is None:
            # Built once: otherwise every check walks the roles and every agency's managers.
            held: dict[str, set[str]] = {}
            for steward in self.roles.stewards:
                held.setdefault(steward, set()).add("steward")
            for admin in self.roles.admins:
                held.setdefault(admin, set()).add("admin")
            for agency in self.agencies:
                for manager in agency.managers:
                    held.setdefault(manager, set()).add("manager")
            self._roles = {user: frozenset(roles) for user, roles in held.items()}
        return {"practitioner", *self._roles.get(user_id, ())}


def _platform_id_problems(i: int, agency: Agency) -> list[str]:
    """Ids that belong to the other platform (one alliance can span Slack and Teams)."""
    problems: list[str] = []
    people = [("members", agency.members), ("managers", agency.managers)]
    for field_name, ids in people:
        for j, user_id in enumerate(ids):
            if field_name == "members" and is_email(user_id):
                continue  # looked up on the platform by address
            if field_name == "managers" and is_email(user_id):
                problems.append(
                    f"agencies.{i}.managers.{j}: managers are listed by platform user id, not "
                    "e-mail address (people reached by e-mail go under people:)"
                )
            elif agency.platform == "teams" and not is_entra_object_id(user_id):
                problems.append(
                    f"agencies.{i}.{field_name}.{j}: {user_id!r} is not a Microsoft Entra object "
                    "id; Teams members are listed by their object id (a GUID, from the Entra "
                    "admin centre or Teams admin centre) or their e-mail address"
                )
            elif agency.platform == "slack" and platform_of(user_id) != "slack":
                problems.append(
                    f"agencies.{i}.{field_name}.{j}: {user_id!r} looks like a Teams id, but "
                    f"agency {agency.id!r} is on Slack (set platform: teams)"
                )
    if agency.channel and platform_of(agency.channel) != agency.platform:
        example = "19:…@thread.tacv2" if agency.platform == "teams" else "C0123ABCD"
        problems.append(
            f"agencies.{i}.channel: {agency.channel!r} is not a {agency.platform.title()} "
            f"channel id (one looks like {example})"
        )
    if agency.leadership_channel and platform_of(agency.leadership_channel) != agency.platform:
        example = "19:…@thread.tacv2" if agency.platform == "teams" else "C0123ABCD"
        problems.append(
            f"agencies.{i}.leadership_channel: {agency.leadership_channel!r} is not a "
            f"{agency.platform.title()} channel id (one looks like {example})"
        )
    if agency.platform == "teams" and agency.usergroup:
        problems.append(
            f"agencies.{i}.usergroup: Teams has no user groups LearnLoop can read; list members "
            "or give the team's channel"
        )
    return problems


def _reference_problems(config: AllianceConfig) -> list[str]:
    """Cross-field problems pydantic cannot see field by field."""
    problems: list[str] = []

    def duplicates(path: str, ids: list[str]) -> None:
        for value, count in Counter(ids).items():
            if count > 1:
                problems.append(f"{path}: duplicate id {value!r} ({count} times)")

    agency_ids = {a.id for a in config.agencies}
    set_ids = {s.id for s in config.question_sets}
    duplicates("agencies", [a.id for a in config.agencies])
    duplicates("cohorts", [c.id for c in config.cohorts])
    duplicates("digests", [d.id for d in config.digests])
    duplicates("question_sets", [s.id for s in config.question_sets])
    duplicates("themes", [t.strip().lower() for t in config.themes])
    duplicates("escalation_ladder", [r.level for r in config.escalation_ladder])
    if DEFAULT_QUESTION_SET.id in set_ids:
        problems.append(f"question_sets: the id {DEFAULT_QUESTION_SET.id!r} is reserved")
    for i, agency in enumerate(config.agencies):
        if not (agency.members or agency.channel or agency.usergroup):
            problems.append(
                f"agencies.{i}.members: agency {agency.id!r} lists no members, channel or usergroup"
            )
        problems.extend(_platform_id_problems(i, agency))
        if agency.team and agency.platform != "slack":
            # Only Slack has workspaces; a Teams agency is reached through its tenant.
            problems.append(f"agencies.{i}.team: only a Slack agency has a workspace (team) id")
        if agency.tenant and agency.platform != "teams":
            problems.append(f"agencies.{i}.tenant: only a Teams agency has a tenant id")
        elif agency.tenant and not is_entra_object_id(agency.tenant):
            problems.append(
                f"agencies.{i}.tenant: {agency.tenant!r} is not a Microsoft Entra tenant id (a "
                "GUID: Entra admin centre, Overview, Tenant ID)"
            )
        if agency.leadership_channel and not config.escalation_ladder:
            problems.append(
                f"agencies.{i}.leadership_channel: there is no escalation_ladder for it to "
                "serve (its first rung is where agency leadership reads barriers)"
            )
    for i, qset in enumerate(config.question_sets):
        duplicates(f"question_sets.{i}.questions", [q.id for q in qset.questions])
        for j, question in enumerate(qset.questions):
            if question.id in RESERVED_QUESTION_IDS:
                problems.append(
                    f"question_sets.{i}.questions.{j}.id: {question.id!r} is reserved for the "
                    "question LearnLoop adds itself; choose another id"
                )
        if sum(q.barrier for q in qset.questions) > 1:
            problems.append(f"question_sets.{i}: more than one question is marked barrier: true")
        if not any(q.required for q in qset.questions):
            problems.append(f"question_sets.{i}: at least one question must be required")
    for i, cohort in enumerate(config.cohorts):
        for j, agency_id in enumerate(cohort.agencies or []):
            if agency_id not in agency_ids:
                problems.append(f"cohorts.{i}.agencies.{j}: unknown agency {agency_id!r}")
        if cohort.question_set is not None and cohort.question_set not in set_ids:
            problems.append(
                f"cohorts.{i}.question_set: unknown question set {cohort.question_set!r}"
            )
    duplicates("people", [p.email for p in config.people])
    duplicates("contributors", [c.id for c in config.contributors])
    for i, person in enumerate(config.people):
        if person.manages is not None and person.manages not in agency_ids:
            problems.append(f"people.{i}.role: unknown agency {person.manages!r}")
    for i, group in enumerate(config.contributors):
        if group.id in agency_ids:
            problems.append(
                f"contributors.{i}.id: {group.id!r} is already an agency's id; choose another"
            )
        if group.question_set is not None and group.question_set not in set_ids:
            problems.append(
                f"contributors.{i}.question_set: unknown question set {group.question_set!r}"
            )
    for i, digest in enumerate(config.digests):
        if (digest.channel is None) == (not digest.email):
            problems.append(
                f"digests.{i}.channel: digest {digest.id!r} needs exactly one of channel: "
                "(a chat channel id) or email: (a list of addresses)"
            )
        duplicates(f"digests.{i}.email", [a.lower() for a in digest.email])
        if digest.scope.startswith("agency:") and digest.scope[7:] not in agency_ids:
            problems.append(f"digests.{i}.scope: unknown agency {digest.scope[7:]!r}")
    problems.extend(_learning_cycle_problems(config))
    return problems


def _learning_cycle_problems(config: AllianceConfig) -> list[str]:
    """Themes that must fit Slack's menu, and the purpose block's cohorts."""
    problems: list[str] = []
    if len(config.themes) > SLACK_MAX_SELECT_OPTIONS:
        problems.append(
            f"themes: {len(config.themes)} themes is more than the {SLACK_MAX_SELECT_OPTIONS} "
            "a Slack menu can hold"
        )
    for i, theme in enumerate(config.themes):
        if len(theme) > SLACK_MAX_OPTION_CHARS:
            problems.append(
                f"themes.{i}: {theme[:30]!r}… is {len(theme)} characters; Slack shows at most "
                f"{SLACK_MAX_OPTION_CHARS} in a menu option"
            )
    cohort_ids = {c.id for c in config.cohorts}
    if config.purpose is not None:
        for j, cohort_id in enumerate(config.purpose.cohorts or []):
            if cohort_id not in cohort_ids:
                problems.append(f"purpose.cohorts.{j}: unknown cohort {cohort_id!r}")
    return problems


def _format_validation_error(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}")
    return problems


_UNUSABLE = object()


def _salvage(model: type[BaseModel], raw: dict[str, Any]) -> BaseModel:
    """`raw` as `model`, keeping every field that validates on its own (the rest left out)."""
    try:
        return model.model_validate(raw)
    except ValidationError:
        pass
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in raw:
            value = _salvage_value(info.annotation, raw[key])
            if value is not _UNUSABLE:
                values[name] = value
    return model.model_construct(**values)


def _salvage_value(annotation: Any, raw: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        if raw is None:
            return None
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = options[0] if len(options) == 1 else annotation
    if get_origin(annotation) is list and isinstance(raw, list):
        (item,) = get_args(annotation) or (Any,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return [_salvage(item, entry) for entry in raw if isinstance(entry, dict)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _salvage(annotation, raw) if isinstance(raw, dict) else _UNUSABLE
    try:
        return TypeAdapter(annotation).validate_python(raw)
    except ValidationError:
        return _UNUSABLE


def _salvaged_reference_problems(data: dict[str, Any]) -> list[str]:
    """Cross-reference problems among the parts of an invalid file that are valid themselves."""
    partial = _salvage(AllianceConfig, data)
    try:
        return _reference_problems(cast(AllianceConfig, partial))
    except (AttributeError, KeyError, TypeError):
        # A part too broken to cross-check (an entry without its id): its field error is shown.
        return []


def parse_alliance(data: Any) -> AllianceConfig:
    """Validate parsed YAML into an AllianceConfig, or raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(["(top level): the file must be a YAML mapping with an alliance: block"])
    try:
        config = AllianceConfig.model_validate(data)
    except ValidationError as exc:
        # Every problem in one pass: the cross-references are checked on what does validate,
        # so fixing a field error never reveals a second wave of problems.
        problems = _format_validation_error(exc)
        # A field left out for its own error must not be reported again as missing.
        reported = {problem.split(":", 1)[0] for problem in problems}
        for problem in _salvaged_reference_problems(data):
            if problem.split(":", 1)[0] not in reported:
                problems.append(problem)
        raise ConfigError(problems) from None
    problems = _reference_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def load_alliance(path: Path) -> AllianceConfig:
    """Read and validate the alliance YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"LEARNLOOP_CONFIG: no alliance file at {path} (copy bot/examples/alliance.yml)"]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            [f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"]
        ) from None
    return parse_alliance(data)
