"""The publisher protocol: where approved content goes."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from assistant.content import Brief, Publication, Script


class Publisher(Protocol):
    name: str

    def publish(self, job_id: str, brief: Brief, script: Script, files: list[Path]) -> Publication:
        ...
