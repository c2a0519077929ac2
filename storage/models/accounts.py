"""People and workspaces: profiles, linked chat identities, link codes, organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Text,
    UniqueConstraint,
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


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[uuid.UUID] = _id()
    # channel-qualified names such as "discord:123456789012345678" need more than 50
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="user")
    subscription_tier: Mapped[str] = mapped_column(String(20), nullable=False, default="free")
    api_quota_daily: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    api_quota_monthly: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    preferences: Mapped[dict[str, Any]] = _json()
    onboarding_completed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # web-chat login (scrypt, "scrypt$n$r$p$salt$hash"); NULL for users who only use bots
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class IdentityLink(Base):
    """A chat identity (``telegram`` + ``"42"``) linked to the profile it acts as."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[uuid.UUID] = _id()
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    linked_at: Mapped[datetime] = _created()


class LinkCode(Base):
    """A one-time code from ``/link``; only its sha256 is kept."""

    __tablename__ = "link_codes"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = _created()


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = _fk("profiles.id")
    subscription_tier: Mapped[str] = mapped_column(String(20), nullable=False, default="free")
    billing_email: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = _json()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class OrganizationMember(Base):
    __tablename__ = "organization_members"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[uuid.UUID] = _id()
    organization_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("profiles.id")
    role: Mapped[str] = mapped_column(String(50), nullable=False, default="member")
    permissions: Mapped[dict[str, Any]] = _json()
    joined_at: Mapped[datetime] = _created()
