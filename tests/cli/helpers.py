"""Run the real `assistant` command in a subprocess against a data dir."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TIMEOUT = 600


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "COLUMNS": "120", **extra})
    return env


def assistant(data_dir: Path, *args: str, input: str | None = None,
              **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env_for(data_dir, **extra),
        input=input if input is not None else "", capture_output=True, text=True,
        timeout=TIMEOUT,
    )


def spawn(data_dir: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args], env=env_for(data_dir, **extra),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = data_dir / "assistant.db"
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []  # the schema is still being created


def wait_for(data_dir: Path, sql: str, proc: subprocess.Popen[str], timeout: float = TIMEOUT
             ) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(data_dir, sql)
        if rows:
            return rows
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the process ended before {sql!r}:\n{out}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {sql!r}")


def show(data_dir: Path, job_id: str) -> dict[str, Any]:
    result = assistant(data_dir, "show", job_id, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def artifact_files(data_dir: Path, job_id: str) -> dict[str, Path]:
    """Each artifact's latest file, found through the object store: `show --json` names
    artifacts and never prints server paths."""
    from assistant.config import Settings
    from storage import Database, ObjectStore

    settings = Settings(_env_file=None, data_dir=data_dir)
    db = Database(settings.resolved_database_url)
    try:
        store = ObjectStore(settings.artifacts_dir, db)
        return {a.name: a.path for a in store.list(job_id, latest_only=True)}
    finally:
        db.dispose()
