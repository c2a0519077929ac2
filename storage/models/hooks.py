"""Outgoing webhooks and their deliveries; workflow templates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    Base,
    UTCDateTime,
    _created,
    _fk,
    _id,
    _json,
    _updated,
)


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    organization_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(String(1000), nullable=False)
    events: Mapped[list[str]] = _json(default=list)
    secret: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_triggered: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class WebhookDelivery(Base):
    """One event for one webhook: written before the first attempt (so a restart loses
    none), then tried until it is delivered or runs out of attempts. ``id`` is the
    ``X-AgenticAI-Delivery`` header; ``payload`` is the signed body's object."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("idx_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("idx_webhook_deliveries_webhook_id", "webhook_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    webhook_id: Mapped[uuid.UUID] = _fk("webhooks.id")
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[Any] = _json()
    # pending (waits for next_attempt_at) | delivered | failed (no attempts left)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)  # the last attempt's failure, one line
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = _created()


class WorkflowTemplate(Base):
    __tablename__ = "workflow_templates"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    configuration: Mapped[dict[str, Any]] = _json()
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_by: Mapped[uuid.UUID] = _fk("profiles.id", ondelete=None)
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


# --- web-chat history (the Chainlit data layer, migration 0003) ---------------------------
