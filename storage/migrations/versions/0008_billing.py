"""billing and webhooks: tiers, Stripe ids and events, webhook delivery state

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_accounts",
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_status", sa.String(length=50), nullable=True),
        sa.Column("payment_failed_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"],
                                name=op.f("fk_billing_accounts_profile_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("stripe_customer_id",
                            name=op.f("uq_billing_accounts_stripe_customer_id")),
        sa.UniqueConstraint("stripe_subscription_id",
                            name=op.f("uq_billing_accounts_stripe_subscription_id")),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    # deliveries become durable work items: written before the first attempt, retried until
    # delivered or out of attempts. Rows from before were sent once: they count as delivered.
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False,
                                   server_default="delivered"))
        batch.add_column(sa.Column("next_attempt_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("created_at", TIMESTAMP, nullable=False,
                                   server_default=sa.func.now()))
        batch.alter_column("delivered_at", existing_type=TIMESTAMP, nullable=True)
    with op.batch_alter_table("webhook_deliveries") as batch:
        # the defaults only filled the rows already there; new rows get theirs from the app
        batch.alter_column("status", existing_type=sa.String(length=20), server_default=None)
        batch.alter_column("created_at", existing_type=TIMESTAMP, server_default=None)
    op.create_index("idx_webhook_deliveries_due", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("idx_webhook_deliveries_webhook_id", "webhook_deliveries",
                    ["webhook_id", "created_at"])


def downgrade() -> None:
    op.drop_index("idx_webhook_deliveries_webhook_id", table_name="webhook_deliveries")
    op.drop_index("idx_webhook_deliveries_due", table_name="webhook_deliveries")
    op.execute("UPDATE webhook_deliveries SET delivered_at = created_at "
               "WHERE delivered_at IS NULL")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("delivered_at", existing_type=TIMESTAMP, nullable=False)
        batch.drop_column("created_at")
        batch.drop_column("error")
        batch.drop_column("next_attempt_at")
        batch.drop_column("status")
    op.drop_table("stripe_events")
    op.drop_table("billing_accounts")
