"""Where to reach each Telegram identity: the chat id learned from its last update.

In a private chat the chat id is the user id, so an identity the bot has never seen is still
reachable there; a user who talks to the bot in a group is answered in that group. The map
is kept in the database (table ``telegram_chats``, see :class:`storage.channels.ChannelStore`)
so a restarted bot reaches the same chats; chats this process learned or read are remembered.

A job's events go to the chat where the job was asked (kept in the job's ``meta`` as
``telegram_chat``), and to everyone else watching it in their private chat: never to the
group its owner last wrote in, which may hold people the job was never meant for.

Older versions kept ``<data_dir>/telegram_chats.json``; it is imported once at start and
renamed ``telegram_chats.json.imported``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from assistant.app.events import ChannelUser
from storage.channels import ChannelStore, import_json_once
from storage.db import Database
from storage.jobs import JobRepository

log = logging.getLogger(__name__)
CHANNEL = "telegram"


class ChatDirectory:
    def __init__(self, db: Database, legacy: Path | None = None) -> None:
        self._store = ChannelStore(db)
        self._lock = threading.Lock()
        self._chats: dict[int, int] = {}
        self._jobs = JobRepository(db)
        self._asked: dict[str, tuple[int, int]] = {}  # job id -> (asker's user id, chat id)
        if legacy is not None:
            self._import(legacy)

    def learn(self, user_id: int, chat_id: int) -> None:
        """Remember the chat a user last wrote from (saved only when it changes)."""
        with self._lock:
            if self._chats.get(user_id) == chat_id:
                return
            self._store.set_telegram_chat(user_id, chat_id)
            self._chats[user_id] = chat_id

    def chat_for(self, user: ChannelUser) -> int | None:
        """The chat to send ``user``'s events to; None for an identity of another channel."""
        if user.channel != CHANNEL:
            return None
        try:
            user_id = int(user.external_id)
        except ValueError:
            return None
        with self._lock:
            known = self._chats.get(user_id)
        if known is None:
            known = self._store.telegram_chat(user_id)
            if known is not None:
                with self._lock:
                    self._chats.setdefault(user_id, known)
        return user_id if known is None else known  # a private chat's id is the user's id

    def asked(self, job_id: str, user_id: int, chat_id: int) -> None:
        """``user_id`` asked for the job in ``chat_id``: its events go there."""
        with self._lock:
            self._asked[job_id] = (user_id, chat_id)
        self._jobs.update_job(job_id, meta={"telegram_chat": [user_id, chat_id]})

    def chat_for_job(self, user: ChannelUser, job_id: str | None) -> int | None:
        """Where ``user``'s copy of a job's event goes: the chat the job was asked in when
        ``user`` asked it there, else ``user``'s private chat (its id is the user's id)."""
        if user.channel != CHANNEL or not user.external_id.isdigit():
            return None
        user_id = int(user.external_id)
        if job_id is None:
            return user_id
        with self._lock:
            asked = self._asked.get(job_id)
        if asked is None:
            job = self._jobs.get_job(job_id)
            pair = (job.meta or {}).get("telegram_chat") if job is not None else None
            if isinstance(pair, list) and len(pair) == 2:
                asked = (int(pair[0]), int(pair[1]))
                with self._lock:
                    self._asked.setdefault(job_id, asked)
        return asked[1] if asked is not None and asked[0] == user_id else user_id

    def _import(self, path: Path) -> None:
        """The old JSON file's chats into the database, once; then the file is renamed
        (a damaged file imports nothing: private chats still work)."""
        import_json_once(path, parse_legacy_chats, self._store.import_telegram_chats,
                         "telegram chats")


def parse_legacy_chats(raw: Any) -> dict[int, int]:
    """The chats in an old ``telegram_chats.json``: user id -> chat id."""
    return {int(k): int(v) for k, v in dict(raw).items()}
