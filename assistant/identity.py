"""Who is who: linked chat identities, and who may act on a job.

Every channel identity (``telegram`` + ``"42"``) acts as an internal username. Unlinked, that
is ``"telegram:42"``; a web (or CLI) identity *is* the account, so ``web`` + ``"alice"`` is
``"alice"``. ``/link`` issues a one-time code for the identity that asks; ``/link CODE`` sent
from another identity links the two, so both act as the same user: a job started in Telegram
can be approved in Discord.

Storage: a small JSON file under the data dir (``identity_links.json``), locked with ``flock``
and replaced atomically, so bots in several processes on one machine share it; codes are kept
as sha256 digests, never in clear. It stands in for ``identity_links`` / ``link_codes`` tables
until they have an Alembic migration; the public methods stay the same when storage moves.

``may_review`` / ``check_review``: whether a user owns a job or reviews for its workspace.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, InputError
from storage.db import Database
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
        self, path: Path, *, ttl_s: int = CODE_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> IdentityLinks:
        return cls(settings.resolved_data_dir / "identity_links.json")

    # --- reading -----------------------------------------------------------------------------

    def username(self, channel: str, external_id: str) -> str:
        identity = check_identity(channel, external_id)
        links = self._read().get("links", {})
        return str(links.get(identity.key) or natural_username(identity))

    def identities(self, username: str) -> list[Identity]:
        """Every identity acting as ``username``: its natural one and those linked to it."""
        links: dict[str, str] = self._read().get("links", {})
        found = [natural_identity(username)]
        if links.get(found[0].key, username) != username:
            found = []  # the natural identity was linked away to another user
        for key, target in sorted(links.items()):
            channel, _, external_id = key.partition(":")
            identity = Identity(channel, external_id)
            if target == username and identity not in found:
                found.append(identity)
        return found

    # --- codes -------------------------------------------------------------------------------

    def issue_code(self, channel: str, external_id: str) -> str:
        """A fresh one-time code for this identity, valid ``ttl_s`` seconds."""
        identity = check_identity(channel, external_id)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = self.clock()
        with self._update() as data:
            codes: dict[str, Any] = data.setdefault("codes", {})
            for digest in [d for d, c in codes.items() if c["expires"] < now - self.ttl_s]:
                del codes[digest]  # long expired: nobody needs to hear 'expired' any more
            links = data.setdefault("links", {})
            codes[_digest(code)] = {
                "channel": identity.channel,
                "external_id": identity.external_id,
                "username": links.get(identity.key) or natural_username(identity),
                "expires": now + self.ttl_s,
            }
        return code

    def redeem(self, code: str, channel: str, external_id: str) -> LinkResult:
        """Link the redeeming identity and the code's issuer; the code is spent either way.

        The web account wins: a code issued in Telegram and redeemed on the web links the
        Telegram identity to the web account; otherwise the redeemer joins the issuer's user.
        """
        redeemer = check_identity(channel, external_id)
        with self._update() as data:
            entry = data.setdefault("codes", {}).pop(_digest(code), None)
            outcome = self._link(data.setdefault("links", {}), entry, redeemer)
        if isinstance(outcome, str):
            raise InputError(outcome)
        return outcome

    def _link(
        self, links: dict[str, str], entry: dict[str, Any] | None, redeemer: Identity
    ) -> LinkResult | str:
        """Apply a code to ``links``: the result, or why not (one line)."""
        if entry is None:
            return ("that link code is unknown or was already used: "
                    "send /link in your other app for a new one")
        if entry["expires"] < self.clock():
            return (f"that link code has expired (codes last {self.ttl_s // 60} minutes): "
                    "send /link in your other app for a new one")
        issuer = Identity(entry["channel"], entry["external_id"])
        issuer_user = links.get(issuer.key) or entry["username"]
        redeemer_user = links.get(redeemer.key) or natural_username(redeemer)
        if issuer == redeemer or issuer_user == redeemer_user:
            return "these accounts are already linked"
        if redeemer.channel in NATIVE_CHANNELS and issuer.channel in NATIVE_CHANNELS:
            return "two web accounts cannot be linked; link chat apps to one web account"
        if redeemer.channel in NATIVE_CHANNELS:
            moved, username = issuer, redeemer_user
        else:
            moved, username = redeemer, issuer_user
        links[moved.key] = username
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

    # --- the file ----------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        with self._lock, self._flock(shared=True):
            return self._load()

    @contextmanager
    def _update(self) -> Iterator[dict[str, Any]]:
        """The file's content, written back atomically when the block succeeds."""
        with self._lock, self._flock(shared=False):
            data = self._load()
            yield data
            self._save(data)

    @contextmanager
    def _flock(self, *, shared: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "links": {}, "codes": {}}
        except ValueError as exc:
            raise ConfigError(f"the identity links file {self.path} is damaged: move it away "
                              "and link accounts again", detail=repr(exc)) from exc
        if not isinstance(data, dict):
            raise ConfigError(f"the identity links file {self.path} is damaged: move it away")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        body = json.dumps(data, indent=2, sort_keys=True).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".identity-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


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

    The workspace is the job's organization; a job without one belongs to every organization
    its owner is in. Reviewers are members with a role in REVIEW_ROLES, and the
    organization's owner.
    """
    actor = uuid.UUID(actor_id)
    owner = uuid.UUID(owner_id) if owner_id else None
    if owner == actor:
        return True
    with db.session() as s:
        org = s.scalar(select(Job.organization_id).where(Job.id == job_id))
        orgs: list[uuid.UUID] = [org] if org else []
        if not orgs and owner is not None:
            orgs = [*s.scalars(select(OrganizationMember.organization_id)
                               .where(OrganizationMember.user_id == owner)),
                    *s.scalars(select(Organization.id).where(Organization.owner_id == owner))]
        if not orgs:
            return False
        member = s.scalar(select(OrganizationMember.id).where(
            OrganizationMember.user_id == actor,
            OrganizationMember.organization_id.in_(orgs),
            OrganizationMember.role.in_(REVIEW_ROLES)).limit(1))
        org_owner = s.scalar(select(Organization.id).where(
            Organization.id.in_(orgs), Organization.owner_id == actor).limit(1))
    return member is not None or org_owner is not None
