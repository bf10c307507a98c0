"""The Learning Board keeps finished weeks' theme counts and shared patterns

Revision ID: 0012_kept_weeks
Revises: 0011_scale
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_kept_weeks"
down_revision: str | None = "0011_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A new table only: nothing reads it but the board's themes page and the worker."""
    op.create_table(
        "board_kept_weeks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reads_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reads_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fresh_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_kept_weeks")),
        sa.UniqueConstraint(
            "kind",
            "scope",
            "version",
            "period_start",
            name=op.f("uq_board_kept_weeks_kind_scope_version_period_start"),
        ),
    )
    op.create_index(
        "ix_board_kept_weeks_reads", "board_kept_weeks", ["reads_from", "reads_until"], unique=False
    )


def downgrade() -> None:
    """Drop the table: the themes page counts every week again."""
    op.drop_index("ix_board_kept_weeks_reads", table_name="board_kept_weeks")
    op.drop_table("board_kept_weeks")
