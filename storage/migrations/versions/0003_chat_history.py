"""web-chat history: threads, steps (messages), elements and feedback of the Chainlit app

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_threads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["profiles.id"], name=op.f("fk_chat_threads_user_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_threads")),
    )
    op.create_index("idx_chat_threads_user_id", "chat_threads", ["user_id", "updated_at"])
    op.create_table(
        "chat_steps",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["chat_threads.id"], name=op.f("fk_chat_steps_thread_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_steps")),
    )
    op.create_index("idx_chat_steps_thread_id", "chat_steps", ["thread_id", "created_at"])
    op.create_table(
        "chat_elements",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("for_id", sa.String(length=64), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["chat_threads.id"], name=op.f("fk_chat_elements_thread_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_elements")),
    )
    op.create_index("idx_chat_elements_thread_id", "chat_elements", ["thread_id"])
    op.create_table(
        "chat_feedback",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["chat_threads.id"], name=op.f("fk_chat_feedback_thread_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_feedback")),
        sa.UniqueConstraint("step_id", name=op.f("uq_chat_feedback_step_id")),
    )


def downgrade() -> None:
    op.drop_table("chat_feedback")
    op.drop_index("idx_chat_elements_thread_id", table_name="chat_elements")
    op.drop_table("chat_elements")
    op.drop_index("idx_chat_steps_thread_id", table_name="chat_steps")
    op.drop_table("chat_steps")
    op.drop_index("idx_chat_threads_user_id", table_name="chat_threads")
    op.drop_table("chat_threads")
