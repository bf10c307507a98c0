"""Leader election: one PostgreSQL advisory lock per worker fleet; none on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from storage.db import make_engine
from storage.locks import AdvisoryLock, AdvisoryPresence, FileLock, NoLock, leader_lock


def test_one_holder_at_a_time_and_a_standby_takes_over(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        # SQLite: a lock on a file beside the database, so a second worker stands by.
        leader, standby = leader_lock(engine), leader_lock(engine)
        assert isinstance(leader, FileLock)
        try:
            assert leader.acquire() and leader.acquire()  # held: checked, not re-taken
            assert not standby.acquire()
            leader.release()
            assert standby.acquire()
            assert not leader.acquire()
        finally:
            leader.release()
            standby.release()
        in_memory = make_engine("sqlite://")
        try:
            assert isinstance(leader_lock(in_memory), NoLock)
        finally:
            in_memory.dispose()
        return
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    leader, standby = AdvisoryLock(engine), AdvisoryLock(other_engine)
    try:
        assert leader.acquire()
        assert leader.acquire()  # still held: checked, not re-taken
        assert not standby.acquire()
        leader.release()
        assert standby.acquire()
        assert not leader.acquire()
    finally:
        leader.release()
        standby.release()
        other_engine.dispose()


def test_a_dead_leaders_lock_is_freed_with_its_connection(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite runs one worker")
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    leader, standby = AdvisoryLock(engine), AdvisoryLock(other_engine)
    try:
        assert leader.acquire()
        assert leader._conn is not None
        leader._conn.invalidate()  # the process died: PostgreSQL drops its session
        leader._conn = None
        assert standby.acquire()
    finally:
        standby.release()
        other_engine.dispose()


def test_the_running_workers_are_counted_by_their_presence_locks(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("presence locks are PostgreSQL's; SQLite runs one worker")
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    one, two = AdvisoryPresence(engine, "worker-1"), AdvisoryPresence(other_engine, "worker-2")
    try:
        one.announce()
        assert one.count() == 1
        two.announce()
        assert one.count() == 2 and two.count() == 2
        assert one.alive("worker-2")  # asking never takes a lock that stays
        assert one.count() == 2
        two.close()  # the second worker stopped
        assert one.count() == 1
    finally:
        one.close()
        two.close()
        other_engine.dispose()
