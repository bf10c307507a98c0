"""mail: contributor links (revocable), their submissions (rate limit), barrier e-mail contacts

Revision ID: 0010_mail
Revises: 0009_board
Create Date: 2026-12-04 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_mail"
down_revision: str | None = "0009_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """New tables only: code that predates them keeps working on the new schema."""
    op.create_table(
        "contributor_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributor_links")),
        sa.UniqueConstraint("nonce", name=op.f("uq_contributor_links_nonce")),
    )
    op.create_index(
        op.f("ix_contributor_links_group_id"), "contributor_links", ["group_id"], unique=False
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["contributor_links.id"],
            name=op.f("fk_contributions_link_id_contributor_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    op.create_index("ix_contributions_link_at", "contributions", ["link_id", "at"], unique=False)
    op.create_table(
        "barrier_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_barrier_contacts_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barrier_contacts")),
        sa.UniqueConstraint(
            "escalation_id", "email", name=op.f("uq_barrier_contacts_escalation_id_email")
        ),
    )


def downgrade() -> None:
    """Drop the tables (contributor links stop working; e-mail contacts are forgotten)."""
    op.drop_table("barrier_contacts")
    op.drop_index("ix_contributions_link_at", table_name="contributions")
    op.drop_table("contributions")
    op.drop_index(op.f("ix_contributor_links_group_id"), table_name="contributor_links")
    op.drop_table("contributor_links")
