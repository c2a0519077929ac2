"""Database: migrations, schema parity with the models, connection errors, SQLite settings."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from storage import Database, DatabaseUnavailable
from storage.models import Base, Job, Profile

REPO_ROOT = Path(__file__).resolve().parents[2]


def _tables(db: Database) -> set[str]:
    with db.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_migrate_creates_every_table(database: Database) -> None:
    assert set(Base.metadata.tables) | {"alembic_version"} == _tables(database)
    assert database.current_revision() == Database.head_revision()


def test_migrate_twice_is_a_no_op(database: Database) -> None:
    with database.session() as s:
        s.add(Profile(username="kept"))
    before = _tables(database)
    database.migrate()
    database.migrate()
    assert _tables(database) == before
    assert database.current_revision() == Database.head_revision()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Profile)) == 1
    with database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_migrated_schema_matches_the_models(database: Database) -> None:
    assert database.schema_diff() == []


def test_schema_diff_sees_drift(database: Database) -> None:
    """The parity check above is only worth something if it notices a difference."""
    with database.connect() as conn:
        conn.execute(text("DROP INDEX idx_jobs_status"))
    diff = database.schema_diff()
    assert [d[0] for d in diff] == ["add_index"]


def test_concurrent_migrations_both_succeed(empty_database: Database, database_url: str) -> None:
    other = Database(database_url)
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            db.migrate()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(db,)) for db in (empty_database, other)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        other.dispose()
    assert errors == []
    assert empty_database.schema_diff() == []


def test_migrate_works_from_any_working_directory(database_url: str, tmp_path: Path) -> None:
    """Alembic is configured in code from the package's own folder, not from ./alembic.ini."""
    code = f"from storage import Database; Database({database_url!r}).migrate(); print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    db = Database(database_url)
    try:
        assert db.current_revision() == Database.head_revision()
    finally:
        db.dispose()


def test_session_commits_or_rolls_back(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as s:
        s.add(Profile(username="ghost"))
        s.flush()
        raise RuntimeError("boom")
    with database.session() as s:
        s.add(Profile(username="real"))
    with database.session() as s:
        assert s.scalars(select(Profile.username)).all() == ["real"]


def test_timestamps_come_back_aware_utc(database: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    when = datetime(2025, 5, 1, 14, 0, tzinfo=plus_two)
    with database.session() as s:
        s.add(Job(id="job-tz", title="t", content_type="short", scheduled_at=when))
    with database.session() as s:
        job = s.get(Job, "job-tz")
        assert job is not None
        assert job.scheduled_at == when
        assert job.scheduled_at is not None and job.scheduled_at.tzinfo is not None
        assert job.created_at.utcoffset() == timedelta(0)
        assert datetime.now(UTC) - job.created_at < timedelta(minutes=5)


def test_foreign_keys_are_enforced(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from storage.models import JobStep

    with pytest.raises(IntegrityError), database.session() as s:
        s.add(JobStep(job_id="no-such-job", step_order=1, name="write"))


def test_sqlite_settings(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a' / 'b' / 'x.sqlite'}")
    try:
        with db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
        assert (tmp_path / "a" / "b" / "x.sqlite").exists()
    finally:
        db.dispose()


def test_sqlite_file_shared_by_two_databases(tmp_path: Path) -> None:
    """A CLI and a test process may open the same file: writes of one are seen by the other."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = Database(url), Database(url)
    try:
        first.migrate()
        second.migrate()
        with first.session() as s:
            s.add(Profile(username="from-first"))
        with second.session() as s:
            assert s.scalars(select(Profile.username)).all() == ["from-first"]
    finally:
        first.dispose()
        second.dispose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_database_unavailable() -> None:
    port = _closed_port()
    db = Database(f"postgresql+psycopg://app:s3cret@127.0.0.1:{port}/assistant")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as info:
            db.migrate()
        assert time.monotonic() - started < 10
        message = str(info.value)
        assert f"127.0.0.1:{port}" in message
        assert "s3cret" not in message
        assert "***" in message
        assert info.value.__cause__ is not None
        with pytest.raises(DatabaseUnavailable), db.session():
            pass
        with pytest.raises(DatabaseUnavailable):
            db.check()
    finally:
        db.dispose()


def test_unopenable_sqlite_is_database_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    db = Database(f"sqlite:///{blocker / 'db.sqlite'}")
    try:
        with pytest.raises(DatabaseUnavailable, match="not-a-dir"):
            db.migrate()
    finally:
        db.dispose()


def test_every_table_takes_a_row(database: Database) -> None:
    """The tables nothing else in this suite writes to are usable on this backend too."""
    from decimal import Decimal

    from storage.models import (
        Analytics,
        ApiUsage,
        Organization,
        OrganizationMember,
        Publication,
        Webhook,
        WebhookDelivery,
        WorkflowTemplate,
    )

    with database.session() as s:
        owner = Profile(username="owner", preferences={"voice": "calm"})
        s.add(owner)
        s.flush()
        org = Organization(name="Studio", slug="studio", owner_id=owner.id)
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=owner.id))
        s.add(Job(id="job-all", title="t", content_type="blog", organization_id=org.id))
        s.flush()
        publication = Publication(job_id="job-all", platform="outbox")
        s.add(publication)
        hook = Webhook(user_id=owner.id, name="n", url="https://example.invalid/h", events=["x"])
        s.add(hook)
        s.flush()
        s.add(Analytics(publication_id=publication.id, metric_name="views", metric_value=12))
        s.add(WebhookDelivery(webhook_id=hook.id, event_type="x", payload={"a": [1, 2]}))
        s.add(WorkflowTemplate(name="short", content_type="short", created_by=owner.id))
        s.add(
            ApiUsage(
                user_id=owner.id,
                endpoint="/jobs",
                method="POST",
                status_code=201,
                cost_usd=Decimal("0.0123"),
            )
        )
    with database.session() as s:
        usage = s.scalars(select(ApiUsage)).one()
        assert Decimal(str(usage.cost_usd)) == Decimal("0.0123")
        assert s.scalars(select(WebhookDelivery.payload)).one() == {"a": [1, 2]}
        assert s.scalars(select(Webhook.events)).one() == ["x"]
        # deleting the owner cascades to the organization, its members and its job
        s.delete(s.scalars(select(WorkflowTemplate)).one())
        s.delete(s.scalars(select(Profile)).one())
    with database.session() as s:
        assert s.get(Job, "job-all") is None
        assert s.scalars(select(Analytics)).all() == []


def test_a_full_database_disk_is_disk_full_error(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from storage import DiskFullError

    db = Database(f"sqlite:///{tmp_path / 'full.sqlite'}")
    try:
        full = OperationalError(
            "INSERT ...", {}, sqlite3.OperationalError("database or disk is full")
        )
        with pytest.raises(DiskFullError, match="full.sqlite"), db.session():
            raise full
    finally:
        db.dispose()


_WORKER = """
import sys
from pathlib import Path
from storage import Database, JobRepository, ObjectStore

url, root, who = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
db = Database(url)
db.migrate()
repo, store = JobRepository(db), ObjectStore(root, db)
for i in range(25):
    job = f"job-{who}-{i}"
    repo.create_job(job, title=job, content_type="blog", user="shared-user")
    step = repo.start_step(job, "write")
    store.put(job, "post.md", f"{who} {i}", step="write", type="post")
    repo.finish_step(step)
    repo.set_status(job, "published")
    repo.record_publication(job, "outbox", location=f"/outbox/{job}")
db.dispose()
"""


def test_two_processes_share_a_sqlite_file(tmp_path: Path) -> None:
    """A CLI and a test may write to the same file at once: no 'database is locked'."""
    url = f"sqlite:///{tmp_path / 'shared' / 'assistant.db'}"
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(tmp_path / "artifacts"), who],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("cli", "test")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    db = Database(url)
    try:
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Job)) == 50
            assert s.scalar(select(func.count()).select_from(Profile)) == 1
    finally:
        db.dispose()
