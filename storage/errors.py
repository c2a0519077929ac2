"""The storage error hierarchy.

Every error has a one-line message a person can act on; the low-level cause is kept as
``__cause__`` for logs. Messages never contain passwords.
"""

from __future__ import annotations

from pathlib import Path


class StorageError(Exception):
    """Base class of every error raised by :mod:`storage`."""


class DatabaseUnavailable(StorageError):
    """The configured database cannot be reached (server down, bad host, unopenable file)."""

    def __init__(self, url: str, reason: str, hint: str | None = None) -> None:
        self.url = url  # already rendered without the password
        self.reason = reason
        hint = hint or (
            "Start the database server, or point the database URL setting at a reachable one."
        )
        super().__init__(f"database unavailable at {url}: {reason}. {hint}")


class DiskFullError(StorageError):
    """A write failed because the disk (or the user's quota) is full (ENOSPC / EDQUOT)."""

    def __init__(self, path: Path | str, reason: str = "no space left on device") -> None:
        self.path = Path(path)
        super().__init__(
            f"cannot write {self.path}: {reason}. Free some disk space there and retry."
        )


class NotFoundError(StorageError, LookupError):
    """A job, step or approval the caller named does not exist."""


class ConflictError(StorageError):
    """The request contradicts what is already stored (an id reused for another job, ...)."""


class InvalidNameError(StorageError, ValueError):
    """A job id or artifact name is not a safe single path component."""
