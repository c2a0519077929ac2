"""The scheduling and analytics queries on SQLite and on the real PostgreSQL: which pieces
are due for a pull, pieces with their series, who gets a weekly report (once), moving and
cancelling a scheduled publication (never one being published right now)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from storage import Database, JobRepository
from storage.analytics import AnalyticsRepository
from storage.errors import ConflictError, NotFoundError
from storage.models import Organization
from storage.schedule import ScheduleRepository
from tests.storage.conftest import (  # noqa: F401
    backend,
    database,
    database_url,
    empty_database,
    postgres_database_url,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _published(repo: JobRepository, job: str, platform: str, user: str = "alice") -> str:
    if repo.get_job(job) is None:
        repo.create_job(job, title=f"piece {job}", content_type="short", user=user,
                        input_data={"style": "viral", "target_seconds": 45})
    return repo.save_publication(job, platform, status="published", post_id=job).id


def test_pulls_are_due_by_interval_and_pieces_carry_their_series(
        database: Database) -> None:  # noqa: F811
    repo, analytics = JobRepository(database), AnalyticsRepository(database)
    first, second = _published(repo, "job-00000001", "youtube"), _published(
        repo, "job-00000002", "tiktok")
    repo.save_publication("job-00000002", "outbox", status="scheduled",
                          publish_at=T0 + timedelta(hours=3))  # not published: never pulled
    assert {r.id for r in analytics.due_for_pull(T0, 3600)} == {first, second}
    analytics.record(first, {"views": 10, "likes": 1}, T0)
    assert [r.id for r in analytics.due_for_pull(T0 + timedelta(minutes=30), 3600)] == [second]
    analytics.record(first, {"views": 25.5, "likes": 3}, T0 + timedelta(hours=1))
    due = analytics.due_for_pull(T0 + timedelta(hours=2), 3600)
    assert [r.id for r in due] == [second, first]  # never pulled first, then the oldest

    [piece, other] = sorted(analytics.pieces(username="alice"), key=lambda p: p.platform)
    assert piece.platform == "tiktok" and piece.series == {}
    assert other.series["views"] == [(T0, 10.0), (T0 + timedelta(hours=1), 25.5)]
    assert other.latest("likes") == 3.0 and other.brief["style"] == "viral"
    assert analytics.pieces(username="bob") == []
    assert analytics.pieces(since=T0 + timedelta(days=1)) == []


def test_weekly_report_audiences_and_one_send_each(database: Database) -> None:  # noqa: F811
    repo, analytics = JobRepository(database), AnalyticsRepository(database)
    schedule = ScheduleRepository(database)
    _published(repo, "job-00000001", "youtube", "alice")
    _published(repo, "job-00000002", "tiktok", "bob")
    owner = uuid.UUID(repo.ensure_user("olga"))
    with database.session() as s:
        org = Organization(name="Team", slug="team", owner_id=owner)
        s.add(org)
        s.flush()
        org_id = org.id
    from sqlalchemy import update

    from storage.models import Job

    with database.session() as s:
        s.execute(update(Job).where(Job.id == "job-00000002").values(organization_id=org_id))
    assert analytics.audiences() == sorted([(f"organization:{org_id}", str(org_id), None),
                                            ("profile:alice", None, "alice")])
    assert schedule.claim_report("profile:alice", T0, "first") is True
    assert schedule.claim_report("profile:alice", T0, "again") is False
    assert schedule.report_sent("profile:alice", T0)
    assert not schedule.report_sent("profile:alice", T0 + timedelta(days=7))


def test_move_and_cancel_respect_what_went_out_and_the_lease(
        database: Database) -> None:  # noqa: F811
    repo, schedule = JobRepository(database), ScheduleRepository(database)
    repo.create_job("job-0000abcd", title="t", content_type="short", user="alice")
    for platform in ("tiktok", "youtube"):
        repo.save_publication("job-0000abcd", platform, status="scheduled",
                              publish_at=T0 + timedelta(hours=1))
    moved = schedule.move("job-0000abcd", "youtube", T0 + timedelta(hours=5), T0)
    assert moved.publish_at == T0 + timedelta(hours=5)
    with pytest.raises(NotFoundError):
        schedule.move("job-0000abcd", "wordpress", T0, T0)

    [claimed] = schedule.claim_due(T0 + timedelta(hours=1), "me:1:a", 60)
    assert claimed.platform == "tiktok"
    with pytest.raises(ConflictError, match="being published on tiktok right now"):
        schedule.cancel("job-0000abcd", ["tiktok"], T0 + timedelta(hours=1))
    assert schedule.claim_due(T0 + timedelta(hours=1), "you:2:b", 60) == []  # held
    # the holder died: once its lease expired another takes it (it was 'scheduled' still)
    [again] = schedule.claim_due(T0 + timedelta(hours=1, minutes=2), "you:2:b", 60)
    assert again.platform == "tiktok"
    schedule.release(again.id, "you:2:b", error="tiktok: down")
    lease = schedule.lease_of(again.id)
    assert lease == {"owner": None, "expires_at": None, "attempts": 1,
                     "last_error": "tiktok: down"}

    assert schedule.cancel("job-0000abcd", None, T0 + timedelta(hours=2)) == ["tiktok", "youtube"]
    assert {r.status for r in repo.publications("job-0000abcd")} == {"cancelled"}
    assert schedule.claim_due(T0 + timedelta(days=1), "me:1:a", 60) == []
    with pytest.raises(ConflictError, match="already cancelled"):
        schedule.move("job-0000abcd", "tiktok", T0 + timedelta(days=2), T0)
