"""The group commit on a real database: writes that pile up behind a commit share the next one;
a write that fails alone fails alone; every caller returns only after its write is committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text

from storage.group_commit import GroupCommit, writers_queue
from storage.uow import UnitOfWork, UnitOfWorkFactory


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other writes never arrived"
        time.sleep(0.01)


def audited(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT target FROM audit_events")).scalars())


def test_writes_behind_a_commit_share_the_next_and_each_returns_once_committed(
    engine: Engine,
) -> None:
    commit = GroupCommit(UnitOfWorkFactory(engine), writers_queue(engine))
    first_started = threading.Event()
    seen_at_return: dict[int, list[str]] = {}

    def write(n: int) -> int:
        def work(uow: UnitOfWork) -> int:
            uow.audit.record("test", "group.write", f"w{n:02d}")
            if n == 0:
                first_started.set()
                wait_until(lambda: commit.waiting == 8)  # the others queue behind this one
            return n

        result = commit.run(work)
        # Returned: the write is already visible to any other connection.
        seen_at_return[n] = audited(engine)
        return result

    with ThreadPoolExecutor(9) as pool:
        leader = pool.submit(write, 0)
        assert first_started.wait(10)
        rest = [pool.submit(write, n) for n in range(1, 9)]
        results = [leader.result(), *(f.result() for f in rest)]
    assert results == list(range(9))
    assert audited(engine) == [f"w{n:02d}" for n in range(9)]
    for n, seen in seen_at_return.items():
        assert f"w{n:02d}" in seen
    assert commit.writes == 9
    # The leader's write alone, then the eight that waited behind it together.
    assert commit.transactions == 2


def test_a_write_that_fails_alone_fails_alone(engine: Engine) -> None:
    commit = GroupCommit(UnitOfWorkFactory(engine), writers_queue(engine))
    first_started = threading.Event()

    def write(n: int) -> int:
        def work(uow: UnitOfWork) -> int:
            uow.audit.record("test", "group.write", f"w{n:02d}")
            if n == 0:
                first_started.set()
                wait_until(lambda: commit.waiting == 5)
            if n == 3:
                raise ValueError("this one is wrong")
            return n

        return commit.run(work)

    with ThreadPoolExecutor(6) as pool:
        leader = pool.submit(write, 0)
        assert first_started.wait(10)
        rest = {n: pool.submit(write, n) for n in range(1, 6)}
        assert leader.result() == 0
        # The five were tried together, and, that failing, each alone.
        with pytest.raises(ValueError, match="this one is wrong"):
            rest[3].result()
        assert [rest[n].result() for n in (1, 2, 4, 5)] == [1, 2, 4, 5]
    # Its neighbours in the batch were stored; the failed one left nothing behind.
    assert audited(engine) == ["w00", "w01", "w02", "w04", "w05"]
    assert (commit.transactions, commit.writes) == (5, 5)
