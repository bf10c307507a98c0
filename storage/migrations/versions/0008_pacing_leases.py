"""pacing leases: which worker holds a prompt's lease, and until when

Revision ID: 0008_pacing
Revises: 0006_onboard
Create Date: 2026-12-04 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_pacing"
down_revision: str | None = "0007_heard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nullable columns only: a row leased by older code (no holder) is settled as before."""
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("leased_by", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them (one worker then sends, as before)."""
    with op.batch_alter_table("prompts") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("leased_by")
