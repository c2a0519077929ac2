"""A channel's subscriber for tests: what the conversation sent, and to whom."""

from __future__ import annotations

import threading

from assistant.app.events import ChannelUser, OutEvent


class Inbox:
    def __init__(self) -> None:
        self.got: list[tuple[ChannelUser, OutEvent]] = []
        self.lock = threading.Lock()

    def __call__(self, user: ChannelUser, event: OutEvent) -> None:
        with self.lock:
            self.got.append((user, event))

    def of(self, job_id: str) -> list[OutEvent]:
        with self.lock:
            return [e for _, e in self.got if e.job_id == job_id]

    def kinds(self, job_id: str) -> list[str]:
        return [e.kind for e in self.of(job_id)]
