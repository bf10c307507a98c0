"""flows: the weekly alliance note (a member's switch and its once-a-week ledger)

Revision ID: 0004_flows
Revises: 0003
Create Date: 2026-12-04 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_flows"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """On for everyone already a member (participation is never required to receive it)."""
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("alliance_note", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "alliance_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_alliance_notes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alliance_notes")),
        sa.UniqueConstraint("member_id", "period", name=op.f("uq_alliance_notes_member_id_period")),
    )


def downgrade() -> None:
    """Drop the ledger and the switch (everyone is back to receiving nothing)."""
    op.drop_table("alliance_notes")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("alliance_note")
