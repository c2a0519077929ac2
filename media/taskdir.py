"""The on-disk protocol that makes a media task idempotent, observable and safe to redo.

A task's outputs live in a directory keyed by (job, step, task, input hash), beside the
files that tell the dispatching side how the task is doing:

    <root>/<job>/<step>/<task>-<key>/            the finished outputs + result.json
    <root>/<job>/<step>/<task>-<key>.lock        flock()ed by the attempt that runs now
    <root>/<job>/<step>/<task>-<key>.state.json  the latest attempt: heartbeat, progress, failure
    <root>/<job>/<step>/<task>-<key>.runs        one JSON line per attempt event (an audit trail)
    <root>/<job>/<step>/<task>-<key>.tmp-<id>/   an attempt's outputs while it runs

An attempt writes into its own ``.tmp-<id>`` folder and renames it to the final name when it
is done, so the final folder appears whole or not at all. A redelivered or re-sent task finds
the final folder and returns it without redoing anything; two attempts at once are kept apart
by the lock (the kernel drops it when a worker dies, even by SIGKILL), and the second one
returns at once instead of doing the work twice. The dispatcher needs no result backend: it
reads ``result.json`` and ``state.json``, which survive a broker or Redis restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEARTBEAT_S = 1.0
# A running attempt whose heartbeat is older than this is taken to be dead.
LOST_AFTER_S = 6.0
PROGRESS_EVERY_S = 0.25  # at most this often, progress is written at once
KEY_LEN = 20
_LOCK_WAIT_S = 1.0
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _component(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SAFE.fullmatch(value) or ".." in value:
        raise ValueError(f"invalid task {what} {value!r}")
    return value


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes; "missing" when it cannot be read (the task will say why)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


def task_key(task: str, args: dict[str, Any], input_files: Sequence[str | Path] = ()) -> str:
    """The input hash: the task, its JSON arguments and the bytes of its input files."""
    payload = {
        "task": task,
        "args": args,
        "inputs": {str(p): file_digest(p) for p in input_files},
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LEN]


def _write_json(path: Path, data: dict[str, Any], *, sync: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, default=str)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_alive(state: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether the attempt ``state`` describes is running (or waiting to retry) right now."""
    if not state:
        return False
    now = time.time() if now is None else now
    if state.get("status") == "running":
        return now - float(state.get("updated", 0)) < LOST_AFTER_S
    if state.get("status") == "retrying":
        return now < float(state.get("retry_at", 0)) + LOST_AFTER_S
    return False


@dataclass(frozen=True)
class TaskDir:
    root: Path
    job: str
    step: str
    task: str
    key: str

    @classmethod
    def of(cls, root: str | Path, job: str, step: str, task: str, key: str) -> TaskDir:
        for value, what in ((job, "job"), (step, "step"), (task, "name"), (key, "key")):
            _component(value, what)
        return cls(Path(root), job, step, task, key)

    @property
    def folder(self) -> Path:
        return self.root / self.job / self.step

    @property
    def path(self) -> Path:
        return self.folder / f"{self.task}-{self.key}"

    def _beside(self, suffix: str) -> Path:
        return self.folder / f"{self.task}-{self.key}{suffix}"

    @property
    def state_path(self) -> Path:
        return self._beside(".state.json")

    @property
    def runs_path(self) -> Path:
        return self._beside(".runs")

    # --- reading (the dispatching side) ------------------------------------------------------
    def result(self) -> dict[str, Any] | None:
        """The finished task's result, with ``dir`` set to its folder; None if not finished."""
        data = _read_json(self.path / "result.json")
        if data is None:
            return None
        return {**data, "dir": str(self.path)}

    def state(self) -> dict[str, Any] | None:
        return _read_json(self.state_path)

    def runs(self) -> list[dict[str, Any]]:
        try:
            lines = self.runs_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    # --- writing (the worker side) -------------------------------------------------------------
    def write_state(self, **fields: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_json(self.state_path, {**fields, "updated": time.time()})

    def log_run(self, event: str, **fields: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"event": event, "at": time.time(), **fields}, default=str) + "\n"
        fd = os.open(self.runs_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def attempt(self, info: dict[str, Any]) -> Iterator[Attempt | None]:
        """Run one attempt under the lock; yields None when another attempt holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._beside(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock(fd):
                yield None
                return
            attempt = Attempt(self, info)
            try:
                yield attempt
            finally:
                attempt.close()
        finally:
            os.close(fd)  # releases the lock


def _lock(fd: int) -> bool:
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


class Attempt:
    """One run of a task: a scratch folder, a heartbeat, progress, and the final rename."""

    def __init__(self, tdir: TaskDir, info: dict[str, Any]) -> None:
        self.tdir = tdir
        self.info = {**info, "pid": os.getpid(), "host": socket.gethostname()}
        self._remove_leftovers()
        self.work = tdir.folder / f"{tdir.task}-{tdir.key}.tmp-{uuid.uuid4().hex[:12]}"
        self.work.mkdir(parents=True)
        self.started = time.time()
        self._progress: dict[str, Any] = {"fraction": 0.0, "message": "started"}
        self._lock = threading.Lock()
        self._last_beat = 0.0
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._heartbeat, daemon=True,
                                        name=f"heartbeat-{tdir.task}")
        self._thread.start()

    def _remove_leftovers(self) -> None:
        """Scratch folders of attempts that died (we hold the lock: none of them is alive)."""
        for old in self.tdir.folder.glob(f"{self.tdir.task}-{self.tdir.key}.tmp-*"):
            shutil.rmtree(old, ignore_errors=True)

    def _beat(self) -> None:
        with self._lock:
            progress = dict(self._progress)
            self._last_beat = time.monotonic()
        self.tdir.write_state(status="running", started=self.started, **self.info, **progress)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                self._beat()

    def progress(self, fraction: float, message: str = "") -> None:
        with self._lock:
            self._progress = {"fraction": round(min(1.0, max(0.0, fraction)), 4),
                              "message": message or self._progress["message"]}
            due = time.monotonic() - self._last_beat >= PROGRESS_EVERY_S
        if due:  # tell the watcher now rather than at the next heartbeat
            with contextlib.suppress(OSError):
                self._beat()

    def commit(self, result: dict[str, Any]) -> dict[str, Any]:
        """Publish the scratch folder as the task's output, atomically; the stored result."""
        _write_json(self.work / "result.json", result, sync=True)
        final = self.tdir.path
        if final.exists():  # a folder without result.json cannot be whole: replace it
            shutil.rmtree(final)
        os.rename(self.work, final)
        with contextlib.suppress(OSError):
            fd = os.open(self.tdir.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self.progress(1.0, "done")
        return {**result, "dir": str(final)}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)
