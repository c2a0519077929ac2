"""What the scheduler keeps: who is publishing a due publication now (a lease), and which
weekly reports went out.

A scheduled publication is a ``publications`` row with ``status='scheduled'`` and its
``publish_at``. When it falls due, a scheduler loop (any number of them, in any process)
claims it by taking its :class:`PublicationLease`: one row per publication, taken with a
conditional UPDATE (or the INSERT of the first claim, which the primary key lets only one
writer win), so two schedulers, or one restarted after a kill, never publish it twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, _created, _id, _updated


class PublicationLease(Base):
    __tablename__ = "publication_leases"

    publication_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    # "host:pid:token" of the scheduler publishing it now; NULL when nobody is
    owner: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _updated()


class ReportDelivery(Base):
    """One weekly report of one workspace (``audience``: ``organization:<uuid>``, or
    ``profile:<username>`` for a person's pieces outside any workspace) for the week starting
    ``period_start``; the unique key makes a second scheduler's send of that week a no-op."""

    __tablename__ = "report_deliveries"
    __table_args__ = (UniqueConstraint("audience", "period_start"),)

    id: Mapped[uuid.UUID] = _id()
    audience: Mapped[str] = mapped_column(String(100), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = _created()
