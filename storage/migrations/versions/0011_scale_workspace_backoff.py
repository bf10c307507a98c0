"""workspace_backoff (a 429 shared by every worker); stale reminders per agency channel

Revision ID: 0011_scale
Revises: 0010_mail
Create Date: 2026-12-04 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_scale"
down_revision: str | None = "0010_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A new table (older workers simply don't read it) and a column with a default."""
    op.create_table(
        "workspace_backoff",
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workspace_backoff")),
    )
    # A stale-barrier reminder per (level, week, channel): an agency with its own leadership
    # channel gets its own first-rung reminder there. Existing rows are the level's channel ("").
    with op.batch_alter_table("escalation_reminders") as batch:
        batch.add_column(
            sa.Column("destination", sa.String(length=100), server_default="", nullable=False)
        )
        batch.drop_constraint("uq_escalation_reminders_level_period", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_escalation_reminders_level_period_destination"),
            ["level", "period", "destination"],
        )


def downgrade() -> None:
    """Drop both (one reminder per level and week again; each worker its own 429s)."""
    op.drop_table("workspace_backoff")
    with op.batch_alter_table("escalation_reminders") as batch:
        batch.drop_constraint("uq_escalation_reminders_level_period_destination", type_="unique")
        batch.drop_column("destination")
        batch.create_unique_constraint("uq_escalation_reminders_level_period", ["level", "period"])
