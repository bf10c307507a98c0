"""check-ins remember the chat message a plain reply came from

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add checkins.source_message (nullable: entries saved before it have none)."""
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_message", sa.String(length=128), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_checkins_source_message"), ["source_message"], unique=False
        )


def downgrade() -> None:
    """Drop checkins.source_message."""
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_source_message"))
        batch_op.drop_column("source_message")
