"""Group commit: writes that arrive together are committed in one transaction.

A DM reply is acknowledged only once it is stored ("acked means stored"), so under a burst
every request thread of a worker used to open its own write transaction and, on SQLite,
queue on the single write lock (sleeping in its busy handler) before it could answer.
Here the first request to arrive commits its own write; whatever writes arrive while that
commit is under way wait, and the next of them to lead commits all of them in one
transaction, then wakes each one. Nobody waits for a timer: a request alone is committed at
once, as before, and batches grow only as fast as requests pile up behind a commit.

Each request still learns the outcome of its own write: a commit that fails fails every write
in it (nothing of the batch is stored, each request gets its error); a write that fails on its
own (another process stored the same event first, say) is not allowed to fail its neighbours:
the batch is rolled back and each write of it is committed alone, as without grouping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from bot.domain.errors import StorageUnavailable
from storage.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")


class _Write:
    """One request's write, and what became of it."""

    __slots__ = ("work", "woken", "leads", "result", "error")

    def __init__(self, work: Callable[[UnitOfWork], Any]) -> None:
        self.work = work
        self.woken = threading.Event()
        self.leads = False
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Commits the writes handed to `run` by concurrent threads, several per transaction."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._lock = threading.Lock()
        self._pending: list[_Write] = []
        self._leading = False
        # How many transactions committed writes, and how many writes they held (for tests
        # and the benchmark; counts only).
        self.transactions = 0
        self.writes = 0

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run `work` in a transaction shared with concurrent writes; return once committed.

        `work` must only touch the database through the unit of work it is given (and not
        commit it). Raises what `work` raised, or StorageUnavailable if the commit failed.
        """
        me = _Write(work)
        with self._lock:
            self._pending.append(me)
            if not self._leading:
                self._leading = me.leads = True
        if not me.leads:
            # Woken when a leader has committed this write, or to lead the next batch.
            me.woken.wait()
        if me.leads:
            self._lead()
        if me.error is not None:
            raise me.error
        result: T = me.result
        return result

    def _lead(self) -> None:
        """Commit everything pending (this thread's write too), then pass the lead on."""
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            self._commit(batch)
        finally:
            with self._lock:
                successor = self._pending[0] if self._pending else None
                if successor is not None:
                    successor.leads = True
                else:
                    self._leading = False
            for write in batch:
                write.woken.set()
            if successor is not None:
                successor.woken.set()

    def _commit(self, batch: list[_Write]) -> None:
        results: list[Any] = []
        try:
            with self._uow() as uow:
                for write in batch:
                    results.append(write.work(uow))
                uow.commit()
        except StorageUnavailable as exc:
            # The database is away or the commit failed: none of these writes is stored.
            for write in batch:
                error = StorageUnavailable()
                error.__cause__ = exc.__cause__
                write.error = error
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            # One write's failure says nothing about the others: each alone, as ungrouped.
            for write in batch:
                self._commit([write])
            return
        except BaseException as exc:
            for write in batch:
                write.error = exc
            raise
        with self._lock:
            self.transactions += 1
            self.writes += len(batch)
        for write, result in zip(batch, results, strict=True):
            write.result = result
