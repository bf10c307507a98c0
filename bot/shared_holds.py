"""A rate limit's pause, shared by every worker sending into the same workspace or tenant.

Slack's and Teams' limits belong to the workspace (or tenant), not to the process sending: with
several workers, a 429 one of them is told means the workspace has nothing left for any of them.
The worker told records until when in the database (`workspace_backoff`); every worker asks
before it sends there, and waits the rest of the pause out on its own pacer. Another workspace's
key is untouched, so it keeps its full speed.

Reads are kept for `refresh` seconds (a quarter of a second), so each worker asks the database
at most four times a second per workspace, not once per message: a hold recorded by another
worker is seen within that time. A database that does not answer never stops a send: the
worker then honours only the 429s it was told itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

REFRESH = 0.25  # seconds a reading of another worker's hold is trusted before asking again


class HoldStore(Protocol):
    """Where holds are kept (storage.backoff.BackoffStore: the `workspace_backoff` table)."""

    def hold(self, key: str, until: dt.datetime) -> None:
        """Record that `key` is held until `until` (keeping a later hold)."""
        ...

    def until(self, key: str) -> dt.datetime | None:
        """Until when `key` was last held, or None."""
        ...


def slack_key(workspace: str | None) -> str:
    """The hold key of a Slack workspace ('' is a single-workspace deployment's one)."""
    return f"slack:{workspace or ''}"


def teams_key(tenant: str | None) -> str:
    """The hold key of a Teams tenant."""
    return f"teams:{tenant or ''}"


class SharedHolds:
    """Holds by key, read through a short cache and written through at once (thread-safe)."""

    def __init__(
        self,
        store: HoldStore,
        refresh: float = REFRESH,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh = refresh
        self._wall = wall
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (until, as Unix time; when it was read, on the monotonic clock)
        self._known: dict[str, tuple[float, float]] = {}
        self.recorded = 0  # holds this process wrote to the database (for tests)

    def remaining(self, key: str) -> float:
        """Seconds until `key` may be sent to again, by any worker's 429 (0: now)."""
        now = self._clock()
        with self._lock:
            known = self._known.get(key)
        if known is None or now - known[1] >= self.refresh:
            try:
                until = self.store.until(key)
            except Exception as exc:  # noqa: BLE001 - a database outage must not stop sending
                log.warning("shared rate-limit holds: cannot read (%s)", type(exc).__name__)
                until = None
            value = until.timestamp() if until is not None else 0.0
            with self._lock:
                # A hold recorded here meanwhile is as good as anything the database said.
                mine = self._known.get(key)
                value = max(value, mine[0]) if mine is not None else value
                self._known[key] = (value, now)
            known = (value, now)
        return max(0.0, known[0] - self._wall())

    def record(self, key: str, seconds: float) -> None:
        """This worker was told to wait `seconds` before sending to `key`: tell every worker."""
        until = self._wall() + seconds
        with self._lock:
            known = self._known.get(key)
            if known is None or known[0] < until:
                self._known[key] = (until, known[1] if known is not None else float("-inf"))
        try:
            self.store.hold(key, dt.datetime.fromtimestamp(until, dt.UTC))
        except Exception as exc:  # noqa: BLE001 - the other workers will meet their own 429
            log.warning("shared rate-limit holds: cannot record (%s)", type(exc).__name__)
            return
        with self._lock:
            self.recorded += 1
