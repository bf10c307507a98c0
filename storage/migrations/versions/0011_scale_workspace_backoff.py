"""scale: workspace_backoff, a 429's Retry-After shared by every worker sending there

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
    """A new table only: older workers simply don't read it (each then waits on its own)."""
    op.create_table(
        "workspace_backoff",
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workspace_backoff")),
    )


def downgrade() -> None:
    """Drop it (each worker then honours only the 429s it was told itself)."""
    op.drop_table("workspace_backoff")
