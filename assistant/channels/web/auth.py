"""Web-chat accounts: scrypt password hashes on ``profiles.password_hash``.

The stored format is ``scrypt$n$r$p$salt$hash`` (salt and hash in URL-safe base64, no
padding), so the cost can be raised later without invalidating older hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select

from assistant.errors import InputError
from storage.db import Database
from storage.models import Profile

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")  # no ":" (channel names use it)
_DUMMY = ""  # a hash to compare against for unknown users, so timing says nothing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * n * r * p + 1024 * 1024, dklen=length)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for a malformed or foreign hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        got = _scrypt(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.match(username):
        raise InputError(f"invalid user name {username!r}: use letters, digits and . _ @ - "
                         "(at most 100, no spaces or colons)")
    return username


def check_new_password(password: str) -> str:
    password = password.rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


def set_password(db: Database, username: str, password: str) -> bool:
    """Create the account or set its password; True when the account is new."""
    username = check_username(username)
    hashed = hash_password(check_new_password(password))
    with db.session() as s:
        profile = s.scalar(select(Profile).where(Profile.username == username))
        created = profile is None
        if profile is None:
            profile = Profile(username=username)
            s.add(profile)
        profile.password_hash = hashed
    return created


def authenticate(db: Database, username: str, password: str) -> str | None:
    """The account name when ``password`` is right for it, else None."""
    global _DUMMY
    username = username.strip()
    stored = None
    if USERNAME.match(username) and len(password) <= MAX_PASSWORD:
        with db.session() as s:
            stored = s.scalar(select(Profile.password_hash).where(Profile.username == username))
    if not stored:
        if not _DUMMY:
            _DUMMY = hash_password(secrets.token_urlsafe(12))
        verify_password(password, _DUMMY)  # the same work as for a real account
        return None
    return username if verify_password(password, stored) else None
