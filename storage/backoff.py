"""The `workspace_backoff` table: a Retry-After one worker was told, for every worker to honour."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import WorkspaceBackoffRow


class BackoffStore:
    """Reads and writes holds by key, each in its own short transaction (thread-safe)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hold(self, key: str, until: dt.datetime) -> None:
        """Record that `key` is held until `until` (a later hold already there is kept)."""
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(WorkspaceBackoffRow).values(key=key, until=until)
        # Two workers told at once: the later of the two times wins, whichever writes last.
        later = WorkspaceBackoffRow.__table__.c.until < statement.excluded.until
        statement = statement.on_conflict_do_update(
            index_elements=[WorkspaceBackoffRow.__table__.c.key],
            set_={"until": statement.excluded.until},
            where=later,
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    def until(self, key: str) -> dt.datetime | None:
        """Until when `key` was last held (perhaps long past), or None if never."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(WorkspaceBackoffRow.until).where(WorkspaceBackoffRow.key == key)
            ).scalar()
        if value is None:
            return None
        # SQLite hands back a naive datetime from a Core query: it was stored in UTC.
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
