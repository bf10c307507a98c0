"""library search: full-text search over check-ins' answers

PostgreSQL: a stored, generated English tsvector of each check-in's answers, GIN-indexed.
SQLite: a contentless FTS5 table, Porter-stemmed, kept in step with `checkins` by triggers,
and filled from the check-ins already stored.

Revision ID: 0005_library
Revises: 0004_flows
Create Date: 2026-12-04 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_library"
down_revision: str | None = "0004_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same expression storage/search_queries.py searches with (written out here, so that a
# later change there cannot change what this migration built).
PG_DOCUMENT = "jsonb_to_tsvector('english'::regconfig, (answers)::jsonb, '[\"string\"]'::jsonb)"

# The text FTS5 indexes for one row: every string in its answers, at any depth (choices too),
# joined; as PostgreSQL's jsonb_to_tsvector(..., '["string"]') reads them. Keys are left out.
_SQLITE_BODY = (
    "(SELECT group_concat(j.value, ' ') FROM json_tree({row}.answers) AS j WHERE j.type = 'text')"
)


def upgrade() -> None:
    """Build the search index on this database's dialect."""
    if op.get_bind().dialect.name == "postgresql":
        # A stored column, not an index on the expression alone: when the planner walks the
        # newest check-ins first (a common word), testing a stored tsvector costs microseconds,
        # where building each one's tsvector again took seconds for a word nobody wrote.
        op.execute(
            "ALTER TABLE checkins ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED"
        )
        op.execute("CREATE INDEX ix_checkins_search ON checkins USING gin (search_vector)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE checkins_fts USING fts5("
        "body, content='', tokenize='porter unicode61 remove_diacritics 2')"
    )
    new, old = _SQLITE_BODY.format(row="new"), _SQLITE_BODY.format(row="old")
    # A contentless table forgets a row only when told the text it indexed: the old answers
    # give exactly that text again.
    op.execute(
        "CREATE TRIGGER checkins_fts_insert AFTER INSERT ON checkins BEGIN "
        f"INSERT INTO checkins_fts(rowid, body) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER checkins_fts_delete AFTER DELETE ON checkins BEGIN "
        f"INSERT INTO checkins_fts(checkins_fts, rowid, body) VALUES ('delete', old.id, {old}); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER checkins_fts_update AFTER UPDATE OF answers ON checkins BEGIN "
        f"INSERT INTO checkins_fts(checkins_fts, rowid, body) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO checkins_fts(rowid, body) VALUES (new.id, {new}); END"
    )
    op.execute(
        "INSERT INTO checkins_fts(rowid, body) "
        f"SELECT checkins.id, {_SQLITE_BODY.format(row='checkins')} FROM checkins"
    )


def downgrade() -> None:
    """Drop the search index."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_checkins_search")
        op.execute("ALTER TABLE checkins DROP COLUMN IF EXISTS search_vector")
        return
    for trigger in ("checkins_fts_insert", "checkins_fts_delete", "checkins_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS checkins_fts")
