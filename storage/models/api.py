"""REST API keys: one row per key, holding its sha256 digest and a visible prefix only."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, _created, _fk, _id


class ApiKey(Base):
    """A user's API key. ``key_hash`` is the hex sha256 of the whole key (the key itself is
    shown once, when created); ``prefix`` is its first characters, so a person can tell
    their keys apart in a list. A revoked key keeps its row (``revoked_at``) so the list
    says what happened to it."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
