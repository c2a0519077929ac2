"""The analytics loop: metrics pulled on a schedule through the publisher (TikTok's video
query on the local stand-in, with the connected account), /report's chart and summary,
recommendations (none below the minimum, with their evidence above it) offered as the next
brief's defaults, declinable, and the weekly report each workspace gets once a week."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update
from tiktok_standin import TikTokStandIn, Upload

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.app.groups.reports import offer_defaults
from assistant.app.runner import JobRunner
from assistant.app.scheduler import Scheduler
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief
from assistant.tools.publishing.accounts import AccountStore, Owner
from assistant.tools.publishing.analytics import (
    learned_hours,
    platform_reader,
    pull_due,
    recommend,
)
from storage.analytics import AnalyticsRepository
from storage.models import Organization, OrganizationMember, Publication
from tests.fakes import FRAMING, scripted

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ALICE = ChannelUser("web", "alice")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data",
                    seed_sample_kb=False, timezone="Europe/Paris", recommend_min_points=5)


def seed_piece(svc: Services, user: str, fmt: str, platform: str, published_at: datetime,
               views: list[float], *, style: str = "casual", seconds: int | None = None,
               title: str = "How tides work", organization_id: uuid.UUID | None = None) -> str:
    """A published piece with its metrics, one pull a day from the day it went out."""
    job_id = f"job-{uuid.uuid4().hex[:8]}"
    brief = Brief.create(title, fmt, style, seconds=seconds, user=user)  # type: ignore[arg-type]
    svc.repo.create_job(job_id, title=title, content_type=fmt, user=user,
                        input_data=brief.model_dump(mode="json"))
    row = svc.repo.save_publication(job_id, platform, status="published",
                                    location=f"http://127.0.0.1/{job_id}", post_id=job_id,
                                    meta={"title": title})
    with svc.db.session() as s:
        s.execute(update(Publication).where(Publication.id == uuid.UUID(row.id))
                  .values(published_at=published_at))
        if organization_id is not None:
            from storage.models import Job

            s.execute(update(Job).where(Job.id == job_id).values(organization_id=organization_id))
    analytics = AnalyticsRepository(svc.db)
    for day, value in enumerate(views):
        analytics.record(row.id, {"views": value, "likes": value / 10, "comments": value / 100},
                         published_at + timedelta(days=day, hours=1))
    return job_id


def seed_shorts_beat_blogs(svc: Services, user: str = "alice") -> None:
    """Three shorts at 19:00 Paris with ~3x the views of three blogs at 10:00."""
    for day, views in enumerate([3000.0, 3300.0, 2700.0]):
        seed_piece(svc, user, "short", "youtube", T0 + timedelta(days=day, hours=6),
                   [views / 3, views], seconds=45, title=f"Why is the sea salty {day}?")
    for day, views in enumerate([1000.0, 900.0, 1100.0]):
        seed_piece(svc, user, "blog", "wordpress", T0 + timedelta(days=day, hours=-3),
                   [views / 2, views], title=f"Tides explained part {day}")


# --- the pull ---------------------------------------------------------------------------------


@pytest.fixture
def tiktok() -> Iterator[TikTokStandIn]:
    standin = TikTokStandIn()
    standin.start()
    yield standin
    standin.stop()


def test_metrics_are_pulled_through_the_publisher_on_schedule(
        tmp_path: Path, tiktok: TikTokStandIn) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data",
                        secret_key="k" * 32, tiktok_api_url=tiktok.url, tiktok_client_key="tt-key",
                        analytics_interval_s=6 * 3600)
    svc = Services.create(settings)
    try:
        tiktok.uploads["p1"] = Upload(publish_id="p1", mode="direct", size=1, chunk=1, count=1,
                                      video_id="7301234567890")
        tokens = tiktok.issue_tokens()
        owner = Owner.profile(svc.repo.ensure_user("alice"))
        AccountStore.from_settings(settings, svc.db).store(owner, "tiktok", "@alice", tokens)
        job = "job-0000beef"
        svc.repo.create_job(job, title="tides", content_type="short", user="alice")
        svc.repo.save_publication(job, "tiktok", status="published", post_id="7301234567890",
                                  location="https://www.tiktok.com/@alice/video/7301234567890")
        svc.repo.save_publication(job, "outbox", status="published", location="/tmp/x")
        analytics, read = AnalyticsRepository(svc.db), platform_reader(settings, svc.db)

        first = pull_due(analytics, read, T0, settings.analytics_interval_s)
        assert first.no_metrics == ["outbox"]  # files on a disk have no audience
        assert not first.failed and len(first.pulled) == 1
        [piece] = [p for p in analytics.pieces(username="alice") if p.platform == "tiktok"]
        assert {k: v[-1][1] for k, v in piece.series.items()} == {
            "views": 120.0, "likes": 9.0, "comments": 2.0, "shares": 1.0}
        assert ("POST", "/v2/video/query/") in [(m, p.split("?")[0]) for m, p in tiktok.requests]

        assert pull_due(analytics, read, T0 + timedelta(hours=1), 6 * 3600).pulled == {}
        again = pull_due(analytics, read, T0 + timedelta(hours=6), 6 * 3600)
        assert len(again.pulled) == 1  # its next pull, six hours on
        tiktok.stop()  # the platform cannot be reached: one line, tried again next time
        down = pull_due(analytics, read, T0 + timedelta(hours=12), 6 * 3600)
        assert list(down.failed.values()) == [down.failed[next(iter(down.failed))]]
        assert "cannot reach TikTok" in next(iter(down.failed.values()))
        assert len(pull_due(analytics, read, T0 + timedelta(hours=12), 6 * 3600).failed) == 1
    finally:
        svc.close()


# --- /report ------------------------------------------------------------------------------------


@pytest.fixture
def conv(svc: Services) -> Iterator[Conversation]:
    svc.set_chat(scripted(FRAMING))
    runner = JobRunner(svc)
    conversation = Conversation(svc, runner)
    yield conversation
    conversation.close()
    runner.close()


def test_report_is_a_chart_and_a_summary(svc: Services, conv: Conversation) -> None:
    seed_shorts_beat_blogs(svc)
    seed_piece(svc, "bob", "short", "tiktok", T0, [99999.0])  # someone else's: not in it
    chart, text = conv.handle(ALICE, "/report")
    assert chart.kind == "artifact" and chart.mime == "image/png" and chart.job_id is None
    with Image.open(chart.path) as image:
        assert image.format == "PNG" and image.size == (1100, 750)
    assert Path(chart.path).is_relative_to(svc.settings.resolved_data_dir / "reports")
    assert text.kind == "text"
    assert "6 pieces with metrics: 12,000 views" in text.text
    assert "shorts had 3.0x the views of blogs" in text.text
    assert "99,999" not in text.text


def test_report_with_nothing_published_says_so(conv: Conversation) -> None:
    [event] = conv.handle(ALICE, "/report")
    assert event.kind == "text" and "nothing published" in event.text
    assert conv.handle(ALICE, "/report everything")[0].kind == "error"


# --- recommendations and the next brief --------------------------------------------------------


def test_no_recommendation_from_too_few_pieces(svc: Services) -> None:
    for day in range(4):
        seed_piece(svc, "alice", "short", "youtube", T0 + timedelta(days=day), [5000.0])
    advice = recommend(AnalyticsRepository(svc.db).pieces(username="alice"), svc.settings)
    assert advice.recommendations == []
    assert advice.note == "no recommendation yet: 4 of the 5 published pieces with metrics it needs"
    assert learned_hours(AnalyticsRepository(svc.db).pieces(), svc.settings) == {}


def test_recommendations_carry_their_evidence(svc: Services) -> None:
    seed_shorts_beat_blogs(svc)
    advice = recommend(AnalyticsRepository(svc.db).pieces(username="alice"), svc.settings)
    found = {r.aspect: r for r in advice.recommendations}
    assert found["format"].value == "short"
    assert found["format"].evidence == ("shorts had 3.0x the views of blogs (3,000 vs 1,000 on "
                                        "average, 3 vs 3 pieces)")
    assert found["hour"].value == "19:00"  # 18:00 UTC in Paris
    assert found["title"].value == "question"
    assert "style" not in found  # all casual: nothing to compare


def test_the_next_brief_takes_what_did_best_unless_told_or_declined(
        svc: Services, conv: Conversation) -> None:
    seed_shorts_beat_blogs(svc)
    brief = Brief.create("how the moon moves", "blog", user="alice")
    changed, why = offer_defaults(svc, brief, given={"topic"})
    assert (changed.format, changed.target_seconds) == ("short", 45)
    assert why.startswith("From your analytics (6 pieces): shorts had 3.0x the views of blogs")
    assert "/report defaults off" in why
    same, none = offer_defaults(svc, brief, given={"topic", "format"})
    assert (same.format, none) == ("blog", "")  # the person said blog: blog it is

    declined = conv.handle(ALICE, "/report defaults off")[0].text
    assert "next briefs keep the usual defaults" in declined
    assert offer_defaults(svc, brief, given={"topic"}) == (brief, "")
    conv.handle(ALICE, "/report defaults on")
    assert offer_defaults(svc, brief, given={"topic"})[0].format == "short"
    off = svc.settings.model_copy(update={"recommendations": False})
    svc_off = Services(off, svc.db, svc.repo, svc.objects)
    assert offer_defaults(svc_off, brief, given={"topic"}) == (brief, "")


def test_the_brief_confirmation_says_why_in_one_line(svc: Services, conv: Conversation) -> None:
    seed_shorts_beat_blogs(svc)
    [started] = conv.handle(ALICE, "make something about how the moon moves")
    job_id = started.job_id
    assert job_id is not None
    assert "a 45-second casual short about “how the moon moves”" in started.text
    assert started.text.splitlines()[-1].startswith("From your analytics (6 pieces): shorts had")
    conv.handle(ALICE, f"/cancel {job_id}")


# --- the weekly report ----------------------------------------------------------------------


def test_each_workspace_gets_its_weekly_report_once_a_week(svc: Services) -> None:
    seed_shorts_beat_blogs(svc, "alice")
    owner, bob = (uuid.UUID(svc.repo.ensure_user(name)) for name in ("olga", "bob"))
    with svc.db.session() as s:
        org = Organization(name="Tide Team", slug="tide-team", owner_id=owner)
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=bob))
        org_id = org.id
    seed_piece(svc, "bob", "short", "tiktok", T0 + timedelta(days=8), [400.0, 800.0],
               organization_id=org_id)

    monday_10_paris = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = {"now": monday_10_paris - timedelta(minutes=1)}
    sent: list[OutEvent] = []
    loops = [Scheduler(svc, lambda row: None, clock=lambda: clock["now"],  # type: ignore[arg-type,return-value]
                       deliver=sent.append, read_metrics=lambda row: None) for _ in range(2)]
    assert loops[0].run_once().reports_sent == []
    clock["now"] = monday_10_paris
    assert sorted(loops[0].run_once().reports_sent) == sorted(
        [f"organization:{org_id}", "profile:alice"])
    clock["now"] = monday_10_paris + timedelta(minutes=5)
    assert loops[1].run_once().reports_sent == []  # the other loop: already sent
    to = sorted({(e.data["to"], e.kind) for e in sent})
    assert to == [("alice", "artifact"), ("alice", "text"), ("bob", "artifact"), ("bob", "text"),
                  ("olga", "artifact"), ("olga", "text")]
    alice_text = next(e.text for e in sent if e.data["to"] == "alice" and e.kind == "text")
    assert alice_text.startswith("Weekly report to Mon 30 Nov")
    bob_chart = next(e for e in sent if e.data["to"] == "bob" and e.kind == "artifact")
    assert Path(bob_chart.path).is_file()

    sent.clear()
    clock["now"] = monday_10_paris + timedelta(days=7)
    assert len(loops[1].run_once().reports_sent) == 2  # the next week's
    assert all(e.text.startswith("Weekly report to Mon 7 Dec") for e in sent if e.kind == "text")


def test_an_addressed_report_reaches_that_persons_chat(svc: Services, conv: Conversation) -> None:
    got: list[tuple[ChannelUser, OutEvent]] = []
    conv.subscribe("web", lambda user, event: got.append((user, event)))
    seed_shorts_beat_blogs(svc)
    clock = {"now": datetime(2026, 11, 30, 9, 0, tzinfo=UTC)}
    scheduler = Scheduler(svc, lambda row: None, clock=lambda: clock["now"],  # type: ignore[arg-type,return-value]
                          deliver=conv._subs.publish, read_metrics=lambda row: None)
    assert scheduler.run_once().reports_sent == ["profile:alice"]
    assert [(u, e.kind) for u, e in got] == [(ALICE, "artifact"), (ALICE, "text")]


def test_the_weekly_report_crosses_processes_on_the_real_redis_bus(svc: Services) -> None:
    """The scheduler in a worker publishes on Redis; a chat process's conversation gets the
    report for the person it is addressed to (and only them)."""
    import secrets
    import time

    import redis

    from assistant.app.bus import RedisBus, new_origin

    channel = f"test:events:{secrets.token_hex(4)}"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    chat_side = RedisBus(client, channel)
    svc.set_chat(scripted(FRAMING))
    runner = JobRunner(svc)
    conversation = Conversation(svc, runner, bus=chat_side)
    got: list[tuple[ChannelUser, OutEvent]] = []
    conversation.subscribe("web", lambda user, event: got.append((user, event)))
    try:
        seed_shorts_beat_blogs(svc)
        seed_piece(svc, "bob", "blog", "wordpress", T0, [10.0])
        worker_side, origin = RedisBus(client, channel), new_origin()
        scheduler = Scheduler(svc, lambda row: None,  # type: ignore[arg-type,return-value]
                              clock=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
                              deliver=lambda event: worker_side.publish(event, origin),
                              read_metrics=lambda row: None)
        assert sorted(scheduler.run_once().reports_sent) == ["profile:alice", "profile:bob"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 4:
            time.sleep(0.05)
        by_user = sorted((u.external_id, e.kind) for u, e in got)
        assert by_user == [("alice", "artifact"), ("alice", "text"), ("bob", "artifact"),
                           ("bob", "text")]
        alice_chart = next(e for u, e in got if u == ALICE and e.kind == "artifact")
        assert Path(alice_chart.path).is_file() and alice_chart.mime == "image/png"
    finally:
        conversation.close()
        runner.close()
        client.close()


def test_learned_hours_become_the_platforms_best_hours(svc: Services) -> None:
    from assistant.tools.publishing.schedule import plan

    for day, (hour, views) in enumerate([(18, 900.0), (18, 1100.0), (7, 100.0), (7, 120.0),
                                         (12, 400.0)]):
        seed_piece(svc, "alice", "short", "youtube", T0.replace(hour=hour) + timedelta(days=day),
                   [views])
    pieces = AnalyticsRepository(svc.db).pieces(username="alice")
    learned = learned_hours(pieces, svc.settings)
    assert learned == {"youtube": [19, 13]}  # local (Paris) hours, the best first
    settings = svc.settings.model_copy(update={"publish_schedule": "best"})
    [slot] = plan(settings, ["youtube"], datetime(2026, 12, 1, 11, 0, tzinfo=UTC),
                  learned=learned)
    assert slot.publish_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 13:00 in Paris
    assert slot.reason == "YouTube's next best hour (from your analytics)"
