"""scheduled publications and pulled analytics: the scheduler's lease on a due publication,
the weekly reports sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publication_leases",
        sa.Column("publication_id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"],
                                name=op.f("fk_publication_leases_publication_id"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("publication_id", name=op.f("pk_publication_leases")),
    )
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("period_start", TIMESTAMP, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
        sa.UniqueConstraint("audience", "period_start",
                            name=op.f("uq_report_deliveries_audience_period_start")),
    )


def downgrade() -> None:
    op.drop_table("report_deliveries")
    op.drop_table("publication_leases")
