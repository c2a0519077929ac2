"""The web chat's history (Chainlit's data layer): threads, steps, elements, feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    Base,
    _created,
    _fk,
    _json,
    _meta,
    _updated,
)

CHAT_ID = String(64)  # Chainlit's ids: uuid4 text


class ChatThread(Base):
    """A web-chat conversation; ``user_id`` is the profile it belongs to."""

    __tablename__ = "chat_threads"
    __table_args__ = (Index("idx_chat_threads_user_id", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = _fk("profiles.id", nullable=True)
    name: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str]] = _json(default=list)
    meta: Mapped[dict[str, Any]] = _meta()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class ChatStep(Base):
    """A message or step shown in a thread; ``data`` is Chainlit's step dict."""

    __tablename__ = "chat_steps"
    __table_args__ = (Index("idx_chat_steps_thread_id", "thread_id", "created_at"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(CHAT_ID)
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    data: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()


class ChatElement(Base):
    """A media element attached to a message; ``data`` is Chainlit's element dict."""

    __tablename__ = "chat_elements"
    __table_args__ = (Index("idx_chat_elements_thread_id", "thread_id"),)

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    for_id: Mapped[str | None] = mapped_column(CHAT_ID)
    data: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()


class ChatFeedback(Base):
    """A thumbs up (1) or down (0) on a message."""

    __tablename__ = "chat_feedback"

    id: Mapped[str] = mapped_column(CHAT_ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        CHAT_ID, ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=False)
    step_id: Mapped[str] = mapped_column(CHAT_ID, nullable=False, unique=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
