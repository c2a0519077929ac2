"""publishing: connected accounts (tokens encrypted at rest), publication schedule and remote ids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connected_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["profiles.id"],
                                name=op.f("fk_connected_accounts_user_id"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_connected_accounts_organization_id"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connected_accounts")),
        sa.UniqueConstraint("owner", "platform", name=op.f("uq_connected_accounts_owner_platform")),
    )
    op.create_index("idx_connected_accounts_expires_at", "connected_accounts", ["expires_at"])
    with op.batch_alter_table("publications") as batch:
        batch.add_column(sa.Column("publish_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("error_message", sa.Text(), nullable=True))
    op.create_index("idx_publications_status_publish_at", "publications",
                    ["status", "publish_at"])


def downgrade() -> None:
    op.drop_index("idx_publications_status_publish_at", table_name="publications")
    with op.batch_alter_table("publications") as batch:
        batch.drop_column("error_message")
        batch.drop_column("publish_at")
    op.drop_index("idx_connected_accounts_expires_at", table_name="connected_accounts")
    op.drop_table("connected_accounts")
