"""onboard: reload counter, shared directory listings, members added from chat

Revision ID: 0006_onboard
Revises: 0003
Create Date: 2026-12-04 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_onboard"
down_revision: str | None = "0005_library"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """New tables only: code that predates them keeps working on the new schema."""
    op.create_table(
        "config_reloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_reloads")),
    )
    op.create_table(
        "directory_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_listings")),
        sa.UniqueConstraint(
            "platform", "kind", "source", name=op.f("uq_directory_listings_platform_kind_source")
        ),
    )
    op.create_table(
        "agency_additions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_additions_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_additions")),
        sa.UniqueConstraint(
            "platform",
            "platform_user_id",
            name=op.f("uq_agency_additions_platform_platform_user_id"),
        ),
    )


def downgrade() -> None:
    """Drop the three tables (members added from chat then need listing in the file)."""
    op.drop_table("agency_additions")
    op.drop_table("directory_listings")
    op.drop_table("config_reloads")
