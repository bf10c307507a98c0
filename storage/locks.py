"""Electing the one worker that runs scheduled work.

On PostgreSQL the active worker holds a session-level advisory lock on a connection kept for its
whole life. A second worker fails to take it and stands by, trying again each tick; when the
leader dies its connection closes, the lock is released, and the standby takes over. The
delivery ledger stays the second guard: even two leaders would not prompt anyone twice.

SQLite has no such lock: run one worker (README: "SQLite: one worker").
"""

from __future__ import annotations

import logging
from typing import Protocol

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


def leader_lock(engine: Engine) -> LeaderLock:
    """The election that suits the database: an advisory lock on PostgreSQL, none on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return NoLock()
