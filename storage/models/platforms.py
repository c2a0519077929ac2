"""Accounts a person or a workspace connected for publishing (WordPress, Telegram channel,
Discord webhook, YouTube, TikTok). The credentials are Fernet ciphertext: only
assistant/tools/publishing/accounts.py, holding the key, reads them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, _created, _fk, _id, _meta, _updated


class ConnectedAccount(Base):
    """One platform account of one owner. ``owner`` is ``profile:<uuid>`` or
    ``organization:<uuid>`` (unique with the platform, which a pair of nullable foreign keys
    cannot be); the foreign keys delete the account with its owner."""

    __tablename__ = "connected_accounts"
    __table_args__ = (
        UniqueConstraint("owner", "platform"),
        Index("idx_connected_accounts_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    owner: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[uuid.UUID | None] = _fk("profiles.id", nullable=True)
    organization_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    display_name: Mapped[str] = mapped_column(String(255), nullable=False)
    credentials_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an OAuth access token's
    meta: Mapped[dict[str, Any]] = _meta()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
