"""heard: remember which barrier links a steward made from "Barriers we keep meeting"

Revision ID: 0007_heard
Revises: 0006_onboard
Create Date: 2026-12-04 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_heard"
down_revision: str | None = "0006_onboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """One nullable column: existing links were all made by the raiser (None)."""
    with op.batch_alter_table("escalation_links") as batch:
        batch.add_column(sa.Column("linked_via", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop it (links stay; only who made them is forgotten)."""
    with op.batch_alter_table("escalation_links") as batch:
        batch.drop_column("linked_via")
