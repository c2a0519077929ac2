"""The things pipeline steps need, built once from Settings and handed to every node.

Heavy parts (the knowledge base, the embedder, the chat model) are created on
first use, so a command that needs none of them stays fast. Creation is serialised by a
lock, so threads (a chat server's jobs) that ask at once share one instance.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from storage.db import Database
from storage.jobs import JobRepository
from storage.objects import ObjectStore

if TYPE_CHECKING:
    from assistant.llm import ChatModel
    from assistant.tools.knowledge import KnowledgeBase
    from assistant.tools.knowledge.embeddings import Embedder

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    repo: JobRepository
    objects: ObjectStore
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def create(cls, settings: Settings) -> Services:
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, pool_size=settings.db_pool_size,
                      max_overflow=settings.db_max_overflow)
        db.migrate()
        return cls(settings, db, JobRepository(db), ObjectStore(settings.artifacts_dir, db))

    def embedder(self) -> Embedder:
        with self._lock:
            if "embedder" not in self._lazy:
                from assistant.tools.knowledge.embeddings import get_embedder

                self._lazy["embedder"] = get_embedder()
        return self._lazy["embedder"]

    def kb(self) -> KnowledgeBase:
        with self._lock:
            if "kb" not in self._lazy:
                from assistant.tools.knowledge import KnowledgeBase

                self._lazy["kb"] = KnowledgeBase(self.settings, self.embedder())
        return self._lazy["kb"]

    def chat(self) -> ChatModel:
        with self._lock:
            if "chat" not in self._lazy:
                from assistant.llm import get_chat_model

                self._lazy["chat"] = get_chat_model(self.settings)
        return self._lazy["chat"]

    def set_chat(self, chat: ChatModel) -> None:
        """Use a given chat model (tests, or a caller that built its own)."""
        self._lazy["chat"] = chat

    def close(self) -> None:
        kb = self._lazy.pop("kb", None)
        if kb is not None:
            kb.close()
        self.db.dispose()
