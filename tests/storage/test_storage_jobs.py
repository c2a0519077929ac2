"""JobRepository on both databases: lifecycle, steps, approvals, publications, logs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from storage import ConflictError, Database, InvalidNameError, JobRepository, NotFoundError
from storage.models import Approval, JobStep, Profile, Publication


@pytest.fixture
def repo(database: Database) -> JobRepository:
    return JobRepository(database)


def _job(repo: JobRepository, job_id: str = "job-0001", **kw: Any) -> str:
    repo.create_job(
        job_id,
        title=kw.pop("title", "Why the sky is blue"),
        content_type=kw.pop("content_type", "short"),
        user=kw.pop("user", "local"),
        configuration={"style": "calm"},
        input_data={"topic": "sky"},
        **kw,
    )
    return job_id


def _count(db: Database, model: type[Any]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _in_threads(n: int, fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` in n threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_users_are_created_once(repo: JobRepository, database: Database) -> None:
    first = repo.ensure_user("discord:1234")
    assert repo.ensure_user("discord:1234") == first
    assert repo.ensure_user("telegram:99") != first
    assert _count(database, Profile) == 2


def test_create_and_read_a_job(repo: JobRepository) -> None:
    created = repo.create_job(
        "job-3f9a1c2b",
        title="Tides",
        content_type="short",
        user="local",
        configuration={"style": "calm"},
        input_data={"topic": "tides"},
        target_platforms=["outbox"],
    )
    assert created.status == "pending"
    assert created.user_id == repo.ensure_user("local")
    job = repo.get_job("job-3f9a1c2b")
    assert job == created
    assert job is not None
    assert (job.configuration, job.input_data, job.target_platforms) == (
        {"style": "calm"},
        {"topic": "tides"},
        ["outbox"],
    )
    assert repo.get_job("job-none") is None


def test_create_job_is_idempotent_but_refuses_a_reused_id(
    repo: JobRepository, database: Database
) -> None:
    _job(repo)
    _job(repo)
    assert len(repo.list_jobs()) == 1
    with pytest.raises(ConflictError):
        _job(repo, title="Something else entirely")


def test_create_job_validates(repo: JobRepository) -> None:
    with pytest.raises(ValueError, match="content type"):
        _job(repo, content_type="hologram")
    with pytest.raises(InvalidNameError):
        _job(repo, job_id="../etc")


def test_job_lifecycle_stamps_times(repo: JobRepository) -> None:
    job_id = _job(repo)
    running = repo.set_status(job_id, "processing")
    assert running.started_at is not None and running.completed_at is None
    assert repo.set_status(job_id, "review").started_at == running.started_at
    failed = repo.set_status(job_id, "failed", error="render step: ffmpeg exited 1")
    assert failed.failed_at is not None
    assert failed.error_message == "render step: ffmpeg exited 1"
    resumed = repo.set_status(job_id, "processing")
    assert (resumed.failed_at, resumed.error_message) == (None, None)
    assert resumed.started_at == running.started_at
    done = repo.set_status(job_id, "published")
    assert done.completed_at is not None and done.completed_at >= done.started_at  # type: ignore[operator]
    assert done.updated_at >= done.created_at
    with pytest.raises(ValueError):
        repo.set_status(job_id, "exploded")
    with pytest.raises(NotFoundError):
        repo.set_status("job-none", "processing")


def test_list_jobs_newest_first(repo: JobRepository) -> None:
    for i in range(4):
        _job(repo, f"job-{i}", user="ann" if i % 2 else "bob")
    repo.set_status("job-2", "failed", error="x")
    assert [j.id for j in repo.list_jobs()] == ["job-3", "job-2", "job-1", "job-0"]
    assert [j.id for j in repo.list_jobs(limit=2)] == ["job-3", "job-2"]
    assert [j.id for j in repo.list_jobs(user="ann")] == ["job-3", "job-1"]
    assert [j.id for j in repo.list_jobs(status="failed")] == ["job-2"]


def test_update_job_merges(repo: JobRepository) -> None:
    job_id = _job(repo)
    repo.update_job(job_id, output_data={"script": "script.md"})
    job = repo.update_job(job_id, output_data={"video": "video.mp4"}, meta={"lang": "en"})
    assert job.output_data == {"script": "script.md", "video": "video.mp4"}
    assert job.meta == {"lang": "en"}


def test_steps_are_recorded_in_order(repo: JobRepository) -> None:
    job_id = _job(repo)
    research = repo.start_step(job_id, "research", {"query": "sky"})
    repo.finish_step(research, {"sources": 3})
    write = repo.start_step(job_id, "write")
    failed = repo.fail_step(write, "the model returned no script")
    assert failed.status == "failed" and failed.error_message == "the model returned no script"
    write_again = repo.start_step(job_id, "write")  # a failed step starts afresh
    assert write_again != write
    done = repo.finish_step(write_again)
    assert done.duration_ms is not None and done.duration_ms >= 0
    steps = repo.list_steps(job_id)
    assert [(s.name, s.status, s.step_order) for s in steps] == [
        ("research", "completed", 1),
        ("write", "failed", 2),
        ("write", "completed", 3),
    ]
    assert steps[0].input_data == {"query": "sky"} and steps[0].output_data == {"sources": 3}
    with pytest.raises(NotFoundError):
        repo.start_step("job-none", "write")
    with pytest.raises(NotFoundError):
        repo.finish_step("not-a-uuid")


def test_a_step_left_processing_is_reused(repo: JobRepository, database: Database) -> None:
    """The process died mid-step: the resumed run picks up the same row."""
    job_id = _job(repo)
    first = repo.start_step(job_id, "voice", {"scenes": 3})
    again = repo.start_step(job_id, "voice")
    third = repo.start_step(job_id, "voice", {"scenes": 4})
    assert first == again == third
    (step,) = repo.list_steps(job_id)
    assert (step.retry_count, step.status, step.input_data) == (2, "processing", {"scenes": 4})
    repo.finish_step(first)
    assert _count(database, JobStep) == 1


def test_approvals_are_idempotent(repo: JobRepository, database: Database) -> None:
    job_id = _job(repo)
    preview = {"title": "Why the sky is blue", "scenes": 3}
    first = repo.request_approval(job_id, "review_script", 1, preview)
    assert repo.request_approval(job_id, "review_script", 1, preview) == first
    assert _count(database, Approval) == 1
    pending = repo.pending_approval(job_id)
    assert pending is not None
    assert (pending.id, pending.stage, pending.round, pending.preview) == (
        first,
        "review_script",
        1,
        preview,
    )

    decided = repo.decide_approval(job_id, "review_script", 1, "revise", "discord:42", "shorter")
    assert (decided.status, decided.decided_by, decided.feedback) == (
        "revise",
        "discord:42",
        "shorter",
    )
    again = repo.decide_approval(job_id, "review_script", 1, "revise", "discord:42", "shorter")
    assert again.decided_at == decided.decided_at  # a repeated decision changes nothing
    with pytest.raises(ConflictError):
        repo.decide_approval(job_id, "review_script", 1, "approve", "discord:42")
    assert repo.pending_approval(job_id) is None

    second = repo.request_approval(job_id, "review_script", 2, preview)
    assert second != first
    assert repo.decide_approval(job_id, "review_script", 2, "approve", "local").status == (
        "approved"
    )
    assert [(a.round, a.status) for a in repo.approvals(job_id)] == [
        (1, "revise"),
        (2, "approved"),
    ]
    with pytest.raises(NotFoundError):
        repo.decide_approval(job_id, "review_final", 1, "approve", "local")
    with pytest.raises(ValueError):
        repo.decide_approval(job_id, "review_script", 2, "maybe", "local")


def test_concurrent_approval_requests_make_one_row(repo: JobRepository, database: Database) -> None:
    job_id = _job(repo)
    results = _in_threads(6, lambda: repo.request_approval(job_id, "review_final", 1, {}))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len(set(results)) == 1
    assert _count(database, Approval) == 1


def test_publications_are_idempotent(repo: JobRepository, database: Database) -> None:
    job_id = _job(repo)
    first, created = repo.record_publication(
        job_id, "outbox", location="/data/outbox/job-0001/video.mp4", meta={"files": 2}
    )
    assert created
    again, created_again = repo.record_publication(job_id, "outbox", location="/elsewhere")
    assert not created_again
    assert again == first
    assert again.location == again.post_url == "/data/outbox/job-0001/video.mp4"
    _, created_yt = repo.record_publication(job_id, "youtube", location="https://y/1")
    assert created_yt
    assert [p.platform for p in repo.publications(job_id)] == ["outbox", "youtube"]
    with pytest.raises(NotFoundError):
        repo.record_publication("job-none", "outbox", location="x")


def test_concurrent_publications_create_exactly_one(
    repo: JobRepository, database: Database
) -> None:
    job_id = _job(repo)
    results = _in_threads(
        6, lambda: repo.record_publication(job_id, "outbox", location="/outbox/x")
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert len({record.id for record, _ in results}) == 1
    assert _count(database, Publication) == 1


def test_logs(repo: JobRepository) -> None:
    job_id = _job(repo)
    step = repo.start_step(job_id, "qa")
    repo.log(job_id, "qa", "INFO", "checked 3 rules", {"passed": 3}, step_id=step)
    repo.log(job_id, "qa", "warning", "caption too long")
    repo.log(None, "system", "info", "not about a job")
    logs = repo.logs(job_id)
    assert [(entry["level"], entry["message"]) for entry in logs] == [
        ("info", "checked 3 rules"),
        ("warning", "caption too long"),
    ]
    assert logs[0]["meta"] == {"passed": 3}
    with pytest.raises(ValueError):
        repo.log(job_id, "qa", "loud", "x")
