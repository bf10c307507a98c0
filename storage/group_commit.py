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

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

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


def writers_queue(engine: Engine) -> Callable[[], AbstractContextManager[object]]:
    """What a leader holds while it writes, so the worker processes' leaders take turns.

    On a SQLite file, the leaders of several web workers would otherwise meet on SQLite's
    write lock, where the one that waits polls in its busy handler, sleeping up to 100 ms at a
    time; an exclusive lock on a file beside the database queues them instead, and the next
    one wakes as soon as the lock is let go. PostgreSQL has concurrent writers: nothing to hold.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return nullcontext
    path = Path(url.database).expanduser()
    path = path.with_name(path.name + ".writers-lock")
    handles: dict[int, int] = {}  # one descriptor per process (a fork gets its own)
    guard = threading.Lock()

    @contextmanager
    def queue() -> Iterator[object]:
        import fcntl  # POSIX only, like the deployments LearnLoop documents

        pid = os.getpid()
        with guard:
            fd = handles.get(pid)
            if fd is None:
                fd = handles[pid] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    return queue


def for_engine(uow: UnitOfWorkFactory) -> GroupCommit:
    """The commit of DM replies for this database, chosen by measurement (BENCHMARKS.md).

    SQLite has one writer at a time: its replies are grouped, and the worker processes' leaders
    take turns on a lock file. PostgreSQL has concurrent writers and already flushes the WAL
    of commits that arrive together once; grouping there made each reply's queries wait in one
    leader's line (and, at 64 in flight, for a pooled connection), so each reply commits alone.
    """
    engine = uow.engine
    if engine.dialect.name == "sqlite":
        return GroupCommit(uow, writers_queue(engine))
    return GroupCommit(uow, grouped=False)


class GroupCommit:
    """Commits the writes handed to `run` by concurrent threads, several per transaction."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        turn: Callable[[], AbstractContextManager[object]] = nullcontext,
        *,
        grouped: bool = True,
    ) -> None:
        self._uow = uow
        self._turn = turn
        # False: each write in its own transaction, on the caller's thread (see for_engine).
        self.grouped = grouped
        self._lock = threading.Lock()
        self._pending: list[_Write] = []
        self._leading = False
        # How many transactions committed writes, and how many writes they held (for tests
        # and the benchmark; counts only).
        self.transactions = 0
        self.writes = 0

    @property
    def waiting(self) -> int:
        """Writes handed in and not yet taken into a transaction."""
        with self._lock:
            return len(self._pending)

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run `work` in a transaction shared with concurrent writes; return once committed.

        `work` must only touch the database through the unit of work it is given (and not
        commit it). Raises what `work` raised, or StorageUnavailable if the commit failed.
        """
        if not self.grouped:
            with self._uow() as uow:
                alone = work(uow)
                uow.commit()
            with self._lock:
                self.transactions += 1
                self.writes += 1
            return alone
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
            with self._turn(), self._uow() as uow:
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
