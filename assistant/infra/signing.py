"""The app's own secret: signs web sessions and bot button payloads.

Taken from ``ASSISTANT_CHAT_SECRET`` when set (every process of a team deployment must
share it); otherwise made once and kept in ``<data_dir>/secrets.json`` (mode 0600), so a
single-machine install keeps its sessions and buttons valid across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

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


def sign(settings: Settings, message: str, length: int = 16) -> str:
    """A short HMAC-SHA256 tag (hex) of ``message``: for payloads a client sends back."""
    key = app_secret(settings).encode("utf-8")
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def verify(settings: Settings, message: str, tag: str) -> bool:
    # a truncated tag shorter than 12 hex digits would be guessable
    return len(tag) >= 12 and hmac.compare_digest(sign(settings, message, len(tag)), tag)
