"""Electing the one worker that runs the once-only jobs, and telling which workers are alive.

On PostgreSQL every worker sends (prompts, reminders, digests are shared through the ledger's
leases), but jobs that must run once (the retention purge, closing inquiries, escalations) run
only on the leader: the worker holding a session-level advisory lock on a connection kept for
its whole life. The others try again each tick; when the leader dies its connection closes,
the lock is released, and another takes over.

Each worker also holds a second advisory lock named after its worker id (`WorkerPresence`):
a lease whose holder's lock is free belongs to a worker that is gone, so its sends in doubt
can be settled at once instead of when the lease expires.

SQLite allows one worker: it takes an exclusive lock on a file beside the database, and a
second worker stands by (README: "SQLite: one worker").
"""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# A fixed 64-bit key ("LLWORKER" in ASCII) that no other application is likely to use.
WORKER_LOCK_KEY = int.from_bytes(b"LLWORKER", "big") & 0x7FFF_FFFF_FFFF_FFFF


class LeaderLock(Protocol):
    """Who may run scheduled work right now."""

    def acquire(self) -> bool:
        """Take (or confirm we still hold) the lock; False while another process holds it."""
        ...

    def release(self) -> None:
        """Let another process take over."""
        ...


class NoLock:
    """SQLite: no election (one worker is the supported set-up)."""

    def acquire(self) -> bool:
        """Always the leader."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLock:
    """A PostgreSQL advisory lock held on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = WORKER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None
        self.held = False

    def acquire(self) -> bool:
        """Take the lock if free, or check that the connection holding it is still alive."""
        try:
            if self._conn is not None and self.held:
                # The lock lives as long as this connection: if it still answers, we still lead.
                self._conn.execute(text("SELECT 1"))
                return True
            if self._conn is None:
                # Autocommit: the connection must never sit idle inside a transaction.
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            self.held = bool(got.scalar())
        except DBAPIError:
            if self.held:
                log.warning("lost the database connection holding the worker lock")
            self._drop()
            return False
        return self.held

    def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is not None and self.held:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except DBAPIError:
                pass
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except DBAPIError:
                pass


class FileLock:
    """SQLite: one worker at a time, by an exclusive lock on a file beside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the file lock if no other worker holds it (kept until release or exit)."""
        if self._file is not None:
            return True
        import fcntl  # POSIX only, like the deployments LearnLoop documents

        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Let another worker take over."""
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing drops the lock


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None in memory)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def leader_lock(engine: Engine) -> LeaderLock:
    """The election that suits the database: an advisory lock on PostgreSQL; on SQLite a
    lock on a file beside the database, so a second worker stands by."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    path = sqlite_file(engine)
    if path is None:
        return NoLock()
    return FileLock(path.with_name(path.name + ".worker-lock"))


# The advisory lock space of worker presence locks (two-key form: space, hash of the id).
PRESENCE_SPACE = int.from_bytes(b"LLPR", "big") & 0x7FFF_FFFF


def default_worker_id() -> str:
    """This process's worker id when none is given: host name and process id."""
    return f"{os.uname().nodename}:{os.getpid()}"


class WorkerPresence(Protocol):
    """Whether the worker holding a lease is still running."""

    def alive(self, worker: str) -> bool:
        """True if `worker` may still be sending (so its leases must be left alone)."""
        ...


class AssumeAlive:
    """Without a way to tell (a CLI command, a web process): every other worker is alive."""

    def alive(self, worker: str) -> bool:
        """Always: only expired leases are taken over."""
        return True


class SoleWorker:
    """SQLite: this is the only worker (the file lock says so), so any other holder is gone."""

    def __init__(self, worker: str) -> None:
        self.worker = worker

    def alive(self, worker: str) -> bool:
        """True for this worker only."""
        return worker == self.worker


def _presence_key(worker: str) -> int:
    # A signed 32-bit key, as the two-key advisory lock functions take.
    return zlib.crc32(worker.encode()) - 0x8000_0000


class AdvisoryPresence:
    """PostgreSQL: this worker holds a lock named after its id for as long as it lives."""

    def __init__(self, engine: Engine, worker: str) -> None:
        self.engine = engine
        self.worker = worker
        self._conn: Connection | None = None

    def announce(self) -> None:
        """Take this worker's presence lock (on a connection kept open for the process)."""
        self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self._conn.execute(
            text("SELECT pg_try_advisory_lock(:space, :key)"),
            {"space": PRESENCE_SPACE, "key": _presence_key(self.worker)},
        ).scalar()
        if not got:
            log.warning("another running worker has the id %s: give each its own", self.worker)

    def alive(self, worker: str) -> bool:
        """Whether a worker holds its presence lock (asked without keeping the lock)."""
        if worker == self.worker:
            return True
        try:
            with self.engine.connect() as conn:
                params = {"space": PRESENCE_SPACE, "key": _presence_key(worker)}
                free = conn.execute(
                    text("SELECT pg_try_advisory_lock(:space, :key)"), params
                ).scalar()
                if free:
                    conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), params)
                conn.commit()
                return not free
        except DBAPIError:
            return True  # can't tell: leave its leases alone until they expire

    def count(self) -> int:
        """How many workers are running now (each holds its presence lock); at least this one."""
        try:
            with self.engine.connect() as conn:
                held = conn.execute(
                    text(
                        # Advisory locks belong to one database: count this one's only.
                        "SELECT count(DISTINCT objid) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND classid = :space AND objsubid = 2 AND granted AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())"
                    ),
                    {"space": PRESENCE_SPACE},
                ).scalar()
                conn.commit()
        except DBAPIError:
            return 1  # can't tell: as if alone (a 429 still holds every worker back)
        return max(1, int(held or 0))

    def close(self) -> None:
        """Drop the presence lock, then its connection.

        Unlocked first: a closed connection goes back to the engine's pool, where a session
        lock would live on (and the worker seem to be running) until the pool let it go.
        """
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"),
                    {"space": PRESENCE_SPACE, "key": _presence_key(self.worker)},
                )
                conn.close()
            except DBAPIError:
                pass
