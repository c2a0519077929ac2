"""knowledge base per workspace: who owns each document, and the upload ledger

Each knowledge-base document now carries a scope (``shared``, ``user:<profile id>`` or
``org:<organization id>``) in its manifest entry and in its vectors' payload; those live in
the knowledge base's folder and Qdrant, not in this database, and a document added before
this revision (no scope) is read as ``shared`` (what `assistant kb add` adds for everyone),
its vectors marked so on first use. What the database gains is ``kb_uploads``: every
accepted upload per scope, which the per-workspace upload rate counts across processes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_uploads")),
    )
    op.create_index("ix_kb_uploads_scope_created_at", "kb_uploads", ["scope", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_uploads_scope_created_at", table_name="kb_uploads")
    op.drop_table("kb_uploads")
