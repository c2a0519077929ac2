"""Connected accounts: the platform credentials a person or a workspace gave us, encrypted at
rest.

Use::

    store = AccountStore.from_settings(settings, db)       # ConfigError without a secret key
    owner = Owner.profile(profile_id)                        # or Owner.organization(org_id)
    store.store(owner, "wordpress", "blog.example.com (ada)",
                {"url": ..., "user": ..., "app_password": ...}, expires_at=None)
    store.get(owner, "wordpress")      # -> Account (decrypted .credentials) | None; refreshed
                                       #    first when expired and a refresher is registered
    store.list(owner)                  # -> [AccountInfo] (no credentials)
    store.delete(owner, "wordpress")   # -> True when there was one
    store.credentials_for([org, person])  # -> {platform: credentials}, the first owner wins

OAuth platforms register how to refresh an expired token, once, at import of their module::

    register_refresher("youtube", refresh)   # refresh(credentials) -> (credentials, expires_at)

Credentials are a JSON object encrypted with Fernet (AES-128-CBC + HMAC-SHA256); the key is
derived from ASSISTANT_SECRET_KEY with HKDF-SHA256, so the setting can be any long random
string. Without it nothing is stored (one clear line); with another key nothing decrypts, and
the person is told to connect again. Credentials are never logged, and ``Account``'s repr
leaves them out.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr
from sqlalchemy import select

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.infra import logmask
from storage.db import Database
from storage.models import ConnectedAccount

log = logging.getLogger(__name__)

NO_KEY = ("ASSISTANT_SECRET_KEY is not set: account tokens are kept encrypted with it; set it "
          "to a long random string and connect again")
# refresh a token this long before it expires, so an upload never starts with a dying one
REFRESH_MARGIN = timedelta(minutes=2)

Refresher = Callable[[dict[str, Any]], tuple[dict[str, Any], datetime | None]]
_REFRESHERS: dict[str, Refresher] = {}


def register_refresher(platform: str, refresh: Refresher) -> None:
    """How ``platform``'s expired credentials become fresh ones (an OAuth refresh)."""
    _REFRESHERS[platform] = refresh


@dataclass(frozen=True)
class Owner:
    kind: Literal["profile", "organization"]
    id: uuid.UUID

    @classmethod
    def profile(cls, profile_id: str | uuid.UUID) -> Owner:
        return cls("profile", uuid.UUID(str(profile_id)))

    @classmethod
    def organization(cls, organization_id: str | uuid.UUID) -> Owner:
        return cls("organization", uuid.UUID(str(organization_id)))

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class AccountInfo:
    platform: str
    display_name: str
    owner: str
    expires_at: datetime | None
    connected_at: datetime


@dataclass(frozen=True)
class Account(AccountInfo):
    credentials: dict[str, Any] = field(default_factory=dict, repr=False)


def fernet_for(secret: SecretStr | str | None) -> Fernet:
    """The Fernet whose key is derived from ``secret``; ConfigError when there is none."""
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not text:
        raise ConfigError(NO_KEY)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"agenticai-lab connected accounts").derive(text.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


class AccountStore:
    def __init__(self, db: Database, secret: SecretStr | str | None) -> None:
        self._db = db
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> AccountStore:
        return cls(db, settings.secret_key)

    def store(self, owner: Owner, platform: str, display_name: str,
              credentials: Mapping[str, Any], *, expires_at: datetime | None = None,
              meta: Mapping[str, Any] | None = None) -> AccountInfo:
        """Connect (or reconnect: replaces) ``owner``'s account on ``platform``."""
        token = fernet_for(self._secret).encrypt(json.dumps(dict(credentials)).encode("utf-8"))
        with self._db.session() as s:
            row = self._row(s, owner, platform)
            if row is None:
                row = ConnectedAccount(owner=owner.key, platform=platform, meta={})
                if owner.kind == "profile":
                    row.user_id = owner.id
                else:
                    row.organization_id = owner.id
                s.add(row)
            row.display_name = display_name[:255]
            row.credentials_encrypted = token.decode("ascii")
            row.expires_at = expires_at
            row.meta = dict(meta or {})
            s.flush()
            return _info(row)

    def get(self, owner: Owner, platform: str) -> Account | None:
        with self._db.session() as s:
            row = self._row(s, owner, platform)
            if row is None:
                return None
            info, token = _info(row), row.credentials_encrypted
        credentials = self._decrypt(token, platform)
        refresh = _REFRESHERS.get(platform)
        if refresh is not None and info.expires_at is not None \
                and info.expires_at <= datetime.now(UTC) + REFRESH_MARGIN:
            credentials, expires_at = refresh(credentials)
            info = self.store(owner, platform, info.display_name, credentials,
                              expires_at=expires_at)
        return Account(**vars(info), credentials=credentials)

    def list(self, owner: Owner) -> list[AccountInfo]:
        with self._db.session() as s:
            rows = s.scalars(select(ConnectedAccount).where(ConnectedAccount.owner == owner.key)
                             .order_by(ConnectedAccount.platform))
            return [_info(r) for r in rows]

    def delete(self, owner: Owner, platform: str) -> bool:
        with self._db.session() as s:
            row = self._row(s, owner, platform)
            if row is None:
                return False
            s.delete(row)
            return True

    def credentials_for(self, owners: Sequence[Owner]) -> dict[str, dict[str, Any]]:
        """Every platform's credentials among ``owners``' accounts; the first owner that
        connected a platform wins (a workspace's account before its member's)."""
        found: dict[str, dict[str, Any]] = {}
        for owner in owners:
            for info in self.list(owner):
                if info.platform not in found:
                    account = self.get(owner, info.platform)
                    if account is not None:
                        found[info.platform] = account.credentials
        return found

    def _decrypt(self, token: str, platform: str) -> dict[str, Any]:
        try:
            data = fernet_for(self._secret).decrypt(token.encode("ascii"))
        except InvalidToken:
            raise ConfigError(f"the {platform} account cannot be read with this "
                              "ASSISTANT_SECRET_KEY (was it changed?): connect it again"
                              ) from None
        value = json.loads(data)
        credentials = value if isinstance(value, dict) else {}
        # from now on no log line of this process shows them (an httpx request line would
        # carry a webhook's token in its URL)
        logmask.register(str(v) for k, v in credentials.items() if _is_secret(k))
        return credentials

    @staticmethod
    def _row(s: Any, owner: Owner, platform: str) -> ConnectedAccount | None:
        return s.scalars(select(ConnectedAccount).where(
            ConnectedAccount.owner == owner.key, ConnectedAccount.platform == platform)).first()


def _is_secret(key: str) -> bool:
    return any(word in key for word in ("password", "token", "secret", "webhook", "key"))


def _info(row: ConnectedAccount) -> AccountInfo:
    return AccountInfo(platform=row.platform, display_name=row.display_name, owner=row.owner,
                       expires_at=row.expires_at, connected_at=row.created_at)


def owners_of_job(db: Database, job_id: str) -> list[Owner]:
    """Whose accounts a job publishes with: its workspace's, then its owner's."""
    from storage.models import Job

    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return []
        owners = [Owner.organization(job.organization_id)] if job.organization_id else []
        if job.user_id is not None:
            owners.append(Owner.profile(job.user_id))
        return owners
