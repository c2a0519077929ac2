"""The app's own secret, and the itsdangerous signers made from it: web sessions, bot
button payloads, expiring media links.

Taken from ``ASSISTANT_CHAT_SECRET`` when set (every process of a team deployment must
share it); otherwise made once and kept in ``<data_dir>/secrets.json`` (mode 0600), so a
single-machine install keeps its sessions and buttons valid across restarts.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner
from itsdangerous.signer import HMACAlgorithm

from assistant.config import Settings
from assistant.errors import ConfigError


def app_secret(settings: Settings) -> str:
    if settings.chat_secret is not None:
        return settings.chat_secret.get_secret_value()
    path = settings.resolved_data_dir / "secrets.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["app_secret"])
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is damaged: delete it (signed-in sessions and old buttons "
                          "stop working) or set ASSISTANT_CHAT_SECRET") from exc
    return _create(path)


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:  # O_EXCL: when two processes start at once, the first one's secret wins
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return str(json.loads(path.read_text(encoding="utf-8"))["app_secret"])
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"app_secret": value}, out)
    return value


class _CompactHMAC(HMACAlgorithm):
    """HMAC-SHA256 cut to its first 12 bytes (16 base64 characters, 96 bits).

    Only for Telegram's callback_data, which holds at most 64 bytes: the full SHA-256
    signature (43 characters) or itsdangerous's default SHA-1 one (27) leaves too little
    room for ``action|job|stage`` (29 bytes for review_script), measured in the tests. A
    button is checked online, one press at a time, so 96 bits is ample."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha256)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return super().get_signature(key, value)[:12]


def signer(settings: Settings, purpose: str, *, sep: str = ".",
           compact: bool = False) -> Signer:
    """An itsdangerous signer (HMAC-SHA256 with a key derived per ``purpose``) for values a
    client sends back: button ids and payloads. ``compact``: a 96-bit signature, for
    payloads with a hard size limit."""
    return Signer(app_secret(settings), salt=purpose, sep=sep, digest_method=hashlib.sha256,
                  algorithm=_CompactHMAC() if compact else None)


def timed_signer(settings: Settings, purpose: str) -> TimestampSigner:
    """A signer whose values carry the time they were signed (``unsign(max_age=...)``)."""
    return TimestampSigner(app_secret(settings), salt=purpose, digest_method=hashlib.sha256)


__all__ = ["BadSignature", "SignatureExpired", "app_secret", "signer", "timed_signer"]
