"""Settings from the environment and the alliance configuration file.

Everything the rest of the code needs from outside is read here, once, into typed objects.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///learnloop.db"
EXAMPLE_CONFIG = Path(__file__).parent / "examples" / "alliance.yml"


class ConfigError(Exception):
    """A setting or the alliance file is wrong; the message says which and how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- settings


class Settings(BaseSettings):
    """Deployment settings, from the environment and `.env` (names as in DESIGN.md)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    learnloop_config: Path = Path("learnloop.yml")
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    teams_client_id: str | None = None
    teams_client_secret: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_cloud: Literal["public", "us_gov", "us_gov_dod", "china"] = "public"
    teams_openid_metadata_url: str | None = None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a URL such as sqlite:///learnloop.db")
        # Heroku-style URLs name the old driver; LearnLoop talks to PostgreSQL with psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    def require_slack(self) -> None:
        """Fail with a line naming each missing variable that talking to Slack needs."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            )
            if value is None or not value.get_secret_value()
        ]
        if missing:
            raise ConfigError(
                [f"{name} is not set: it is needed to talk to Slack" for name in missing]
            )

    def require_socket_mode(self) -> None:
        """Fail unless the app-level token Socket Mode needs is set."""
        if self.slack_app_token is None or not self.slack_app_token.get_secret_value():
            raise ConfigError(["SLACK_APP_TOKEN is not set: Socket Mode needs an xapp- token"])
        if self.slack_bot_token is None:
            raise ConfigError(["SLACK_BOT_TOKEN is not set: it is needed to talk to Slack"])


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a malformed value raises ConfigError with one line per variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            value = error.get("input")
            shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
            problems.append(f"{name}: {error['msg']}{shown}")
        raise ConfigError(problems) from None


# --------------------------------------------------------------------- alliance config


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


class Question(_Strict):
    """One question of a question set."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=150)
    kind: QuestionKind = QuestionKind.LONG_TEXT
    required: bool = False
    barrier: bool = False
    choices: list[str] = []
    hint: str | None = Field(default=None, max_length=150)

    @model_validator(mode="after")
    def _choices_match_kind(self) -> Question:
        choice_kinds = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
        if self.kind in choice_kinds and not self.choices:
            raise ValueError(f"a {self.kind} question needs a non-empty choices list")
        if self.kind not in choice_kinds and self.choices:
            raise ValueError(f"a {self.kind} question takes no choices")
        return self


class QuestionSet(_Strict):
    """The questions a cohort is asked."""

    id: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)

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


class Cohort(_Strict):
    """Who is prompted, when, and with which questions."""

    id: str = Field(min_length=1)
    agencies: list[str] | None = None
    question_set: str | None = None
    schedule: Schedule
    remind_after_hours: int | None = Field(default=None, ge=1, le=24 * 6)


class DigestDestination(_Strict):
    """Where a digest is posted and what it covers."""

    id: str = Field(min_length=1)
    channel: str
    scope: str = Field(default="alliance", pattern=r"^(alliance|agency:[a-z0-9_-]+)$")
    schedule: Schedule | None = None


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
        roles = {"practitioner"}
        if user_id in self.roles.stewards:
            roles.add("steward")
        if user_id in self.roles.admins:
            roles.add("admin")
        if any(user_id in agency.managers for agency in self.agencies):
            roles.add("manager")
        return roles


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
    for i, qset in enumerate(config.question_sets):
        duplicates(f"question_sets.{i}.questions", [q.id for q in qset.questions])
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
    for i, digest in enumerate(config.digests):
        if digest.scope.startswith("agency:") and digest.scope[7:] not in agency_ids:
            problems.append(f"digests.{i}.scope: unknown agency {digest.scope[7:]!r}")
    return problems


def _format_validation_error(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}")
    return problems


def parse_alliance(data: Any) -> AllianceConfig:
    """Validate parsed YAML into an AllianceConfig, or raise ConfigError listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(["(top level): the file must be a YAML mapping with an alliance: block"])
    try:
        config = AllianceConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc)) from None
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
