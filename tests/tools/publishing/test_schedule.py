"""Scheduling: best hours, the viral cascade, the plan shown at the final review and used by
the publish step, the due publication published by the scheduler through the real outbox,
and /schedule and /unschedule in the chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.app.runner import JobRunner
from assistant.app.scheduler import Scheduler, state_publisher
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief, ReviewDecision
from assistant.errors import ConfigError, InputError
from assistant.tools.publishing.schedule import (
    best_hours,
    next_hour,
    parse_best_hours,
    parse_local_time,
    plan,
    zone,
)
from tests.fakes import FRAMING, scripted

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
APPROVE = ReviewDecision(action="approve", by="tester")


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# --- best hours and the cascade ---------------------------------------------------------------


def test_the_cascade_keeps_the_prds_gaps_from_tiktoks_peak_hour() -> None:
    settings = _settings(timezone="Europe/Paris", publish_schedule="cascade")
    slots = plan(settings, ["wordpress", "x", "youtube", "tiktok", "telegram"], NOW)
    at = {s.platform: s.publish_at for s in slots}
    peak = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 19:00 in Paris, TikTok's next peak
    assert at == {"tiktok": peak, "youtube": peak + timedelta(minutes=30),
                  "x": peak + timedelta(hours=1), "telegram": peak + timedelta(hours=1),
                  "wordpress": peak + timedelta(hours=2)}
    assert [s.platform for s in slots][:2] == ["tiktok", "youtube"]
    assert "cascade: TikTok +30 min" in slots[1].reason


def test_without_tiktok_the_first_platform_starts_at_its_own_peak() -> None:
    settings = _settings(publish_schedule="cascade")  # UTC
    slots = plan(settings, ["wordpress", "youtube"], NOW)
    youtube = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # YouTube's next best hour after noon
    assert [(s.platform, s.publish_at) for s in slots] == [
        ("youtube", youtube), ("wordpress", youtube + timedelta(minutes=90))]


def test_a_time_the_person_asked_for_starts_the_cascade() -> None:
    settings = _settings(publish_schedule="cascade")
    start = datetime(2026, 12, 3, 7, 15, tzinfo=UTC)
    slots = plan(settings, ["tiktok", "wordpress"], NOW, start=start)
    assert [(s.platform, s.publish_at) for s in slots] == [
        ("tiktok", start), ("wordpress", start + timedelta(hours=2))]
    assert plan(_settings(), ["outbox"], NOW, start=start)[0].publish_at == start


def test_best_mode_takes_each_platforms_next_best_hour_in_the_persons_timezone() -> None:
    settings = _settings(timezone="America/New_York", publish_schedule="best",
                         best_hours="wordpress=6;telegram=23")
    slots = {s.platform: s.publish_at for s in plan(settings, ["wordpress", "telegram"], NOW)}
    # noon UTC is 07:00 in New York: 06:00 has passed today, 23:00 has not
    assert slots["wordpress"] == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert slots["telegram"] == datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def test_learned_hours_come_before_the_setting_and_the_table() -> None:
    settings = _settings(best_hours="tiktok=7")
    assert best_hours(settings, "tiktok") == (7,)
    assert best_hours(settings, "tiktok", {"tiktok": [22]}) == (22,)
    assert best_hours(settings, "youtube") == (17, 20, 14)
    assert best_hours(settings, "somewhere") == (9, 18)


def test_next_hour_across_a_clock_change() -> None:
    paris = zone(_settings(timezone="Europe/Paris"))
    # 29 March 2026: at 02:00 Paris jumps to 03:00 (CEST, UTC+2)
    before = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert next_hour(before, [9], paris) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert next_hour(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), [9], paris) == \
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_slot_too_close_to_now_is_the_next_one() -> None:
    at = next_hour(datetime(2026, 12, 1, 18, 58, tzinfo=UTC), [19], zone(_settings()))
    assert at == datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tiktok", "tiktok=25", "=9", "tiktok=nine", "tiktok=9;x="])
def test_bad_best_hours_are_one_clear_line(text: str) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_BEST_HOURS"):
        parse_best_hours(text)


def test_bad_timezone_and_mode_are_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_TIMEZONE='Mars/Olympus'"):
        plan(_settings(timezone="Mars/Olympus", publish_schedule="best"), ["x"], NOW)
    with pytest.raises(ConfigError, match="ASSISTANT_PUBLISH_SCHEDULE"):
        plan(_settings(), ["x"], NOW, mode="whenever")


def test_local_times_are_read_in_the_persons_timezone() -> None:
    settings = _settings(timezone="Asia/Tokyo")
    assert parse_local_time("2026-12-02T18:00", settings, NOW) == \
        datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert parse_local_time("now", settings, NOW) == NOW
    for bad, why in [("tomorrow", "is not a time"),
                     ("2026-13-02T18:00", "is not a date and time that exists"),
                     ("2026-11-30T18:00", "in the past")]:
        with pytest.raises(InputError, match=why):
            parse_local_time(bad, settings, NOW)


# --- the plan at the final review, the publish step and the scheduler ----------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(data_dir=tmp_path / "data", seed_sample_kb=False,
                     publish_schedule="cascade", timezone="Europe/Paris")


@pytest.fixture
def runner(tides_kb: Services) -> Iterator[JobRunner]:
    tides_kb.set_chat(scripted(FRAMING))
    job_runner = JobRunner(tides_kb)
    yield job_runner
    job_runner.close()


def _to_final_review(runner: JobRunner) -> tuple[str, dict[str, object]]:
    brief = Brief.create("how tides work", "blog", user="alice")
    job = runner.create(brief)
    assert runner.start(job, brief).status == "review"
    outcome = runner.resume(job, APPROVE)
    assert outcome.review is not None
    assert outcome.review["action_request"]["action"] == "review_final"
    return job, outcome.review["action_request"]["args"]


def test_the_final_review_shows_the_schedule_and_publishing_keeps_it(runner: JobRunner) -> None:
    svc = runner.svc
    job, args = _to_final_review(runner)
    assert "### Schedule (Europe/Paris)" in str(args["markdown"])
    assert "**the outbox**" in str(args["markdown"])
    schedule = args["schedule"]
    assert isinstance(schedule, list) and len(schedule) == 1
    when = datetime.fromisoformat(schedule[0]["publish_at"])
    assert when > datetime.now(UTC) and when.astimezone(zone(svc.settings)).hour == 9

    assert runner.resume(job, APPROVE).status == "published"
    [row] = svc.repo.publications(job)
    assert (row.status, row.publish_at) == ("scheduled", when)
    outbox = svc.settings.outbox_dir / job
    assert not outbox.exists()  # nothing went out before its time

    said: list[str] = []
    clock = {"now": when - timedelta(minutes=1)}
    scheduler = Scheduler(svc, state_publisher(svc, runner.state), clock=lambda: clock["now"],
                          deliver=lambda e: said.append(e.text), read_metrics=lambda r: None)
    assert scheduler.run_once().published == []
    clock["now"] = when
    assert scheduler.run_once().published == [(job, "outbox")]
    assert scheduler.run_once().published == []  # once
    [row] = svc.repo.publications(job)
    assert row.status == "published"
    assert (outbox / "post.md").read_text(encoding="utf-8").startswith("# How Tides Work")
    assert any(f"{job} is published on the outbox" in s for s in said)


# --- /schedule and /unschedule ------------------------------------------------------------------

ALICE = ChannelUser("web", "alice")
BOB = ChannelUser("web", "bob")


def test_schedule_commands_show_move_and_cancel(runner: JobRunner) -> None:
    svc = runner.svc
    job, _ = _to_final_review(runner)
    conv = Conversation(svc, runner)
    try:
        svc.repo.ensure_user("alice")
        shown = conv.handle(ALICE, f"/schedule {job}")
        assert shown[0].kind == "text", shown
        assert "the outbox" in shown[0].text and "proposed" in shown[0].text

        moved = conv.handle(ALICE, f"/schedule {job} outbox 2099-06-01T08:30")
        assert "goes out on the outbox Mon 1 Jun 08:30 Europe/Paris" in moved[0].text
        assert runner.resume(job, APPROVE).status == "published"
        [row] = svc.repo.publications(job)
        assert row.publish_at == datetime(2099, 6, 1, 6, 30, tzinfo=UTC)  # what was approved

        again = conv.handle(ALICE, f"/schedule {job} outbox 2099-06-02T10:00")
        assert "Tue 2 Jun 10:00" in again[0].text
        refused = conv.handle(BOB, f"/schedule {job} outbox 2099-06-03T10:00")
        assert refused[0].kind == "error" and "not yours" in refused[0].text
        assert conv.handle(ALICE, f"/schedule {job} outbox yesterday")[0].kind == "error"
        assert conv.handle(ALICE, f"/schedule {job} myspace 2099-06-03T10:00")[0].kind == "error"

        cancelled = conv.handle(ALICE, f"/unschedule {job}")
        assert cancelled[0].text == f"Cancelled {job} on the outbox: it will not be " \
                                    "published there."
        assert svc.repo.publications(job)[0].status == "cancelled"
        late = conv.handle(ALICE, f"/schedule {job} outbox 2099-06-03T10:00")
        assert late[0].kind == "error" and "cancelled" in late[0].text
        assert "has nothing scheduled" in conv.handle(ALICE, f"/unschedule {job}")[0].text
    finally:
        conv.close()


@pytest.mark.slow
def test_assistant_scheduler_publishes_what_is_due_and_stops_on_sigterm(
        runner: JobRunner) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from storage.schedule import ScheduleRepository

    svc = runner.svc
    job, _ = _to_final_review(runner)
    assert runner.resume(job, APPROVE).status == "published"  # scheduled for 09:00 Paris
    now = datetime.now(UTC)
    ScheduleRepository(svc.db).move(job, "outbox", now, now)  # as /schedule JOB outbox now
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(svc.settings.resolved_data_dir),
                "ASSISTANT_SEED_SAMPLE_KB": "0", "ASSISTANT_SCHEDULER_INTERVAL_S": "0.2",
                "ASSISTANT_WEEKLY_REPORT_AT": "", "OMP_NUM_THREADS": "1"})
    child = subprocess.Popen([sys.executable, "-m", "assistant", "scheduler"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and svc.repo.publications(job)[0].status != "published":
            assert child.poll() is None, child.communicate()
            time.sleep(0.2)
        assert svc.repo.publications(job)[0].status == "published"
        assert (svc.settings.outbox_dir / job / "post.md").is_file()
    finally:
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "Traceback" not in err


def test_unschedule_before_approval_publishes_at_once(runner: JobRunner) -> None:
    svc = runner.svc
    job, _ = _to_final_review(runner)
    conv = Conversation(svc, runner)
    try:
        [dropped] = conv.handle(ALICE, f"/unschedule {job}")
        assert "once approved it is published at once" in dropped.text
        assert "has no schedule" in conv.handle(ALICE, f"/schedule {job}")[0].text
    finally:
        conv.close()
    assert runner.resume(job, APPROVE).status == "published"
    [row] = svc.repo.publications(job)
    assert row.status == "published"
    assert (svc.settings.outbox_dir / job / "post.md").is_file()


def test_a_moved_platform_keeps_its_time_and_the_others_are_planned(
        tmp_path: Path) -> None:
    from assistant.tools.publishing.schedule import propose, replan_one
    from storage import Database, JobRepository

    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    repo = JobRepository(db)
    repo.create_job("job-0000f00d", title="t", content_type="short", user="alice")
    settings = _settings()  # mode 'now'
    moved = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    replan_one(repo, "job-0000f00d", "youtube", moved)  # /schedule before the review
    slots = propose(settings, repo, "job-0000f00d", ["tiktok", "youtube"], NOW)
    assert [(s.platform, s.publish_at, s.reason) for s in slots] == [
        ("tiktok", NOW, "once approved"), ("youtube", moved, "moved by you")]
    # the review node runs again on resume: the same plan
    assert propose(settings, repo, "job-0000f00d", ["tiktok", "youtube"], NOW) == slots
    # a platform no longer targeted: planned afresh
    assert [s.platform for s in propose(settings, repo, "job-0000f00d", ["tiktok"], NOW)] == [
        "tiktok"]
    db.dispose()
