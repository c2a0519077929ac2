"""Publishing: the protocol (base.py), one module per platform, and the factory from
settings."""

from __future__ import annotations

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.publishing.base import Publisher
from assistant.tools.publishing.outbox import LocalOutbox
from storage.jobs import JobRepository

__all__ = ["LocalOutbox", "Publisher", "get_publisher"]


def get_publisher(settings: Settings, repo: JobRepository) -> Publisher:
    if settings.publisher == "outbox":
        return LocalOutbox(settings.outbox_dir, repo)
    raise ConfigError(f"unknown ASSISTANT_PUBLISHER {settings.publisher!r}; available: outbox")
