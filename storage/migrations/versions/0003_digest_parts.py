"""digest parts: resume a partly posted digest

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nullable columns only, so code that predates them keeps working on the new schema."""
    with op.batch_alter_table("digests") as batch:
        batch.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("charts_posted", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the progress columns (a partly posted digest is then retried from its start)."""
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("charts_posted")
        batch.drop_column("parts")
