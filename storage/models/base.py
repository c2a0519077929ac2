"""What every model shares: the declarative base, UTC timestamps, id/JSON/foreign-key
columns and the allowed status values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JOB_STATUSES = frozenset(
    {"pending", "processing", "review", "published", "rejected", "failed", "cancelled"}
)
JOB_FINISHED = frozenset({"published", "rejected", "cancelled"})
CONTENT_TYPES = frozenset({"short", "video", "podcast", "blog", "social"})
STEP_STATUSES = frozenset({"pending", "processing", "completed", "failed"})
APPROVAL_STATUSES = frozenset({"pending", "approved", "revise", "rejected"})

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always gives back aware UTC datetimes.

    SQLite keeps no zone: values are stored as UTC and read back as naive, so the zone is
    attached again here; naive values coming in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
JOB_ID = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, nullable=False, default=utcnow)


def _updated() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


def _json(nullable: bool = False, default: Any = dict) -> Mapped[Any]:
    return mapped_column(JSONType, nullable=nullable, default=default)


def _meta() -> Mapped[dict[str, Any]]:
    return mapped_column("metadata", JSONType, nullable=False, default=dict)


def _fk(target: str, ondelete: str | None = "CASCADE", nullable: bool = False) -> Mapped[Any]:
    type_ = JOB_ID if target == "jobs.id" else Uuid
    return mapped_column(type_, ForeignKey(target, ondelete=ondelete), nullable=nullable)
