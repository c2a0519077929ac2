"""Persistence for the assistant: database, migrations, artifact files, job records, vectors.

``storage`` never imports ``assistant``. Typical use::

    db = Database(settings.resolved_database_url)
    db.migrate()
    jobs = JobRepository(db)
    objects = ObjectStore(settings.artifacts_dir, db)
    vectors = VectorStore("knowledge", 384, path=settings.resolved_data_dir / "qdrant")
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
from storage.vectors import (
    VectorHit,
    VectorPoint,
    VectorSizeMismatch,
    VectorStore,
    VectorStoreLocked,
    VectorStoreUnavailable,
)

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
    "VectorHit",
    "VectorPoint",
    "VectorSizeMismatch",
    "VectorStore",
    "VectorStoreLocked",
    "VectorStoreUnavailable",
    "safe_url",
]
