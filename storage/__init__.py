"""Persistence for the assistant: database, migrations, artifact files, job records.

``storage`` never imports ``assistant``. Typical use::

    db = Database(settings.resolved_database_url)
    db.migrate()
    jobs = JobRepository(db)
    objects = ObjectStore(settings.artifacts_dir, db)
"""

from storage.db import Database, safe_url
from storage.errors import (
    ConflictError,
    DatabaseUnavailable,
    DiskFullError,
    InvalidNameError,
    NotFoundError,
    StorageError,
)
from storage.jobs import JobRepository
from storage.objects import ObjectStore
from storage.records import ApprovalRecord, ArtifactRecord, JobRecord, PublicationRecord, StepRecord

__all__ = [
    "ApprovalRecord",
    "ArtifactRecord",
    "ConflictError",
    "Database",
    "DatabaseUnavailable",
    "DiskFullError",
    "InvalidNameError",
    "JobRecord",
    "JobRepository",
    "NotFoundError",
    "ObjectStore",
    "PublicationRecord",
    "StepRecord",
    "StorageError",
    "safe_url",
]
