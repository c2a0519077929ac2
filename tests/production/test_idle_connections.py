"""Pooled PostgreSQL connections that died while idle (a server restart, an idle timeout)
are replaced before use, in the storage pool and in the checkpoint pool; busy ones skip the
check. Real server: the connections are killed with pg_terminate_backend."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from assistant.config import Settings
from assistant.graph import checkpoint
from assistant.graph.checkpoint import close_checkpointer, make_checkpointer
from storage import db as storage_db
from storage.db import Database
from tests.storage.conftest import _admin_connect

IDLE_S = 0.2  # the tests' idle threshold, instead of the real IDLE_PING_S


def kill_connections(database_url: str) -> int:
    """Terminate every other server connection to the test database; how many."""
    url = make_url(database_url)
    with _admin_connect(url.set(database="postgres")) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (url.database,)).fetchall()
    return len(rows)


@pytest.fixture
def short_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_db, "IDLE_PING_S", IDLE_S)
    monkeypatch.setattr(checkpoint, "IDLE_PING_S", IDLE_S)


def test_storage_pool_replaces_a_connection_that_died_idle(
        postgres_database_url: str, short_idle: None) -> None:
    database = Database(postgres_database_url, pool_size=2)
    try:
        with database.engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        time.sleep(IDLE_S * 2)
        assert kill_connections(postgres_database_url) >= 1
        with database.engine.connect() as conn:  # pinged, found dead, replaced
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert second != first
    finally:
        database.engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(
        postgres_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trade-off, shown: within IDLE_PING_S of its last use a connection goes out
    unchecked, so one killed in that window fails one statement; SQLAlchemy then drops the
    pool and the next statement works."""
    monkeypatch.setattr(storage_db, "IDLE_PING_S", 60.0)
    database = Database(postgres_database_url, pool_size=1)
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert kill_connections(postgres_database_url) >= 1
        with pytest.raises(DBAPIError), database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT 2")).scalar() == 2
    finally:
        database.engine.dispose()


def test_checkpoint_pool_replaces_a_connection_that_died_idle(
        postgres_database_url: str, short_idle: None, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=postgres_database_url)
    saver = make_checkpointer(settings)
    try:
        config: Any = {"configurable": {"thread_id": "idle-test", "checkpoint_ns": ""}}
        assert saver.get_tuple(config) is None
        time.sleep(IDLE_S * 2)
        assert kill_connections(postgres_database_url) >= 1
        assert saver.get_tuple(config) is None  # a dead connection would raise here
    finally:
        close_checkpointer(saver)
