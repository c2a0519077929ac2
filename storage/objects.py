"""Artifact files on local disk, each one recorded as a row of ``content_artifacts``.

Layout: ``<root>/<job_id>/<name>`` for version 1 and ``<root>/<job_id>/<stem>.v<N><suffix>``
for version N > 1. A name is one safe component, or ``<folder>/<component>`` for the folders
in ``ARTIFACT_FOLDERS`` (``research/``: the pages research read).

``put`` is idempotent, because a pipeline step may run again after a crash:

- ``version=None``: the same bytes as the latest version give that version back untouched
  (its file is rewritten if it went missing); other bytes become version latest + 1;
- ``version=N``: (job, name, N) is created or overwritten in place, never duplicated.

Files are written to a temporary file in the same folder, fsynced, then renamed over the
target, so a reader sees the old file or the new one, never half of one. A full disk
(ENOSPC / EDQUOT) raises :class:`~storage.errors.DiskFullError` and leaves no partial file.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import mimetypes
import os
import random
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from storage._base import as_uuid
from storage.db import Database
from storage.errors import DiskFullError, InvalidNameError, NotFoundError, StorageError
from storage.models import ContentArtifact, Job
from storage.records import ArtifactRecord

__all__ = ["ArtifactRecord", "ObjectStore", "check_component", "guess_mime"]

CHUNK = 1 << 20
_PUT_ATTEMPTS = 30  # each lost race means another writer got its version
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ARTIFACT_FOLDERS = frozenset({"research"})
_DISK_FULL = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())

# fixed answers for what the pipeline writes; the platform's tables differ between machines
_MIME = {
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".json": "application/json",
    ".srt": "application/x-subrip",
    ".ass": "text/x-ssa",
    ".vtt": "text/vtt",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".html": "text/html",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
}


def guess_mime(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return _MIME.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def check_component(value: str, what: str, max_len: int = 200) -> str:
    """``value`` if it is a safe single path component, else InvalidNameError."""
    if (
        not isinstance(value, str)
        or not _SAFE.fullmatch(value)
        or ".." in value
        or len(value) > max_len
    ):
        raise InvalidNameError(
            f"invalid {what} {value!r}: use 1-{max_len} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, without '..' or '/'"
        )
    return value


def check_artifact_name(name: str) -> str:
    """``name`` if it is a safe artifact name (one component, or one of ARTIFACT_FOLDERS
    and a component), else InvalidNameError."""
    folder, _, rest = name.partition("/") if isinstance(name, str) else ("", "", "")
    if rest and folder in ARTIFACT_FOLDERS:
        check_component(rest, "artifact name")
        return name
    return check_component(name, "artifact name")


def _disk_full(err: BaseException, path: Path) -> BaseException:
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return DiskFullError(path, os.strerror(err.errno or errno.ENOSPC).lower())
    return err


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until every byte is out (os.write may write fewer than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Source:
    """The bytes to store: in memory, or a file read in chunks."""

    def __init__(self, data: bytes | bytearray | memoryview | str | Path) -> None:
        self.path: Path | None = None
        self.data: bytes = b""
        if isinstance(data, Path):
            self.path = data
        elif isinstance(data, str):
            self.data = data.encode("utf-8")
        elif isinstance(data, bytes | bytearray | memoryview):
            self.data = bytes(data)
        else:
            raise TypeError(f"cannot store {type(data).__name__}: give bytes, str or a Path")

    def chunks(self) -> Iterator[bytes]:
        if self.path is None:
            yield self.data
            return
        with self.path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def digest(self) -> tuple[str, int]:
        h, size = hashlib.sha256(), 0
        for chunk in self.chunks():
            h.update(chunk)
            size += len(chunk)
        return h.hexdigest(), size


class ObjectStore:
    """Local-directory object store; every file is also a ``content_artifacts`` row."""

    def __init__(self, root: Path, db: Database) -> None:
        self.root = Path(root).expanduser().resolve()
        self._db = db

    # --- paths -------------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return self.root / check_component(job_id, "job id", 64)

    def path_for(self, job_id: str, name: str, version: int = 1) -> Path:
        """Where (job, name, version) lives, whether or not it exists."""
        check_artifact_name(name)
        if version < 1:
            raise ValueError(f"artifact versions start at 1, not {version}")
        if version == 1:
            return self.job_dir(job_id) / name
        p = Path(name)
        return self.job_dir(job_id) / p.parent / f"{p.stem}.v{version}{p.suffix}"

    # --- reads -------------------------------------------------------------------------------
    def get(self, job_id: str, name: str, version: int | None = None) -> ArtifactRecord | None:
        """The latest version (or the one asked for); None when there is none."""
        check_component(job_id, "job id", 64)
        with self._db.session() as s:
            row = self._find(s, job_id, name, version)
            return ArtifactRecord.of(row, self.root) if row else None

    def list(self, job_id: str, *, latest_only: bool = False) -> builtins.list[ArtifactRecord]:
        """Every artifact of a job by name then version (or only each name's latest)."""
        check_component(job_id, "job id", 64)
        with self._db.session() as s:
            rows = s.scalars(
                select(ContentArtifact)
                .where(ContentArtifact.job_id == job_id)
                .order_by(ContentArtifact.name, ContentArtifact.version)
            ).all()
            records = [ArtifactRecord.of(r, self.root) for r in rows]
        if latest_only:
            return builtins.list({r.name: r for r in records}.values())
        return records

    def read(self, job_id: str, name: str, version: int | None = None) -> bytes:
        record = self.get(job_id, name, version)
        if record is None:
            raise NotFoundError(f"job {job_id} has no artifact {name!r}")
        return record.path.read_bytes()

    # --- writes ------------------------------------------------------------------------------
    def put(
        self,
        job_id: str,
        name: str,
        data: bytes | str | Path,
        *,
        step: str,
        type: str,
        mime: str | None = None,
        version: int | None = None,
        is_final: bool = False,
        meta: dict[str, Any] | None = None,
        step_id: str | None = None,
    ) -> ArtifactRecord:
        """Store ``data`` as artifact ``name`` of ``job_id``; see the module doc for versions."""
        check_component(job_id, "job id", 64)
        check_artifact_name(name)
        if version is not None and version < 1:
            raise ValueError(f"artifact versions start at 1, not {version}")
        source = _Source(data)
        fields: dict[str, Any] = {
            "step": step,
            "type": type,
            "mime_type": mime or guess_mime(name),
            "is_final": is_final,
            "meta": dict(meta or {}),
            "job_step_id": as_uuid(step_id, "step") if step_id else None,
        }
        if version is None:  # the usual re-run: same bytes as last time, nothing to write
            sha, _ = source.digest()
            with self._db.session() as s:
                self._require_job(s, job_id)
                latest = self._find(s, job_id, name, None)
                if latest is not None and latest.sha256 == sha and self._intact(latest):
                    return ArtifactRecord.of(latest, self.root)

        tmp, sha, size = self._write_temp(job_id, name, source)
        try:
            for attempt in range(_PUT_ATTEMPTS):
                try:
                    return self._commit(job_id, name, version, tmp, sha, size, fields)
                except exc.IntegrityError:
                    # another writer took that version first: look again, a little later
                    time.sleep(random.uniform(0, 0.005) * (attempt + 1))
            raise StorageError(f"could not store {job_id}/{name}: too many concurrent writers")
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(
        self,
        job_id: str,
        name: str,
        version: int | None,
        tmp: Path,
        sha: str,
        size: int,
        fields: dict[str, Any],
    ) -> ArtifactRecord:
        """Claim the row (flush), move the file into place, commit."""
        with self._db.session() as s:
            self._require_job(s, job_id)
            if version is None:
                row = self._find(s, job_id, name, None)
                if row is not None and row.sha256 == sha and self._intact(row):
                    return ArtifactRecord.of(row, self.root)
                if row is None:
                    target = 1
                elif row.sha256 == sha:
                    target = row.version  # same bytes but the file went missing: repair it
                else:
                    target, row = row.version + 1, None  # new bytes: a new version
            else:
                target = version
                row = self._find(s, job_id, name, version)
            final = self.path_for(job_id, name, target)
            if row is None:
                row = ContentArtifact(job_id=job_id, name=name, version=target)
                s.add(row)
            row.file_path = final.relative_to(self.root).as_posix()
            row.file_size = size
            row.sha256 = sha
            for key, value in fields.items():
                setattr(row, key, value)
            s.flush()
            self._replace(tmp, final)
            return ArtifactRecord.of(row, self.root)

    def _write_temp(self, job_id: str, name: str, source: _Source) -> tuple[Path, str, int]:
        """Copy the source into a fsynced temp file beside the target; (path, sha256, size)."""
        folder = self.job_dir(job_id) / Path(name).parent
        h, size = hashlib.sha256(), 0
        tmp: Path | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{Path(name).name}.", suffix=".tmp",
                                            dir=folder)
            tmp = Path(tmp_name)
            try:
                os.fchmod(fd, 0o644)
                for chunk in source.chunks():
                    h.update(chunk)
                    size += len(chunk)
                    _write_all(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException as err:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            mapped = _disk_full(err, folder / Path(name).name)
            if mapped is err:
                raise
            raise mapped from err
        return tmp, h.hexdigest(), size

    def _replace(self, tmp: Path, final: Path) -> None:
        try:
            os.replace(tmp, final)
        except OSError as err:
            mapped = _disk_full(err, final)
            if mapped is err:
                raise
            raise mapped from err
        _fsync_dir(final.parent)

    # --- helpers -----------------------------------------------------------------------------
    def _intact(self, row: ContentArtifact) -> bool:
        """The row's file is there with the recorded size (hashing every time costs too much)."""
        path = self.root / row.file_path
        try:
            return path.stat().st_size == row.file_size
        except OSError:
            return False

    @staticmethod
    def _require_job(s: Session, job_id: str) -> None:
        if s.get(Job, job_id) is None:
            raise NotFoundError(f"no job {job_id!r}: create the job before storing its files")

    @staticmethod
    def _find(s: Session, job_id: str, name: str, version: int | None) -> ContentArtifact | None:
        q = select(ContentArtifact).where(
            ContentArtifact.job_id == job_id, ContentArtifact.name == name
        )
        if version is not None:
            q = q.where(ContentArtifact.version == version)
        return s.scalars(q.order_by(ContentArtifact.version.desc()).limit(1)).first()
