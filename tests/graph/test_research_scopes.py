"""Another person's upload never reaches your script: the research step, end to end on the
real knowledge base, embedder, encyclopedia and relevance gate, reads only the shared
sources, the job owner's own and the job's workspace's. Uploads go in through the
conversation, as a chat user sends them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from assistant.app.events import ChannelUser
from assistant.app.studio import Services
from assistant.content import Brief, Research
from assistant.errors import NoSourcesError
from assistant.graph.nodes import research
from assistant.graph.state import PipelineState
from storage.models import Job, Organization, OrganizationMember
from tests.app.conftest import conversation_over

TOPIC = "why sourdough rises"
BOBS_PAGE = ("# Sourdough\n\nSourdough bread rises without commercial yeast. A starter of flour "
             "and water collects wild yeast and lactic acid bacteria, whose carbon dioxide "
             "makes the dough rise.\n")
ADA, BOB = ChannelUser("web", "ada"), ChannelUser("telegram", "4242")


def job_for(svc: Services, job_id: str, user: str, org: uuid.UUID | None = None
            ) -> PipelineState:
    brief = Brief.create(TOPIC, "short", user=user)
    svc.repo.create_job(job_id, title=brief.topic, content_type=brief.format, user=user,
                        input_data=brief.model_dump())
    if org is not None:
        with svc.db.session() as s:
            row = s.get(Job, job_id)
            assert row is not None
            row.organization_id = org
    return {"job_id": job_id, "brief": brief}


def sources_of(svc: Services, job_id: str) -> Research:
    return Research.model_validate_json(svc.objects.read(job_id, "research.json"))


def read_documents(svc: Services, job_id: str) -> str:
    return " ".join(svc.objects.read(job_id, a.name).decode() for a in svc.objects.list(job_id)
                    if a.name.startswith("research/"))


def test_bobs_upload_never_reaches_adas_job(tides_kb: Services, tmp_path: Path) -> None:
    page = tmp_path / "sourdough.md"
    page.write_text(BOBS_PAGE, encoding="utf-8")
    with conversation_over(tides_kb) as conv:
        added = conv.add_files(BOB, [page])
        assert [e.text for e in added] == ["✓ sourdough.md: added, 1 passages"]
        bob = conv.username(BOB)
        assert "Sourdough" in conv.handle(BOB, "/kb")[0].text
        assert "Sourdough" not in conv.handle(ADA, "/kb")[0].text
        assert "Sourdough" in conv.handle(BOB, "/kb sourdough starter")[0].text
        assert "Sourdough" not in conv.handle(ADA, "/kb sourdough starter")[0].text

    bobs = job_for(tides_kb, "job-b0b00001", bob)
    found = research.run(bobs, tides_kb)["research"]
    assert isinstance(found, Research)
    assert [s.title for s in found.sources if s.provider == "kb"] == ["Sourdough"]

    adas = job_for(tides_kb, "job-ada00001", "ada")  # the same searches: cached for bob's
    with pytest.raises(NoSourcesError):
        research.run(adas, tides_kb)
    stored = sources_of(tides_kb, "job-ada00001")
    assert stored.findings == [] and stored.sources == []
    assert "Sourdough bread rises" not in read_documents(tides_kb, "job-ada00001")
    assert "Sourdough bread rises" in read_documents(tides_kb, "job-b0b00001")


def test_a_workspace_upload_reaches_the_workspace_jobs_only(tides_kb: Services,
                                                            tmp_path: Path) -> None:
    svc = tides_kb
    ada, cyd = uuid.UUID(svc.repo.ensure_user("ada")), uuid.UUID(svc.repo.ensure_user("cyd"))
    with svc.db.session() as s:
        org = Organization(name="Bakery", slug="bakery", owner_id=ada)
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=cyd, role="member"))
        org_id = org.id
    page = tmp_path / "sourdough.md"
    page.write_text(BOBS_PAGE, encoding="utf-8")
    [added] = svc.kb().add([page], scope=f"org:{org_id}")
    assert added.status == "added"

    in_workspace = job_for(svc, "job-c0d00001", "cyd", org_id)
    found = research.run(in_workspace, svc)["research"]
    assert isinstance(found, Research)
    assert [s.title for s in found.sources if s.provider == "kb"] == ["Sourdough"]
    private = job_for(svc, "job-c0d00002", "cyd")  # cyd's own job is not the workspace's
    with pytest.raises(NoSourcesError):
        research.run(private, svc)
