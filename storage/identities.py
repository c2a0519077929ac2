"""Linked chat identities and one-time link codes (tables identity_links, link_codes).

Only identities that were linked to another user have a row; an unlinked identity acts as
its natural username, which the caller works out. Codes are stored as sha256 digests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from storage.db import Database
from storage.jobs import JobRepository
from storage.models import IdentityLink, LinkCode, Profile


@dataclass(frozen=True)
class PendingCode:
    channel: str
    external_id: str
    expires_at: datetime


class IdentityStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._users = JobRepository(db)

    def linked_user(self, channel: str, external_id: str) -> str | None:
        """The username this identity was linked to, or None if it never was."""
        with self._db.session() as s:
            return s.scalar(select(Profile.username)
                            .join(IdentityLink, IdentityLink.user_id == Profile.id)
                            .where(IdentityLink.channel == channel,
                                   IdentityLink.external_id == external_id))

    def linked_identities(self, username: str) -> list[tuple[str, str]]:
        """(channel, external_id) of every identity linked to ``username``, sorted."""
        with self._db.session() as s:
            rows = s.execute(select(IdentityLink.channel, IdentityLink.external_id)
                             .join(Profile, IdentityLink.user_id == Profile.id)
                             .where(Profile.username == username)
                             .order_by(IdentityLink.channel, IdentityLink.external_id))
            return [(channel, external_id) for channel, external_id in rows]

    def link(self, channel: str, external_id: str, username: str) -> None:
        """From now on the identity acts as ``username`` (replacing any earlier link)."""
        user_id = uuid.UUID(self._users.ensure_user(username))
        with self._db.session() as s:
            row = s.scalar(select(IdentityLink).where(IdentityLink.channel == channel,
                                                      IdentityLink.external_id == external_id))
            if row is None:
                s.add(IdentityLink(channel=channel, external_id=external_id, user_id=user_id))
            else:
                row.user_id = user_id

    def put_code(self, digest: str, channel: str, external_id: str, expires_at: datetime,
                 *, purge_expired_before: datetime) -> None:
        with self._db.session() as s:
            s.execute(delete(LinkCode).where(LinkCode.expires_at < purge_expired_before))
            s.add(LinkCode(code_sha256=digest, channel=channel, external_id=external_id,
                           expires_at=expires_at))

    def take_code(self, digest: str) -> PendingCode | None:
        """Spend a code: its issuer, or None when it is unknown or someone spent it first."""
        with self._db.session() as s:
            row = s.get(LinkCode, digest)
            if row is None:
                return None
            found = PendingCode(row.channel, row.external_id, row.expires_at)
            spent = s.execute(delete(LinkCode).where(LinkCode.code_sha256 == digest))
            # two redeemers at once: only the one whose DELETE removed the row wins
            return found if getattr(spent, "rowcount", 0) == 1 else None

