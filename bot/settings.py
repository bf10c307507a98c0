"""Settings from the environment: tokens, URLs, the database, the platforms enabled.

Read once, into a typed object; nothing else in LearnLoop reads the environment.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///learnloop.db"
EXAMPLE_CONFIG = Path(__file__).parent / "examples" / "alliance.yml"
# A Slack workspace id (T…) or Enterprise Grid organisation id (E…).
SLACK_TEAM_PATTERN = r"^[TE][A-Z0-9]{2,}$"


class ConfigError(Exception):
    """A setting or the alliance file is wrong; the message says which and how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- settings


# The databases LearnLoop is tested on (and ships drivers for).
SUPPORTED_DATABASES = ("sqlite://", "postgresql+psycopg://")


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
    # Fernet key(s) sealing Slack tokens at rest (OAuth mode); the first one encrypts,
    # any of a comma-separated list decrypts, so a key can be rotated without reinstalling.
    learnloop_encryption_key: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    learnloop_config: Path = Path("learnloop.yml")
    port: int = Field(default=3000, ge=1, le=65535)
    # Web worker processes for `serve` (the usual name on Heroku-style platforms); unset: one
    # per CPU core.
    web_concurrency: int | None = Field(default=None, ge=1, le=64)
    # The worker's /metrics and /healthz (0: any free port, named in its log).
    worker_metrics_port: int = Field(default=3001, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One JSON object per line (for log collectors), or "text" to read in a terminal.
    log_format: Literal["json", "text"] = "json"
    teams_client_id: str | None = None
    teams_client_secret: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_cloud: Literal["public", "us_gov", "us_gov_dod", "china"] = "public"
    teams_openid_metadata_url: str | None = None
    # Microsoft Graph's root (members listed by e-mail address); default: the cloud's own.
    teams_graph_url: str | None = None
    # A user-assigned managed identity whose id differs from TEAMS_CLIENT_ID, or "system".
    teams_managed_identity_client_id: str | None = None
    # How long one digest send may wait out Slack's 429s (Retry-After) and 5xx before leaving
    # the rest of the digest for the worker's next pass.
    learnloop_digest_retry_seconds: float = Field(default=60.0, ge=0, le=600)
    # Issue 15: e-mail and the Learning Board. smtp://user:pass@host:port or smtp+starttls://…
    smtp_url: SecretStr | None = None
    # A CA bundle that signed the mail server's certificate (an internal relay), else the system's.
    smtp_ca_file: Path | None = None
    # The From: of LearnLoop's e-mails (default learnloop@ the host of BOARD_URL).
    smtp_from: str | None = None
    # Signs sign-in links, contributor links and board cookies; required once the alliance
    # file lists `people` or `contributors`.
    board_secret_key: SecretStr | None = None
    # The public base URL used in links (https://learnloop.example.org).
    board_url: str | None = None
    # "Sign in with Slack" on the board (OpenID Connect) uses the Slack app's client id and
    # secret; these default to SLACK_CLIENT_ID/SECRET, and are set alone in single-workspace
    # mode (setting SLACK_CLIENT_ID there would switch on multi-workspace installs).
    board_slack_client_id: str | None = None
    board_slack_client_secret: SecretStr | None = None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from bot.mail.smtp import parse_smtp_url

        parse_smtp_url(value.get_secret_value())  # a ValueError names what is wrong
        return value

    @property
    def mail_sender(self) -> str:
        """The From: address of LearnLoop's e-mails."""
        if self.smtp_from:
            return self.smtp_from
        host = urlsplit(self.board_url).hostname if self.board_url else None
        return f"LearnLoop <learnloop@{host or 'localhost'}>"

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
        # Anything else would fail later, deep in a driver import, with a traceback.
        if not value.startswith(SUPPORTED_DATABASES):
            scheme = value.split("://", 1)[0]
            raise ValueError(
                f"{scheme}:// is not supported: use PostgreSQL (postgresql://user:password@host"
                "/name) or SQLite (sqlite:///learnloop.db)"
            )
        return value

    @field_validator("learnloop_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        # A key that cannot decrypt must fail at start-up, not at the first install.
        if value is None or not value.get_secret_value().strip():
            return None
        for i, key in enumerate(value.get_secret_value().split(",")):
            try:
                ok = len(base64.urlsafe_b64decode(key.strip().encode())) == 32
            except (binascii.Error, ValueError):
                ok = False
            if not ok:
                raise ValueError(
                    f"key {i + 1} is not a Fernet key (32 url-safe base64 bytes): make one with "
                    "`learnloop encryption-key`"
                )
        return value

    @property
    def slack_oauth_enabled(self) -> bool:
        """Multi-workspace mode (installs through /slack/install) is configured."""
        return bool(self.slack_client_id) or self.slack_client_secret is not None

    def require_oauth(self) -> None:
        """Fail unless everything OAuth mode needs is set, naming each missing variable."""
        problems = []
        if not self.slack_client_id:
            problems.append("SLACK_CLIENT_ID is not set: OAuth mode needs the app's client id")
        if self.slack_client_secret is None or not self.slack_client_secret.get_secret_value():
            problems.append("SLACK_CLIENT_SECRET is not set: OAuth mode needs the client secret")
        if self.learnloop_encryption_key is None:
            problems.append(
                "LEARNLOOP_ENCRYPTION_KEY is not set: OAuth mode stores each workspace's tokens "
                "encrypted and refuses to start without a key (make one with "
                "`learnloop encryption-key`)"
            )
        if problems:
            raise ConfigError(problems)

    def require_slack(self) -> None:
        """Fail with a line naming each missing variable that talking to Slack needs."""
        if self.slack_oauth_enabled:
            # In OAuth mode each workspace's token comes from its install.
            self.require_oauth()
        token = () if self.slack_oauth_enabled else (("SLACK_BOT_TOKEN", self.slack_bot_token),)
        missing = [
            name
            for name, value in (
                *token,
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            )
            if value is None or not value.get_secret_value()
        ]
        if missing:
            raise ConfigError(
                [f"{name} is not set: it is needed to talk to Slack" for name in missing]
            )

    @field_validator("teams_openid_metadata_url")
    @classmethod
    def _openid_url_shape(cls, value: str | None) -> str | None:
        # The Teams SDK finds the signing keys next to the metadata document, at
        # .../keys, so the URL must end the way Bot Framework's own does.
        if value is not None and not (
            value.startswith(("https://", "http://")) and value.endswith("/openidconfiguration")
        ):
            raise ValueError(
                "must be an http(s) URL ending in /openidconfiguration, like "
                "https://login.botframework.com/v1/.well-known/openidconfiguration"
            )
        return value

    @property
    def board_slack_credentials(self) -> tuple[str, str] | None:
        """The client id and secret "Sign in with Slack" uses, if it is configured."""
        client_id = self.board_slack_client_id or self.slack_client_id
        secret = self.board_slack_client_secret or self.slack_client_secret
        if not client_id or secret is None or not secret.get_secret_value():
            return None
        return client_id, secret.get_secret_value()

    @property
    def teams_enabled(self) -> bool:
        """Whether Microsoft Teams is configured (it needs at least the bot's app id)."""
        return bool(self.teams_client_id)

    @property
    def slack_enabled(self) -> bool:
        """Whether Slack is configured (a bot token, or OAuth for many workspaces)."""
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        return bool(token) or self.slack_oauth_enabled

    def require_platform(self) -> None:
        """Fail unless Slack or Teams is set up; Slack, when used, needs its secrets."""
        if self.slack_enabled or not self.teams_enabled:
            self.require_slack()

    def require_socket_mode(self) -> None:
        """Fail unless the app-level token Socket Mode needs is set."""
        if self.slack_app_token is None or not self.slack_app_token.get_secret_value():
            raise ConfigError(["SLACK_APP_TOKEN is not set: Socket Mode needs an xapp- token"])
        if self.slack_bot_token is None:
            raise ConfigError(["SLACK_BOT_TOKEN is not set: it is needed to talk to Slack"])
        if self.slack_oauth_enabled:
            # Installs arrive over HTTP (/slack/oauth_redirect), which Socket Mode lacks.
            raise ConfigError(
                [
                    "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set, but Socket Mode serves one "
                    "workspace: unset them, or run `learnloop serve` for multi-workspace installs"
                ]
            )


def _without_password(url: str) -> str:
    """`url` with any password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a malformed value raises ConfigError with one line per variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            value = error.get("input")
            if name == "DATABASE_URL" and isinstance(value, str):
                value = _without_password(value)  # the line may end up in a log
            shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{shown}")
        raise ConfigError(problems) from None


# --------------------------------------------------------------------- alliance config
