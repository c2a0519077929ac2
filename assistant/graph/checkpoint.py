"""The LangGraph checkpointer: a SQLite file by default, PostgreSQL in production.

``make_checkpointer(settings)`` picks the implementation from configuration only:

- ``settings.checkpoint_url`` set: ``sqlite:///path`` or a PostgreSQL URL (libpq
  ``postgresql://``/``postgres://`` or SQLAlchemy ``postgresql+psycopg://``);
- unset, and ``settings.database_url`` is PostgreSQL: the same PostgreSQL database;
- otherwise: a SQLite file at ``settings.checkpoint_path`` (WAL mode).

Both serialise the state's pydantic parts with the same ``JsonPlusSerializer``, whose msgpack
allow-list is every model in :mod:`assistant.graph.state` (``state_types``).

A configured PostgreSQL server that cannot be reached raises :class:`ConfigError` within the
connect timeout, naming the URL without its password. ``close_checkpointer(saver)`` releases
the file or the connection pool; ``open_checkpointer(settings)`` does both around a block.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy import make_url
from sqlalchemy.engine import URL

from assistant import content as content_module
from assistant.config import Settings
from assistant.errors import ConfigError
from storage.db import IDLE_PING_S, SQLITE_BUSY_TIMEOUT_MS, enable_wal, retry_when_locked

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver

CONNECT_TIMEOUT_S = 5
SETUP_LOCK_TIMEOUT_S = 60
DEFAULT_POOL_SIZE = 5
POOL_TIMEOUT_S = 30.0
OVERFLOW_IDLE_S = 300.0
# serialises concurrent PostgresSaver.setup() calls on one database (any constant will do)
_PG_SETUP_LOCK = 0x4C_47_43_50
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def state_types() -> list[tuple[str, str]]:
    """Every pydantic type the state holds, allowed through the checkpoint serializer."""
    return [
        (content_module.__name__, name)
        for name, value in vars(content_module).items()
        if isinstance(value, type) and issubclass(value, BaseModel)
        and value.__module__ == content_module.__name__
    ]


def make_serde() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=state_types())


# --- choosing ------------------------------------------------------------------------------


def checkpoint_target(settings: Settings) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgresql", libpq URL)`` for ``settings``."""
    if settings.checkpoint_url:
        url = _parse(settings.checkpoint_url, "ASSISTANT_CHECKPOINT_URL")
        backend = url.get_backend_name()
        if backend == "sqlite":
            if not url.database or url.database == ":memory:":
                raise ConfigError(
                    "ASSISTANT_CHECKPOINT_URL: a SQLite checkpointer needs a file, "
                    "e.g. sqlite:///data/checkpoints.sqlite"
                )
            return "sqlite", url.database
        if backend in _POSTGRES_SCHEMES:
            return "postgresql", libpq_url(url)
        raise ConfigError(
            f"ASSISTANT_CHECKPOINT_URL: unsupported scheme {url.drivername!r}; "
            "use sqlite:///path or postgresql://user:password@host:port/database"
        )
    database = make_url(settings.resolved_database_url)
    if database.get_backend_name() in _POSTGRES_SCHEMES:
        return "postgresql", libpq_url(database)
    return "sqlite", str(settings.checkpoint_path)


def make_checkpointer(
    settings: Settings, *, pool_size: int | None = None, max_overflow: int | None = None,
) -> BaseCheckpointSaver[Any]:
    """A ready checkpointer (tables created) for ``settings``; close it with ``close_checkpointer``.

    A PostgreSQL one uses a pool of up to ``db_pool_size + db_max_overflow`` connections
    (the same sizing as the SQLAlchemy engine), unless given other sizes.
    """
    backend, where = checkpoint_target(settings)
    if backend == "postgresql":
        return postgres_checkpointer(
            where, pool_size=settings.db_pool_size if pool_size is None else pool_size,
            max_overflow=settings.db_max_overflow if max_overflow is None else max_overflow)
    return sqlite_checkpointer(Path(where))


def close_checkpointer(saver: BaseCheckpointSaver[Any]) -> None:
    """Release what ``saver`` holds open: its SQLite connection or its PostgreSQL pool."""
    conn = getattr(saver, "conn", None)
    if conn is not None:
        conn.close()


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    saver = make_checkpointer(settings)
    try:
        yield saver
    finally:
        close_checkpointer(saver)


# --- SQLite --------------------------------------------------------------------------------


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )
    saver = SqliteSaver(conn, serde=make_serde())
    retry_when_locked(lambda: enable_wal(conn))
    retry_when_locked(saver.setup)
    return saver


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_checkpointer(
    conninfo: str, *, pool_size: int = DEFAULT_POOL_SIZE, max_overflow: int = 0,
) -> PostgresSaver:
    """A ``PostgresSaver`` over a connection pool, its tables created (``setup()``).

    The pool opens one connection at start and grows on demand to ``pool_size +
    max_overflow`` (the engine's limit too); a connection idle for OVERFLOW_IDLE_S is closed,
    down to one, so an idle process holds one connection. A caller waits at most
    POOL_TIMEOUT_S for a connection, then gets PoolTimeout.

    The pool's connections use autocommit, ``prepare_threshold=0`` and ``dict_row``, as
    langgraph-checkpoint-postgres requires; a connection that died (a server restart) is
    checked and replaced when it is next taken from the pool.
    """
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool, PoolTimeout
    except ImportError as err:
        raise ConfigError(
            "a PostgreSQL checkpointer needs the `postgres` extra: "
            "pip install 'agenticai-lab[postgres]'",
            detail=str(err),
        ) from err

    safe = safe_conninfo(conninfo)
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": 0,
        "row_factory": dict_row,
        "connect_timeout": CONNECT_TIMEOUT_S,
    }
    # One direct connection first: it fails fast with the server's own reason, and it creates
    # the tables while holding an advisory lock, so processes starting together do not race.
    try:
        conn = psycopg.connect(conninfo, **kwargs)
    except psycopg.OperationalError as err:
        raise _unreachable(safe, err) from err
    try:
        with conn, _setup_lock(conn):
            PostgresSaver(conn).setup()
    except psycopg.Error as err:
        raise ConfigError(
            f"the checkpoint database at {safe} could not be set up: {_first_line(err)}",
            detail=str(err),
        ) from err

    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=max(1, pool_size) + max(0, max_overflow),
        max_idle=OVERFLOW_IDLE_S,
        timeout=POOL_TIMEOUT_S,
        kwargs=kwargs,
        check=_check_if_idle,
        reset=_note_returned,
        name="checkpoints",
        open=False,
    )
    try:
        pool.open(wait=True, timeout=2 * CONNECT_TIMEOUT_S)
    except PoolTimeout as err:
        pool.close()
        raise _unreachable(safe, err) from err
    return PostgresSaver(pool, serde=make_serde())


@contextmanager
def _setup_lock(conn: Any) -> Iterator[None]:
    """Hold the set-up advisory lock. Polled, not waited for: the migrations build indexes
    CONCURRENTLY, which waits for every open transaction, a blocked lock request included."""
    deadline = time.monotonic() + SETUP_LOCK_TIMEOUT_S
    while not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_PG_SETUP_LOCK,)).fetchone()[
            "ok"]:
        if time.monotonic() > deadline:
            raise ConfigError("timed out waiting for another process to set up the checkpoints")
        time.sleep(0.05)
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_SETUP_LOCK,))


def libpq_url(url: URL) -> str:
    """A psycopg conninfo for a SQLAlchemy URL: ``postgresql+psycopg://`` -> ``postgresql://``.

    The query string stays: its keys (``options``, ``sslmode``, ...) are libpq parameters.
    """
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def safe_conninfo(conninfo: str) -> str:
    """``conninfo`` with the password masked, fit for messages and logs."""
    try:
        return make_url(conninfo).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable PostgreSQL URL>"


def _parse(raw: str, setting: str) -> URL:
    try:
        return make_url(raw)
    except sa_exc.ArgumentError as err:
        raise ConfigError(
            f"{setting} is not a URL (expected e.g. postgresql://user:password@host/db)"
        ) from err


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _unreachable(safe: str, err: BaseException) -> ConfigError:
    return ConfigError(
        f"the checkpoint database at {safe} is unreachable ({_first_line(err)}); start "
        "PostgreSQL or fix ASSISTANT_CHECKPOINT_URL / ASSISTANT_DATABASE_URL",
        detail=f"{safe}: {_first_line(err)}",
    )


# When each pooled checkpoint connection was last handed back (see storage.db.IDLE_PING_S).
_RETURNED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _note_returned(conn: Any) -> None:
    _RETURNED[conn] = time.monotonic()


def _check_if_idle(conn: Any) -> None:
    """The pool's check: only a connection idle over IDLE_PING_S (or never used) is pinged
    before use; a dead one raises and the pool replaces it."""
    from psycopg_pool import ConnectionPool

    if time.monotonic() - _RETURNED.get(conn, 0.0) > IDLE_PING_S:
        ConnectionPool.check_connection(conn)
