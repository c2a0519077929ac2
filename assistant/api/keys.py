"""API keys: issued per user, shown once, stored as a sha256 digest with a visible prefix.

A key is ``aal_`` + 43 URL-safe characters from :func:`secrets.token_urlsafe` (256 random
bits). Why sha256 and not bcrypt/scrypt: a slow, salted hash protects *low-entropy* secrets
(passwords people choose) against guessing once the table leaks; a 256-bit random key cannot
be guessed whatever the hash's speed, so the slowness buys nothing, and a fast unsalted
digest lets every request find its key by an indexed lookup instead of a scrypt run per
request against every candidate row. The digest still means a leaked table holds no usable
key.

A key acts as its user: it sees the user's own jobs and those of the workspaces they review
for (the same rule as the chat channels, :func:`assistant.app.identity.may_review`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from assistant.errors import InputError
from storage.db import Database
from storage.jobs import JobRepository
from storage.models import ApiKey, Profile, utcnow

KEY_PREFIX = "aal_"
PREFIX_CHARS = 12  # "aal_" and 8 random characters: enough to tell a user's keys apart
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


@dataclass(frozen=True)
class KeyInfo:
    """A key as a list shows it (never the key itself)."""

    id: str
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    username: str
    profile_id: str
    key_id: str


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _info(row: ApiKey, username: str) -> KeyInfo:
    return KeyInfo(str(row.id), username, row.name, row.prefix, row.created_at,
                   row.last_used_at, row.revoked_at)


def _key_uuid(key_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(key_id.strip())
    except ValueError:
        raise InputError(f"{key_id[:100]!r} is not a key id: `assistant apikey list USER` "
                         "shows them") from None


class ApiKeys:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.repo = JobRepository(db)

    def create(self, username: str, name: str = "") -> tuple[KeyInfo, str]:
        """A new key for ``username`` (created if new): its listing and the key itself,
        which is never stored and cannot be shown again."""
        if len(name) > 100:
            raise InputError("a key name is at most 100 characters")
        try:
            profile = uuid.UUID(self.repo.ensure_user(username))
        except ValueError:
            raise InputError(f"invalid user name {username[:100]!r}") from None
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(user_id=profile, name=name, prefix=key[:PREFIX_CHARS], key_hash=digest(key))
        with self.db.session() as s:
            s.add(row)
            s.flush()
            info = _info(row, username)
        return info, key

    def list_for(self, username: str) -> list[KeyInfo]:
        with self.db.session() as s:
            rows = s.scalars(select(ApiKey).join(Profile, Profile.id == ApiKey.user_id)
                             .where(Profile.username == username)
                             .order_by(ApiKey.created_at, ApiKey.id))
            return [_info(r, username) for r in rows]

    def revoke(self, key_id: str) -> KeyInfo:
        """Revoke a key by its id (what ``list`` shows); revoking twice is harmless."""
        ident = _key_uuid(key_id)
        with self.db.session() as s:
            row = s.get(ApiKey, ident)
            if row is None:
                raise InputError(f"no API key {key_id}: `assistant apikey list USER` shows them")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            username = s.scalar(select(Profile.username).where(Profile.id == row.user_id))
            return _info(row, username or "")

    def owner_of(self, key_id: str) -> str:
        """The username a key belongs to (an InputError for an unknown key)."""
        ident = _key_uuid(key_id)
        with self.db.session() as s:
            found = s.scalar(select(Profile.username).join(ApiKey, ApiKey.user_id == Profile.id)
                             .where(ApiKey.id == ident))
        if found is None:
            raise InputError(f"no API key {key_id[:100]}: `assistant apikey list USER` shows "
                             "them")
        return found

    def authenticate(self, key: str) -> Principal | None:
        """The user an unrevoked key acts as; None for anything else."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        with self.db.session() as s:
            found = s.execute(select(ApiKey, Profile.username)
                              .join(Profile, Profile.id == ApiKey.user_id)
                              .where(ApiKey.key_hash == digest(key))).first()
            if found is None:
                return None
            row, username = found
            # the digest matched through an index; compare again in constant time anyway
            if row.revoked_at is not None or not secrets.compare_digest(row.key_hash,
                                                                        digest(key)):
                return None
            now = utcnow()
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
                row.last_used_at = now
            return Principal(username, str(row.user_id), str(row.id))
