"""Engines and migrations: SQLite (embedded default) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Every connection, not just the first: SQLite keeps these per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Connections a process keeps open, and how many more it may open for a moment. A web
# worker runs up to 40 requests at once (anyio's thread limit); with SQLAlchemy's default of 5
# kept, a burst opened and closed a connection for most requests (on SQLite the pragmas
# below each time, on PostgreSQL a new backend): measured in BENCHMARKS.md (issue 18).
SQLITE_POOL = {"pool_size": 16, "max_overflow": 24}
# PostgreSQL counts every connection against its max_connections (100 by default) for every
# worker process: 10 kept, and at most 15 in all, as SQLAlchemy's default allowed; a request
# beyond that waits for a connection to come back.
POSTGRES_POOL = {"pool_size": 10, "max_overflow": 5}


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for the URL; a SQLite file (and its folder) is created on first use."""
    url = make_url(database_url)
    # A failed statement's error message (and SQL echo) must not quote check-in text.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            for key, value in SQLITE_POOL.items():
                kwargs.setdefault(key, value)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    for key, value in POSTGRES_POOL.items():
        kwargs.setdefault(key, value)
    return create_engine(url, **kwargs)


def alembic_config(engine: Engine, migrations: Path | None = None) -> Config:
    """Alembic configuration for this engine and LearnLoop's migrations (or `migrations`)."""
    config = Config()
    config.set_main_option("script_location", str(migrations or MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head", migrations: Path | None = None) -> None:
    """Upgrade the schema to `revision` (creating it from empty if need be)."""
    command.upgrade(alembic_config(engine, migrations), revision)


@dataclass(frozen=True)
class SchemaState:
    """Where the database's schema stands against the migrations this code ships."""

    database: str | None  # the database's Alembic revision; None if never migrated
    code: str  # the newest revision this code knows (its head)
    # current: at the head; empty: no schema; behind: an older revision this code knows;
    # newer: a revision this code does not know (a newer release migrated it).
    state: Literal["current", "empty", "behind", "newer"]

    @property
    def usable(self) -> bool:
        """Whether this code may serve the database (a newer schema stays compatible)."""
        return self.state in ("current", "newer")

    def problem(self) -> str:
        """One line saying what is wrong and what to do (empty when current)."""
        if self.state == "empty":
            return "the database has no LearnLoop schema yet: run `learnloop migrate`"
        if self.state == "behind":
            return (
                f"the database schema is at revision {self.database}, behind this LearnLoop's "
                f"{self.code}: run `learnloop migrate`"
            )
        if self.state == "newer":
            return (
                f"the database schema is at revision {self.database}, which this LearnLoop "
                f"(head {self.code}) does not know: a newer release has migrated it"
            )
        return ""


def code_head(migrations: Path | None = None) -> str:
    """The head revision of the migrations this code ships."""
    script = ScriptDirectory(str(migrations or MIGRATIONS))
    head = script.get_current_head()  # raises if the migrations ever branch: they must not
    assert head is not None, "no migrations"
    return head


def known_revisions(migrations: Path | None = None) -> frozenset[str]:
    """Every revision the migrations this code ships know."""
    script = ScriptDirectory(str(migrations or MIGRATIONS))
    return frozenset(rev.revision for rev in script.walk_revisions())


def schema_state(engine: Engine, head: str, known: frozenset[str] | None = None) -> SchemaState:
    """Compare the database's revision with `head` (one query; `known` from known_revisions)."""
    database = current_revision(engine)
    if database is None:
        return SchemaState(database, head, "empty")
    if database == head:
        return SchemaState(database, head, "current")
    # The migrations are linear, so a known revision other than the head is an older one.
    if database in (known if known is not None else known_revisions()):
        return SchemaState(database, head, "behind")
    return SchemaState(database, head, "newer")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None if never migrated.

    A database that cannot be reached raises: it must not pass for an empty one.
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
