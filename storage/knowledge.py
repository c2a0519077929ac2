"""The knowledge-base upload ledger (table ``kb_uploads``): what each scope added, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.db import Database
from storage.models import KbUpload


class KbUploadLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, scope: str, source_id: str, size_bytes: int, at: datetime) -> None:
        with self._db.session() as s:
            s.add(KbUpload(scope=scope, source_id=source_id, size_bytes=size_bytes,
                           created_at=at))

    def count_since(self, scope: str, since: datetime) -> int:
        """Uploads ``scope`` made at or after ``since``."""
        with self._db.session() as s:
            found = s.scalar(select(func.count(KbUpload.id))
                             .where(KbUpload.scope == scope, KbUpload.created_at >= since))
        return int(found or 0)

    def oldest_since(self, scope: str, since: datetime) -> datetime | None:
        """The first upload in the window: the window frees a place an hour after it."""
        with self._db.session() as s:
            return s.scalar(select(func.min(KbUpload.created_at))
                            .where(KbUpload.scope == scope, KbUpload.created_at >= since))
