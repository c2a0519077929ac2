"""Tiers and quotas: the PRD's limits as data, the job quota checked before a job exists,
counted per calendar month, the operator's CLI exempt, the other limits, the meters."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from sqlalchemy import func, select, update

from assistant.app.quotas import (
    GB,
    QuotaExceeded,
    check_api_request,
    check_members,
    check_platforms,
    check_webhooks,
    format_usage,
    load_tiers,
    meter_render,
    usage_for,
    usage_report,
)
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief
from assistant.llm import ChatModel
from storage.models import (
    ApiUsage,
    ContentArtifact,
    Job,
    JobStep,
    Organization,
    OrganizationMember,
    Profile,
)
from tests.fakes import FRAMING, ScriptedChat


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    quotas=True)


def create(svc: Services, user: str, n: int, *, operator: bool = False) -> list[str]:
    runner = JobRunner(svc, operator=operator)
    try:
        return [runner.create(Brief.create(f"tides {i}", "blog", user=user)) for i in range(n)]
    finally:
        runner.close()


def set_tier(svc: Services, user: str, tier: str) -> None:
    with svc.db.session() as s:
        s.execute(update(Profile).where(Profile.username == user)
                  .values(subscription_tier=tier))


def jobs(svc: Services) -> int:
    with svc.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


def test_the_tiers_are_the_prds() -> None:
    tiers = load_tiers()
    assert list(tiers) == ["free", "starter", "pro", "enterprise"]
    free, starter, pro, enterprise = tiers.values()
    assert (free.jobs_per_month, free.storage_bytes, free.platforms) == (5, 1 * GB, 2)
    assert (starter.jobs_per_month, starter.storage_bytes, starter.platforms) == (50, 10 * GB, 5)
    assert (pro.jobs_per_month, pro.storage_bytes, pro.platforms) == (200, 100 * GB, None)
    assert pro.team_members == 5 and pro.webhooks is None and pro.api_requests_per_day is None
    assert free.webhooks == starter.webhooks == 0  # webhooks from pro
    assert enterprise.jobs_per_month is None and enterprise.storage_bytes is None


def test_the_sixth_job_is_refused_before_it_exists(svc: Services) -> None:
    create(svc, "ada", 5)
    with pytest.raises(QuotaExceeded) as refused:
        create(svc, "ada", 1)
    assert refused.value.limit == "jobs_per_month"
    assert refused.value.user_message == (
        "your free plan includes 5 jobs a month and you have used 5: upgrade to starter: "
        'send /upgrade starter in chat or POST /api/v1/billing/checkout {"tier": "starter"}')
    assert jobs(svc) == 5
    create(svc, "bob", 1)  # one user's quota is theirs alone
    set_tier(svc, "ada", "starter")
    create(svc, "ada", 1)
    assert jobs(svc) == 7


def test_the_month_turns_over(svc: Services) -> None:
    create(svc, "ada", 5)
    last_month = datetime.now(UTC).replace(day=1) - timedelta(days=3)
    with svc.db.session() as s:
        s.execute(update(ApiUsage).values(created_at=last_month))
    create(svc, "ada", 5)  # last month's five do not count
    assert usage_for(svc.db, svc.repo.ensure_user("ada")).jobs == 5


def test_the_operators_cli_is_not_limited_but_is_counted(svc: Services) -> None:
    create(svc, "ada", 7, operator=True)
    assert jobs(svc) == 7
    assert usage_for(svc.db, svc.repo.ensure_user("ada")).jobs == 7
    with pytest.raises(QuotaExceeded):
        create(svc, "ada", 1)


def test_without_billing_nothing_is_enforced(tmp_path: Path) -> None:
    plain = Settings(_env_file=None, data_dir=tmp_path / "d", seed_sample_kb=False)
    svc = Services.create(plain)
    try:
        create(svc, "ada", 7)
        assert jobs(svc) == 7
        usage = usage_for(svc.db, svc.repo.ensure_user("ada"), plain)
        assert not usage.enforced and "not enforced" in format_usage(usage)
    finally:
        svc.close()


def test_storage_over_the_tier_refuses_new_jobs(svc: Services) -> None:
    [job_id] = create(svc, "ada", 1)
    with svc.db.session() as s:
        s.add(ContentArtifact(job_id=job_id, step="assemble", type="video", name="big.mp4",
                              file_path=f"{job_id}/big.mp4", file_size=GB + 1,
                              mime_type="video/mp4", sha256="0" * 64))
    with pytest.raises(QuotaExceeded, match="1 GB of storage"):
        create(svc, "ada", 1)


def test_webhooks_members_and_platforms(svc: Services) -> None:
    ada = svc.repo.ensure_user("ada")
    with pytest.raises(QuotaExceeded, match="does not include outgoing webhooks"):
        check_webhooks(svc.db, svc.settings, ada)
    set_tier(svc, "ada", "pro")
    check_webhooks(svc.db, svc.settings, ada)

    check_platforms(svc.db, svc.settings, ada, connected=10)  # pro: unlimited
    set_tier(svc, "ada", "free")
    check_platforms(svc.db, svc.settings, ada, connected=1)
    with pytest.raises(QuotaExceeded, match="2 connected platforms"):
        check_platforms(svc.db, svc.settings, ada, connected=2)

    with svc.db.session() as s:
        org = Organization(name="Tides", slug="tides", owner_id=uuid.UUID(ada))
        s.add(org)
        s.flush()
        org_id = str(org.id)
    with pytest.raises(QuotaExceeded, match="1 team members"):  # free: the owner alone
        check_members(svc.db, svc.settings, org_id)
    set_tier(svc, "ada", "pro")
    with svc.db.session() as s:
        for n in range(3):
            member = uuid.UUID(svc.repo.ensure_user(f"member{n}"))
            s.add(OrganizationMember(organization_id=uuid.UUID(org_id), user_id=member))
    check_members(svc.db, svc.settings, org_id)  # 4 people, room for a fifth
    with svc.db.session() as s:
        s.add(OrganizationMember(organization_id=uuid.UUID(org_id),
                                 user_id=uuid.UUID(svc.repo.ensure_user("member9"))))
    with pytest.raises(QuotaExceeded, match="5 team members"):
        check_members(svc.db, svc.settings, org_id)


def test_render_time_is_metered_once_per_job(svc: Services) -> None:
    [job_id] = create(svc, "ada", 1)
    with svc.db.session() as s:
        for order, (name, ms) in enumerate([("research", 900), ("visuals", 1500),
                                            ("voice", 2500), ("assemble", 4000)]):
            s.add(JobStep(job_id=job_id, step_order=order, name=name, status="completed",
                          duration_ms=ms))
    meter_render(svc.db, job_id)
    meter_render(svc.db, job_id)  # a resumed job settles again: the same row
    usage = usage_for(svc.db, svc.repo.ensure_user("ada"), svc.settings)
    assert usage.render_seconds == 8.0 and usage.jobs == 1
    report = usage_report(svc, "ada")
    assert report["tier"] == "free" and report["jobs"] == 1
    assert report["limits"]["jobs_per_month"] == 5
    assert report["metered"]["render_seconds"] == 8.0


def test_api_requests_per_day(svc: Services) -> None:
    ada = svc.repo.ensure_user("ada")
    allowed = load_tiers()["free"].api_requests_per_day
    assert allowed is not None
    with svc.db.session() as s:
        for _ in range(allowed - 1):
            s.add(ApiUsage(user_id=uuid.UUID(ada), endpoint="/api/v1/jobs", method="GET",
                           status_code=200))
        s.add(ApiUsage(user_id=uuid.UUID(ada), endpoint="meter/jobs/job-1", method="METER",
                       status_code=200))  # a meter is not a request
    check_api_request(svc.db, svc.settings, ada)
    with svc.db.session() as s:
        s.add(ApiUsage(user_id=uuid.UUID(ada), endpoint="/api/v1/jobs", method="GET",
                       status_code=200))
    with pytest.raises(QuotaExceeded, match=f"{allowed} API requests a day"):
        check_api_request(svc.db, svc.settings, ada)
    set_tier(svc, "ada", "pro")
    check_api_request(svc.db, svc.settings, ada)


class CountingChat(ScriptedChat):
    """The scripted framing replies, each reporting the tokens it used (as real models do)."""

    def _generate(self, messages: list[BaseMessage], stop: Any = None,
                  run_manager: Any = None, **kw: Any) -> ChatResult:
        result = super()._generate(messages, stop, run_manager, **kw)
        message = result.generations[0].message
        usage = UsageMetadata(input_tokens=30, output_tokens=12, total_tokens=42)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(
            content=message.content, usage_metadata=usage))])


def test_model_tokens_are_metered_per_job_even_when_jobs_share_the_model(
        tides_kb: Services) -> None:
    svc = tides_kb
    chat = ChatModel(CountingChat(replies=[json.dumps(FRAMING)], prompts=[]), "fake",
                     "scripted", "prompt")
    svc.set_chat(chat)
    runner = JobRunner(svc)
    try:
        briefs = [Brief.create("how tides work", "blog", user=u) for u in ("ada", "bob")]
        ids = [runner.create(b) for b in briefs]
        threads = [threading.Thread(target=runner.start, args=(i, b))
                   for i, b in zip(ids, briefs, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        runner.close()
    used = {u: usage_for(svc.db, svc.repo.ensure_user(u)).tokens for u in ("ada", "bob")}
    assert chat.usage["calls"] > 0 and all(n > 0 and n % 42 == 0 for n in used.values())
    assert sum(used.values()) == chat.usage["input"] + chat.usage["output"]
