"""board: one-use Learning Board sign-in links (issue 15)

Revision ID: 0009_board
Revises: 0008_pacing
Create Date: 2026-12-04 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_board"
down_revision: str | None = "0008_pacing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A new table only: code that predates it never reads it."""
    op.create_table(
        "board_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("ip_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_links")),
        sa.UniqueConstraint("jti", name=op.f("uq_board_links_jti")),
    )
    op.create_index("ix_board_links_email_created", "board_links", ["email", "created_at"])
    op.create_index("ix_board_links_ip_created", "board_links", ["ip_key", "created_at"])


def downgrade() -> None:
    """Drop the links (everyone signed in by one keeps their session cookie until it ends)."""
    op.drop_index("ix_board_links_ip_created", table_name="board_links")
    op.drop_index("ix_board_links_email_created", table_name="board_links")
    op.drop_table("board_links")
