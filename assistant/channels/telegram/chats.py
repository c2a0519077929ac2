"""Where to reach each Telegram identity: the chat id learned from its last update.

In a private chat the chat id is the user id, so an identity the bot has never seen is still
reachable there; a user who talks to the bot in a group is answered in that group. The map
is kept in ``<data_dir>/telegram_chats.json`` so a restarted bot reaches the same chats.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from assistant.app.events import ChannelUser

log = logging.getLogger(__name__)
CHANNEL = "telegram"


class ChatDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._chats: dict[str, int] = self._load()

    def _load(self) -> dict[str, int]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(k): int(v) for k, v in dict(raw).items()}
        except FileNotFoundError:
            return {}
        except (ValueError, TypeError) as exc:  # a damaged file: start over, private chats work
            log.warning("ignoring damaged %s: %s", self.path, exc)
            return {}

    def learn(self, user_id: int, chat_id: int) -> None:
        """Remember the chat a user last wrote from (saved only when it changes)."""
        key = str(user_id)
        with self._lock:
            if self._chats.get(key) == chat_id:
                return
            self._chats[key] = chat_id
            self._save()

    def chat_for(self, user: ChannelUser) -> int | None:
        """The chat to send ``user``'s events to; None for an identity of another channel."""
        if user.channel != CHANNEL:
            return None
        with self._lock:
            known = self._chats.get(user.external_id)
        if known is not None:
            return known
        try:
            return int(user.external_id)  # a private chat's id is the user's id
        except ValueError:
            return None

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._chats, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
