"""What the repositories share: the database, race-safe inserts, lookups."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc
from sqlalchemy.orm import Session

from storage.db import Database
from storage.errors import NotFoundError
from storage.models import Job

T = TypeVar("T")


def as_uuid(value: str | uuid.UUID, what: str) -> uuid.UUID:
    """A row id from its text; a malformed one names no row, so NotFoundError."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFoundError(f"no {what} {value!r}") from None


class RepositoryBase:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert_or_get(
        self, insert: Callable[[Session], T], get: Callable[[Session], T | None]
    ) -> T:
        """Run ``insert``; when a unique key says another writer won, return ``get``."""
        try:
            with self._db.session() as s:
                return insert(s)
        except exc.IntegrityError:
            with self._db.session() as s:
                found = get(s)
            if found is None:  # not a lost race but another constraint: report it
                raise
            return found

    @staticmethod
    def _job(s: Session, job_id: str, *, lock: bool = False) -> Job:
        job = s.get(Job, job_id, with_for_update=lock)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}")
        return job
