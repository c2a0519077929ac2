"""The knowledge base's manifest (``<kb_dir>/sources.json``): what it holds, written
atomically; and the file helpers the store shares with it."""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from assistant.errors import ConfigError, StorageFullError


def uri_path(uri: str) -> Path | None:
    """The local path of a file:// URI (or of a plain absolute path)."""
    if uri.startswith("file:"):
        return Path(url2pathname(urlparse(uri).path))
    return Path(uri) if os.path.isabs(uri) else None


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise StorageFullError(
                f"the disk is full while writing {path.name}: free some space and try again"
            ) from exc
        raise


def entry_size(entry: dict[str, Any]) -> int:
    """A source's size in bytes: recorded since scopes came, else its stored copy's."""
    size = entry.get("size")
    if isinstance(size, int):
        return size
    stored = uri_path(str(entry.get("uri", "")))
    try:
        return stored.stat().st_size if stored is not None else 0
    except OSError:
        return 0


class Manifest:
    """The list of sources, one JSON file; the caller serialises writers (the store lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return list(data["sources"])
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"the knowledge base list {self.path} is damaged: move it away and "
                "add the files again",
                detail=repr(exc),
            ) from exc

    def write(self, entries: list[dict[str, Any]]) -> None:
        body = json.dumps({"version": 1, "sources": entries}, indent=2, ensure_ascii=False)
        atomic_write(self.path, body.encode("utf-8"))
