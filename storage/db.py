"""The database: engine, sessions, migrations.

``Database(url)`` works the same for the embedded default (a SQLite file) and production
(PostgreSQL). A database that is configured but cannot be reached raises
:class:`~storage.errors.DatabaseUnavailable` with the URL (never its password) and the reason,
at ``migrate()`` or at the first session, not a driver traceback.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.errors import DatabaseUnavailable, DiskFullError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 30
# A pooled server connection idle longer than this is checked (SELECT 1) before use: one that
# died meanwhile (a database restart, a dropped idle connection) is replaced, not handed out.
# A connection back in the pool sooner skips the round trip: a pipeline step takes several
# connections a few milliseconds apart, and a ping on each was a fifth of a step's overhead.
# A server that dies in that window fails the statement, and SQLAlchemy then drops the
# whole pool; the step fails with the reason and the job resumes.
IDLE_PING_S = 2.0
# serialises concurrent migrate() calls on one PostgreSQL database (any constant will do)
_PG_MIGRATE_LOCK = 0x5_70_4A_6E
_DISK_FULL_ERRNOS = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def safe_url(url: str | URL) -> str:
    """The URL as text with the password masked, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable database URL>"


def _reason(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err.__cause__ or err
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def enable_wal(cur: Any) -> None:
    """WAL is a property of the file: set it once, the first connection to find it unset."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        cur.execute("PRAGMA journal_mode = WAL")


def retry_when_locked(action: Callable[[], None]) -> None:
    """Switching to WAL needs the file to itself, and SQLite does not wait for that (no busy
    handler), so two processes opening a new file together retry here for the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Database:
    """One engine per process; ``session()`` for units of work, ``migrate()`` for the schema."""

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10,
                 echo: bool = False) -> None:
        self.url: URL = make_url(url)
        self.safe_url = safe_url(self.url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: Engine = self._create_engine(
            pool_size=pool_size, max_overflow=max_overflow, echo=echo)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    # --- engine -------------------------------------------------------------------------------
    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL and in-memory SQLite."""
        db = self.url.database
        if not self.is_sqlite or not db or db == ":memory:" or db.startswith("file:"):
            return None
        return Path(db)

    def _create_engine(self, *, pool_size: int, max_overflow: int, echo: bool) -> Engine:
        """PostgreSQL keeps up to ``pool_size`` connections open and opens up to
        ``max_overflow`` more under load (closed when returned); a caller waits at most
        POOL_TIMEOUT_S for one before the pool says it is exhausted."""
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            if self.sqlite_path is None:  # in-memory: one shared connection
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"]["check_same_thread"] = False
            else:
                kwargs["pool_size"] = pool_size
        else:
            kwargs.update(pool_size=max(1, pool_size), max_overflow=max(0, max_overflow),
                          pool_timeout=POOL_TIMEOUT_S)
            if self.url.get_backend_name() == "postgresql":
                kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(engine, "do_connect", self._before_sqlite_connect)
            event.listen(engine, "connect", self._on_sqlite_connect)
        else:
            event.listen(engine, "connect", _note_returned)
            event.listen(engine, "checkin", _note_returned)
            event.listen(engine, "checkout", _ping_if_idle)
        return engine

    def _before_sqlite_connect(self, *_: Any) -> None:
        path = self.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def _on_sqlite_connect(self, dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            if self.sqlite_path is not None:
                retry_when_locked(lambda: enable_wal(cur))
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    # --- connections ----------------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection in a transaction that commits when the block succeeds."""
        try:
            conn = self.engine.connect()
        except (exc.OperationalError, exc.InterfaceError, OSError) as err:
            raise self._unavailable(err) from err
        try:
            with conn.begin():
                yield conn
        except BaseException as err:
            translated = self._translate(err)
            if translated is err:
                raise
            raise translated from err
        finally:
            conn.close()

    def check(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""
        with self.connect() as conn:
            conn.execute(text("SELECT 1"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A Session that commits when the block succeeds and rolls back when it raises."""
        session = self._sessions()
        try:
            try:
                session.connection()  # connect now, so an unreachable database says so
            except (exc.OperationalError, exc.InterfaceError, OSError) as err:
                raise self._unavailable(err) from err
            yield session
            session.commit()
        except BaseException as err:
            with suppress(Exception):  # a dead connection must not hide the real error
                session.rollback()
            translated = self._translate(err)
            if translated is err:
                raise
            raise translated from err
        finally:
            session.close()

    def _unavailable(self, err: BaseException) -> DatabaseUnavailable:
        hint = None
        if self.is_sqlite:
            hint = "Check that the folder of the database file exists or can be created, "
            hint += "and is writable."
        return DatabaseUnavailable(self.safe_url, _reason(err), hint)

    def _translate(self, err: BaseException) -> BaseException:
        """Driver errors that mean 'disk full' or 'connection lost' -> storage errors."""
        if not isinstance(err, exc.DBAPIError):
            return err
        orig = err.orig
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate == "53100" or (
            isinstance(orig, sqlite3.DatabaseError) and "disk is full" in str(orig)
        ):
            where: Path | str = self.sqlite_path or self.safe_url
            return DiskFullError(where, _reason(err))
        if isinstance(orig, OSError) and orig.errno in _DISK_FULL_ERRNOS:
            return DiskFullError(self.sqlite_path or self.safe_url, _reason(err))
        if err.connection_invalidated:
            return DatabaseUnavailable(self.safe_url, f"connection lost: {_reason(err)}")
        return err

    # --- schema -----------------------------------------------------------------------------------
    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (Alembic ``upgrade``); a no-op when it is there."""
        from alembic import command

        with self.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # one migrator at a time
            elif self.url.get_backend_name() == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    @staticmethod
    def head_revision() -> str | None:
        """The newest migration this code ships."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.migration import MigrationContext

        with self.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def schema_diff(self) -> list[Any]:
        """Differences between the live schema and the models (empty when they match)."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from storage.migrations.compare import compare_options
        from storage.models import Base

        with self.connect() as conn:
            ctx = MigrationContext.configure(conn, opts=compare_options())
            return list(compare_metadata(ctx, Base.metadata))

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str | None = None) -> Any:
    """An Alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _note_returned(_dbapi_connection: Any, record: Any) -> None:
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """The pool's checkout hook: a connection idle over IDLE_PING_S must answer first.
    Raising DisconnectionError makes the pool discard it and take another (or a new one)."""
    if time.monotonic() - record.info.get("returned_at", 0.0) <= IDLE_PING_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if not getattr(dbapi_connection, "autocommit", True):
            dbapi_connection.rollback()  # end the ping's transaction: the pool hands it out clean
    except Exception as err:
        raise exc.DisconnectionError(f"a pooled connection is dead: {err}") from err
