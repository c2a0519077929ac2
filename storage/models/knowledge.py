"""The knowledge base's upload ledger: one row per file a person or workspace added.

The documents themselves (stored copy, manifest entry, vectors) live in the knowledge base's
folder and Qdrant; who owns each one is its ``scope`` there. This table is what every process
of a deployment shares to enforce the per-workspace upload rate (uploads in the last hour),
so it keeps every accepted upload, also of a document removed since.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, _created, _id


class KbUpload(Base):
    """An accepted knowledge-base upload: its scope (``user:<id>``, ``org:<id>`` or
    ``shared``), the source it became, its size and when."""

    __tablename__ = "kb_uploads"
    __table_args__ = (Index("ix_kb_uploads_scope_created_at", "scope", "created_at"),)

    id: Mapped[uuid.UUID] = _id()
    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    source_id: Mapped[str] = mapped_column(String(40), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = _created()
