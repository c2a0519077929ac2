"""Database fixtures: one suite, run against SQLite and against a real PostgreSQL.

- ``database_url``: parametrised ``sqlite`` / ``postgresql``; a fresh, empty database each test
  (SQLite: a new file; PostgreSQL: a new schema inside this session's database, selected with
  ``search_path`` in the URL, dropped after the test);
- ``empty_database``: a :class:`storage.Database` on it, not migrated;
- ``database``: the same, migrated to head;
- ``postgres_database_url``: this session's database (``test_storage_<pid>_<hex>``), created
  through the ``postgres`` maintenance database and dropped at the end.

The server is ``postgresql+psycopg://postgres@127.0.0.1:5432`` unless ``TEST_POSTGRES_URL``
says otherwise. When it is unreachable the PostgreSQL cases FAIL (never skip): CI starts it.
Nothing here depends on this folder, so the fixtures can move to ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.engine import URL

from storage import Database

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
BACKENDS = ["sqlite", "postgresql"]


def _server_url() -> URL:
    return make_url(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


def _libpq(url: URL) -> str:
    """A psycopg conninfo for a SQLAlchemy URL (drops the +driver and any query)."""
    return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)


def _admin_connect(url: URL) -> psycopg.Connection:
    return psycopg.connect(_libpq(url), autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    server = _server_url()
    name = f"test_storage_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    maintenance = server.set(database="postgres")
    try:
        with _admin_connect(maintenance) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL is not reachable at {maintenance.render_as_string()}: "
            f"{str(err).strip()}\nThe storage tests run against a real PostgreSQL server: "
            "start it (CI does; locally e.g. `pg_ctlcluster 15 main start`) or set "
            "TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host:port",
            pytrace=False,
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connect(maintenance) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to a fresh, empty database of ``backend``."""
    if backend == "sqlite":
        # a folder that does not exist yet: Database must create it
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'db' / 'storage.sqlite'}"
        return
    session_url = make_url(request.getfixturevalue("postgres_database_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _admin_connect(session_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        url = session_url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with _admin_connect(session_url) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def database(empty_database: Database) -> Database:
    empty_database.migrate()
    return empty_database
