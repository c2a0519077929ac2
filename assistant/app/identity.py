"""Who is who: linked chat identities, and who may act on a job.

Every channel identity (``telegram`` + ``"42"``) acts as an internal username. Unlinked, that
is ``"telegram:42"``; a web (or CLI) identity *is* the account, so ``web`` + ``"alice"`` is
``"alice"``. ``/link`` issues a one-time code for the identity that asks; ``/link CODE`` sent
from another identity links the two, so both act as the same user: a job started in Telegram
can be approved in Discord.

Storage: the ``identity_links`` and ``link_codes`` tables (storage/identities.py), so every
process of a deployment (web app, bots) shares them; codes are kept as sha256 digests only.

``may_review`` / ``check_review``: whether a user owns a job or reviews for its workspace.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from assistant.errors import AssistantError, InputError
from storage.db import Database
from storage.identities import IdentityStore
from storage.models import Job, Organization, OrganizationMember

# Identities that authenticate against our own users table: the external id is the username.
NATIVE_CHANNELS = frozenset({"web", "cli"})
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8
CODE_TTL_S = 600
_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_MAX_EXTERNAL_ID = 90  # "channel:" + id fits profiles.username (100)
REVIEW_ROLES = ("reviewer", "owner")  # organization_members.role values that may review


@dataclass(frozen=True)
class Identity:
    channel: str
    external_id: str

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True)
class LinkResult:
    username: str  # the internal user both identities now act as
    linked: Identity  # the identity whose user changed


def check_identity(channel: str, external_id: str) -> Identity:
    if not _CHANNEL.match(channel):
        raise InputError(f"invalid channel name {channel!r}")
    external_id = str(external_id).strip()
    if not external_id or len(external_id) > _MAX_EXTERNAL_ID:
        raise InputError(f"invalid {channel} user id {external_id!r}")
    return Identity(channel, external_id)


def natural_username(identity: Identity) -> str:
    """The username an identity acts as before any link."""
    if identity.channel in NATIVE_CHANNELS:
        return identity.external_id
    return identity.key


def natural_identity(username: str) -> Identity:
    """The identity whose natural username is ``username``."""
    channel, sep, rest = username.partition(":")
    if sep and rest and _CHANNEL.match(channel) and channel not in NATIVE_CHANNELS:
        return Identity(channel, rest)
    return Identity("web", username)


def normalize_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _digest(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode("utf-8")).hexdigest()


class IdentityLinks:
    """Which internal user each channel identity acts as, and the one-time link codes."""

    def __init__(
        self, db: Database, *, ttl_s: int = CODE_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = IdentityStore(db)
        self.ttl_s = ttl_s
        self.clock = clock

    # --- reading -----------------------------------------------------------------------------

    def username(self, channel: str, external_id: str) -> str:
        identity = check_identity(channel, external_id)
        linked = self.store.linked_user(identity.channel, identity.external_id)
        return linked or natural_username(identity)

    def identities(self, username: str) -> list[Identity]:
        """Every identity acting as ``username``: its natural one and those linked to it."""
        natural = natural_identity(username)
        moved_to = self.store.linked_user(natural.channel, natural.external_id)
        found = [] if moved_to not in (None, username) else [natural]
        for channel, external_id in self.store.linked_identities(username):
            identity = Identity(channel, external_id)
            if identity not in found:
                found.append(identity)
        return found

    # --- codes -------------------------------------------------------------------------------

    def issue_code(self, channel: str, external_id: str) -> str:
        """A fresh one-time code for this identity, valid ``ttl_s`` seconds."""
        identity = check_identity(channel, external_id)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = self.clock()
        # codes long expired are purged: nobody needs to hear 'expired' about them any more
        self.store.put_code(_digest(code), identity.channel, identity.external_id,
                            _at(now + self.ttl_s), purge_expired_before=_at(now - self.ttl_s))
        return code

    def redeem(self, code: str, channel: str, external_id: str) -> LinkResult:
        """Link the redeeming identity and the code's issuer; the code is spent either way.

        The web account wins: a code issued in Telegram and redeemed on the web links the
        Telegram identity to the web account; otherwise the redeemer joins the issuer's user.
        """
        redeemer = check_identity(channel, external_id)
        entry = self.store.take_code(_digest(code))
        if entry is None:
            raise InputError("that link code is unknown or was already used: "
                             "send /link in your other app for a new one")
        if entry.expires_at < _at(self.clock()):
            raise InputError(f"that link code has expired (codes last {self.ttl_s // 60} "
                             "minutes): send /link in your other app for a new one")
        issuer = Identity(entry.channel, entry.external_id)
        issuer_user = self.username(issuer.channel, issuer.external_id)
        redeemer_user = self.username(redeemer.channel, redeemer.external_id)
        if issuer == redeemer or issuer_user == redeemer_user:
            raise InputError("these accounts are already linked")
        if redeemer.channel in NATIVE_CHANNELS and issuer.channel in NATIVE_CHANNELS:
            raise InputError("two web accounts cannot be linked; link chat apps to one web "
                             "account")
        if redeemer.channel in NATIVE_CHANNELS:
            moved, username = issuer, redeemer_user
        else:
            moved, username = redeemer, issuer_user
        self.store.link(moved.channel, moved.external_id, username)
        return LinkResult(username, moved)

    def link(self, channel: str, external_id: str, code: str = "") -> str:
        """What ``/link [CODE]`` answers: a new code, or the link made with one."""
        if not code:
            code = self.issue_code(channel, external_id)
            return (f"Your link code is {code}. Within {self.ttl_s // 60} minutes, send "
                    f"“/link {code}” from your other chat app; it works once.")
        result = self.redeem(code, channel, external_id)
        return (f"Linked: your {result.linked.channel} account now acts as {result.username}, "
                "so jobs and approvals are shared.")


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# --- who may act on a job ----------------------------------------------------------------


class Refused(AssistantError):
    """This user may not act on this job."""


def check_review(db: Database, actor_id: str, job_id: str, owner_id: str | None) -> None:
    """Refused unless profile ``actor_id`` may approve, revise, reject or cancel the job."""
    if not may_review(db, actor_id, job_id, owner_id):
        raise Refused(f"{job_id} is not yours: only its owner or a reviewer in its workspace "
                      "may act on it")


def may_review(db: Database, actor_id: str, job_id: str, owner_id: str | None) -> bool:
    """Whether profile ``actor_id`` owns the job or may review it for its workspace.

    The workspace is the job's organization; a job without one is its owner's alone (it
    used to belong to every organization its owner was in: a reviewer of one team could
    decide a private job). Reviewers are members with a role in REVIEW_ROLES, and the
    organization's owner.
    """
    actor = uuid.UUID(actor_id)
    owner = uuid.UUID(owner_id) if owner_id else None
    if owner == actor:
        return True
    with db.session() as s:
        org = s.scalar(select(Job.organization_id).where(Job.id == job_id))
        if org is None:
            return False
        orgs: list[uuid.UUID] = [org]
        member = s.scalar(select(OrganizationMember.id).where(
            OrganizationMember.user_id == actor,
            OrganizationMember.organization_id.in_(orgs),
            OrganizationMember.role.in_(REVIEW_ROLES)).limit(1))
        org_owner = s.scalar(select(Organization.id).where(
            Organization.id.in_(orgs), Organization.owner_id == actor).limit(1))
    return member is not None or org_owner is not None
