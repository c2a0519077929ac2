"""ObjectStore on both databases: versions, idempotency, atomic writes, full disks, names.

A full disk is simulated by monkeypatching what ``storage.objects`` calls: ``os.write`` (writes
part of a chunk, then fails with ENOSPC on the next call, like a real short write on a filling
disk), ``os.fsync`` (EDQUOT, as NFS reports quota at flush time) and ``os.replace`` (ENOSPC).
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage import (
    Database,
    DiskFullError,
    InvalidNameError,
    JobRepository,
    NotFoundError,
    ObjectStore,
)
from storage import objects as objects_module
from storage.models import ContentArtifact
from storage.objects import guess_mime

JOB = "job-3f9a1c2b"


@pytest.fixture
def store(database: Database, tmp_path: Path) -> ObjectStore:
    JobRepository(database).create_job(JOB, title="Sky", content_type="short")
    return ObjectStore(tmp_path / "artifacts", database)


def _rows(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ContentArtifact)) or 0)


def _leftovers(store: ObjectStore) -> list[str]:
    folder = store.root / JOB
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_put_records_and_writes(store: ObjectStore) -> None:
    record = store.put(JOB, "script.md", "# Sky\n", step="write", type="script")
    assert record.path == store.root / JOB / "script.md"
    assert record.path.read_text() == "# Sky\n"
    assert record.sha256 == hashlib.sha256(b"# Sky\n").hexdigest()
    assert (record.size, record.mime, record.version) == (6, "text/markdown", 1)
    assert (record.step, record.type, record.job_id, record.name) == (
        "write",
        "script",
        JOB,
        "script.md",
    )
    assert store.get(JOB, "script.md") == record
    assert store.read(JOB, "script.md") == b"# Sky\n"


def test_same_bytes_again_is_the_same_version(store: ObjectStore, database: Database) -> None:
    first = store.put(JOB, "script.json", b'{"a": 1}', step="write", type="script")
    mtime = first.path.stat().st_mtime_ns
    again = store.put(JOB, "script.json", b'{"a": 1}', step="write", type="script")
    assert again == first
    assert first.path.stat().st_mtime_ns == mtime  # not even rewritten
    assert _rows(database) == 1


def test_new_bytes_make_a_new_version(store: ObjectStore, database: Database) -> None:
    v1 = store.put(JOB, "video.mp4", b"one", step="assemble", type="video")
    v2 = store.put(JOB, "video.mp4", b"two", step="assemble", type="video")
    assert v2.version == 2
    assert v2.path == store.root / JOB / "video.v2.mp4"
    assert v1.path.read_bytes() == b"one" and v2.path.read_bytes() == b"two"
    assert store.put(JOB, "video.mp4", b"two", step="assemble", type="video") == v2
    v3 = store.put(JOB, "video.mp4", b"one", step="assemble", type="video")
    assert v3.version == 3  # only the latest version counts as "the same"
    assert store.get(JOB, "video.mp4") == v3
    assert store.get(JOB, "video.mp4", 1) == v1
    assert store.get(JOB, "video.mp4", 9) is None
    assert store.path_for(JOB, "video.mp4", 3) == v3.path
    assert _rows(database) == 3


def test_explicit_version_is_an_upsert(store: ObjectStore, database: Database) -> None:
    store.put(JOB, "qa.json", b"{}", step="qa", type="qa")
    first = store.put(JOB, "qa.json", b'{"ok": false}', step="qa", type="qa", version=2)
    second = store.put(
        JOB, "qa.json", b'{"ok": true}', step="qa", type="qa", version=2, is_final=True
    )
    assert second.id == first.id and second.version == 2
    assert second.path.read_bytes() == b'{"ok": true}'
    assert second.sha256 == hashlib.sha256(b'{"ok": true}').hexdigest() and second.is_final
    assert store.get(JOB, "qa.json", 2) == second
    assert store.put(JOB, "qa.json", b"x", step="qa", type="qa", version=5).version == 5
    assert _rows(database) == 3


def test_a_missing_file_is_written_again(store: ObjectStore, database: Database) -> None:
    record = store.put(
        JOB, "captions.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n", step="voice", type="captions"
    )
    record.path.unlink()
    again = store.put(
        JOB, "captions.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n", step="voice", type="captions"
    )
    assert again.version == 1 and again.id == record.id
    assert again.path.read_text().endswith("Hi\n")
    assert _rows(database) == 1


def test_put_from_a_file_and_mime(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "render.bin"
    payload = os.urandom(3 * objects_module.CHUNK + 17)  # several chunks
    source.write_bytes(payload)
    record = store.put(JOB, "voiceover.wav", source, step="voice", type="audio")
    assert record.path.read_bytes() == payload
    assert (record.size, record.mime) == (len(payload), "audio/wav")
    assert record.sha256 == hashlib.sha256(payload).hexdigest()
    custom = store.put(
        JOB, "thumb.bin", b"\x89PNG", step="visuals", type="image", mime="image/png", meta={"w": 64}
    )
    assert (custom.mime, custom.meta) == ("image/png", {"w": 64})
    assert guess_mime("a.png") == "image/png"
    assert guess_mime("a.srt") == "application/x-subrip"
    assert guess_mime("a.unknownext") == "application/octet-stream"
    with pytest.raises(TypeError):
        store.put(JOB, "x.txt", 42, step="s", type="t")  # type: ignore[arg-type]


def test_list(store: ObjectStore) -> None:
    store.put(JOB, "script.md", "a", step="write", type="script")
    store.put(JOB, "script.md", "b", step="write", type="script")
    store.put(JOB, "brief.json", "{}", step="brief", type="brief")
    assert [(r.name, r.version) for r in store.list(JOB)] == [
        ("brief.json", 1),
        ("script.md", 1),
        ("script.md", 2),
    ]
    assert [(r.name, r.version) for r in store.list(JOB, latest_only=True)] == [
        ("brief.json", 1),
        ("script.md", 2),
    ]
    assert store.list("job-empty") == []


def test_writes_leave_no_temporary_files(store: ObjectStore) -> None:
    for i in range(3):
        store.put(JOB, "script.md", f"draft {i}", step="write", type="script")
    store.put(JOB, "script.md", "final", step="write", type="script", version=1)
    assert _leftovers(store) == ["script.md", "script.v2.md", "script.v3.md"]
    assert (store.root / JOB / "script.md").read_text() == "final"


def test_a_failed_overwrite_keeps_the_old_file(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(JOB, "script.md", "good", step="write", type="script")

    def crash(fd: int, data: Any) -> None:
        os.write(fd, b"half")
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(objects_module, "_write_all", crash)
    with pytest.raises(RuntimeError):
        store.put(
            JOB, "script.md", "better but never finished", step="write", type="script", version=1
        )
    assert (store.root / JOB / "script.md").read_text() == "good"
    assert _leftovers(store) == ["script.md"]


def _short_write_then_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = {"n": 0}

    def write(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: max(1, len(data) // 2)]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(objects_module.os, "write", write)


def _fsync_edquot(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(objects_module.os, "fsync", fsync)


def _replace_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(objects_module.os, "replace", replace)


@pytest.mark.parametrize(
    "fill_disk",
    [_short_write_then_enospc, _fsync_edquot, _replace_enospc],
    ids=["write-ENOSPC", "fsync-EDQUOT", "replace-ENOSPC"],
)
@pytest.mark.parametrize("version", [None, 1], ids=["new", "overwrite"])
def test_a_full_disk_is_disk_full_error(
    store: ObjectStore,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    fill_disk: Any,
    version: int | None,
) -> None:
    store.put(JOB, "video.mp4", b"old video", step="assemble", type="video")
    fill_disk(monkeypatch)
    with pytest.raises(DiskFullError) as info:
        store.put(
            JOB, "video.mp4", b"new video" * 1000, step="assemble", type="video", version=version
        )
    monkeypatch.undo()
    message = str(info.value)
    assert str(store.root / JOB) in message and "free" in message.lower()
    assert isinstance(info.value.__cause__, OSError)
    assert _leftovers(store) == ["video.mp4"]  # no partial file, no temp file
    assert (store.root / JOB / "video.mp4").read_bytes() == b"old video"
    assert _rows(database) == 1
    record = store.get(JOB, "video.mp4")
    assert record is not None and record.sha256 == hashlib.sha256(b"old video").hexdigest()


@pytest.mark.parametrize(
    "bad", ["../etc", "..", "a/b", "/abs", "", ".hidden", "a\\b", "a b", "x" * 65, "a..b"]
)
def test_unsafe_job_ids_are_rejected(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidNameError):
        store.put(bad, "script.md", "x", step="write", type="script")
    with pytest.raises(InvalidNameError):
        store.get(bad, "script.md")
    with pytest.raises(InvalidNameError):
        store.path_for(bad, "script.md")
    with pytest.raises(InvalidNameError):
        store.list(bad)


@pytest.mark.parametrize("bad", ["../script.md", "sub/script.md", "..", ".script.md", ""])
def test_unsafe_names_are_rejected(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidNameError):
        store.put(JOB, bad, "x", step="write", type="script")
    assert not (store.root.parent / "script.md").exists()


def test_put_needs_an_existing_job(store: ObjectStore) -> None:
    with pytest.raises(NotFoundError, match="job-unknown"):
        store.put("job-unknown", "script.md", "x", step="write", type="script")


def test_concurrent_puts_get_distinct_versions(store: ObjectStore, database: Database) -> None:
    import threading

    payloads = [f"draft {i}".encode() for i in range(6)]
    barrier = threading.Barrier(len(payloads))
    errors: list[BaseException] = []

    def put(data: bytes) -> None:
        barrier.wait()
        try:
            store.put(JOB, "script.md", data, step="write", type="script")
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=put, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    records = store.list(JOB)
    assert [r.version for r in records] == list(range(1, len(payloads) + 1))
    assert sorted(r.path.read_bytes() for r in records) == sorted(payloads)
    for r in records:
        assert hashlib.sha256(r.path.read_bytes()).hexdigest() == r.sha256
    assert len(_leftovers(store)) == len(payloads)


def test_research_documents_live_in_their_own_folder(store: ObjectStore) -> None:
    first = store.put(JOB, "research/01-octopus.txt", "v1", step="research", type="page")
    assert first.path == store.root / JOB / "research" / "01-octopus.txt"
    second = store.put(JOB, "research/01-octopus.txt", "v2", step="research", type="page")
    assert second.path == store.root / JOB / "research" / "01-octopus.v2.txt"
    assert [r.name for r in store.list(JOB, latest_only=True)] == ["research/01-octopus.txt"]
    for bad in ("other/x.txt", "research/../x.txt", "research/", "research/a/b.txt"):
        with pytest.raises(InvalidNameError):
            store.put(JOB, bad, "x", step="research", type="page")
