"""Adding files to one scope of the knowledge base, within that scope's limits.

Every person and every workspace has their own limits (``Settings``): at most
``kb_uploads_per_hour`` files added in any hour (counted in the ``kb_uploads`` table, so
every process of a deployment shares the count; a file already held counts nothing),
``kb_workspace_max_mb`` held in all, and ``kb_file_max_mb`` per file. A file over a limit
is refused with one line saying which limit and what to do; the files before it are kept.

The shared scope (the operator's `assistant kb add`) has no limits: the operator owns the
machine's disk.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.config import Settings
from assistant.tools.knowledge.scopes import SHARED
from assistant.tools.knowledge.store import AddResult, KnowledgeBase, source_id_for
from storage.db import Database
from storage.knowledge import KbUploadLog

WINDOW = timedelta(hours=1)
_MB = 1024 * 1024
# One add at a time per process: the cap check and the add that it allows are one step
# (processes sharing a database can still overshoot by a file each, at worst).
_ADDING = threading.Lock()


def _size(size: float) -> str:
    """Bytes as a person reads them: 25 MB, 1.5 MB, 12 KB."""
    if size < _MB:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / _MB:.1f}".rstrip("0").rstrip(".") + " MB"


class ScopedUploads:
    """``add(paths, scope, owner)``: files into one scope, each checked against its limits.

    ``owner`` names the scope in messages ("your knowledge base", "workspace Acme's")."""

    def __init__(self, kb: KnowledgeBase, db: Database, settings: Settings, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        self.kb, self.settings, self.now = kb, settings, now
        self.log = KbUploadLog(db)

    def add(self, paths: Iterable[Path], scope: str, owner: str) -> list[AddResult]:
        return [self.add_file(Path(path), scope, owner) for path in paths]

    def add_file(self, path: Path, scope: str, owner: str, *,
                 name: str | None = None) -> AddResult:  # fmt: skip
        """One file; ``name`` is what the person calls it (an upload kept under a temporary
        name: the REST API's, a chat bot's)."""
        with _ADDING:
            return self._add_one(Path(path), scope, owner, name or Path(path).name)

    def refusal(self, path: Path, scope: str, owner: str, name: str | None = None) -> str | None:
        """Why ``path`` may not go into ``scope`` now; None when it may."""
        refused = self.check(path, scope, owner, name)
        return None if refused is None else refused[1]

    def check(self, path: Path, scope: str, owner: str,
              name: str | None = None) -> tuple[str, str] | None:
        """``(limit, why)`` when ``path`` may not go into ``scope`` now — limit is "file_size",
        "scope_size" or "uploads_per_hour" — else None."""
        name = name or path.name
        if scope == SHARED:
            return None
        try:
            size = path.stat().st_size
        except OSError:
            return None  # the add itself says why it cannot be read
        s = self.settings
        if size > s.kb_file_max_mb * _MB:
            return ("file_size", f"{name} is {_size(size)}; a knowledge-base file may be at "
                    f"most {_size(s.kb_file_max_mb * _MB)}: split it or send a shorter one")
        if self._held(path, scope):
            return None  # adding it again changes nothing: no limit to check
        held = self.kb.held_bytes(scope)
        if held + size > s.kb_workspace_max_mb * _MB:
            return ("scope_size", f"{owner} holds {_size(held)} of its "
                    f"{_size(s.kb_workspace_max_mb * _MB)}: {name} ({_size(size)}) does not "
                    "fit, remove sources first")
        now = self.now()
        if self.log.count_since(scope, now - WINDOW) >= s.kb_uploads_per_hour:
            oldest = self.log.oldest_since(scope, now - WINDOW) or now
            wait_min = max(1, math.ceil((oldest + WINDOW - now).total_seconds() / 60))
            return ("uploads_per_hour", f"{owner} has added {s.kb_uploads_per_hour} files in "
                    f"the last hour, the limit: {name} was not added, send it again in "
                    f"{wait_min} min")
        return None

    def _held(self, path: Path, scope: str) -> bool:
        try:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return False
        return self.kb.entry(source_id_for(sha, scope)) is not None

    def _add_one(self, path: Path, scope: str, owner: str, name: str) -> AddResult:
        refused = self.refusal(path, scope, owner, name)
        if refused is not None:
            return AddResult(path, status="error", message=refused)
        result = self.kb.add_file(path, name=name, scope=scope)
        if scope != SHARED and result.status in ("added", "updated"):
            held = self.kb.entry(result.source_id) or {}
            self.log.record(scope, result.source_id, int(held.get("size") or 0), self.now())
        return result
