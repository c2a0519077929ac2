"""Knowledge-base scopes and per-scope limits on the real store (Qdrant local mode, the real
embedder): a person's or a workspace's documents are listed, searched and fetched only by
those who may read them; adding is rate-limited and size-capped per scope."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.app.studio import Services
from assistant.errors import FetchRefused
from assistant.tools.knowledge.scopes import (
    SHARED,
    job_scopes,
    org_scope,
    user_scope,
    visible_scopes,
)
from assistant.tools.knowledge.uploads import ScopedUploads
from assistant.tools.research.kb import KnowledgeBaseRetriever
from storage.models import Job, Organization, OrganizationMember
from storage.vectors import SCOPE_KEY
from tests.conftest import SAMPLE_KB

SOURDOUGH = ("# Sourdough\n\nSourdough bread rises without commercial yeast. A starter of flour "
             "and water collects wild yeast and lactic acid bacteria, whose carbon dioxide "
             "makes the dough rise.\n")


def page(tmp_path: Path, name: str, text: str = SOURDOUGH) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def workspace(svc: Services, slug: str, owner: str, members: dict[str, str]) -> str:
    with svc.db.session() as s:
        org = Organization(name=slug.title(), slug=slug,
                           owner_id=uuid.UUID(svc.repo.ensure_user(owner)))
        s.add(org)
        s.flush()
        for name, role in members.items():
            s.add(OrganizationMember(organization_id=org.id, role=role,
                                     user_id=uuid.UUID(svc.repo.ensure_user(name))))
        return str(org.id)


def test_a_scoped_source_is_seen_only_in_its_scope(svc: Services, tmp_path: Path) -> None:
    kb = svc.kb()
    ada, bob = user_scope(svc.repo.ensure_user("ada")), user_scope(svc.repo.ensure_user("bob"))
    [mine] = kb.add([page(tmp_path, "sourdough.md")], scope=bob)
    [same] = kb.add([page(tmp_path, "sourdough.md")], scope=ada)
    [shared] = kb.add([SAMPLE_KB / "how-tides-work.md"])
    assert mine.status == same.status == "added" and mine.source_id != same.source_id
    assert [s.id for s in kb.sources([SHARED, ada])] == [same.source_id, shared.source_id]
    assert {s.id for s in kb.sources()} == {mine.source_id, same.source_id, shared.source_id}

    hits = kb.search("why does sourdough bread rise", k=10, scopes=[SHARED, ada])
    assert hits and {h.source_id for h in hits} <= {same.source_id, shared.source_id}
    assert hits[0].source_id == same.source_id
    assert mine.source_id not in {h.source_id for h in kb.search("sourdough", k=50,
                                                                 scopes=[SHARED])}
    # the same name in another scope replaces nothing there
    assert kb.add([page(tmp_path, "sourdough.md", SOURDOUGH + "\nMore.\n")],
                  scope=ada)[0].status == "updated"
    assert mine.source_id in {s.id for s in kb.sources([bob])}


def test_documents_from_before_scopes_are_shared(svc: Services, tmp_path: Path) -> None:
    kb = svc.kb()
    [old] = kb.add([page(tmp_path, "sourdough.md")])
    # what a knowledge base written before scopes holds: no scope in the manifest or payload
    body = json.loads(kb.manifest_path.read_text())
    for entry in body["sources"]:
        del entry["scope"], entry["size"]
    kb.manifest_path.write_text(json.dumps(body))
    store = kb._open()
    client = store._connected().client
    client.delete_payload(kb.collection, keys=[SCOPE_KEY], points=store_filter_all())
    assert kb.search("sourdough", scopes=[SHARED]) == []  # unscoped points match no scope
    kb.close()

    again = type(kb)(svc.settings, kb.embedder)  # a new process's knowledge base
    try:
        assert [s.id for s in again.sources([SHARED])] == [old.source_id]
        assert [h.source_id for h in again.search("sourdough", scopes=[SHARED])][:1] == [
            old.source_id]
        assert again.held_bytes(SHARED) == len(SOURDOUGH.encode())
    finally:
        again.close()
    svc._lazy.pop("kb", None)


def store_filter_all() -> Any:
    from qdrant_client import models

    return models.Filter(must=[])


def test_who_sees_what(svc: Services) -> None:
    ada, cyd = svc.repo.ensure_user("ada"), svc.repo.ensure_user("cyd")
    acme = workspace(svc, "acme", "ada", {"cyd": "member"})
    assert visible_scopes(svc.db, ada) == [SHARED, user_scope(ada), org_scope(acme)]
    assert visible_scopes(svc.db, cyd) == [SHARED, user_scope(cyd), org_scope(acme)]
    svc.repo.create_job("job-0000aaaa", title="t", content_type="blog", user="cyd")
    assert job_scopes(svc.db, "job-0000aaaa") == [SHARED, user_scope(cyd)]  # private: no acme
    with svc.db.session() as s:
        row = s.get(Job, "job-0000aaaa")
        assert row is not None
        row.organization_id = uuid.UUID(acme)
    assert job_scopes(svc.db, "job-0000aaaa") == [SHARED, user_scope(cyd), org_scope(acme)]
    assert job_scopes(svc.db, "job-ffffffff") == [SHARED]


def test_a_retriever_for_a_job_never_fetches_another_scope(svc: Services,
                                                           tmp_path: Path) -> None:
    kb = svc.kb()
    bob = user_scope(svc.repo.ensure_user("bob"))
    [theirs] = kb.add([page(tmp_path, "sourdough.md")], scope=bob)
    retriever = KnowledgeBaseRetriever(kb, scopes=[SHARED])
    assert retriever.search("sourdough bread") == []
    bobs = KnowledgeBaseRetriever(kb, scopes=[SHARED, bob])
    [hit] = bobs.search("sourdough bread")
    assert hit.extra["source_id"] == theirs.source_id
    assert bobs.fingerprint() != retriever.fingerprint()  # the research cache tells them apart
    with pytest.raises(FetchRefused):  # a hit handed over from elsewhere is not read
        retriever.fetch(hit)
    assert "Sourdough bread rises" in bobs.fetch(hit).text


def test_uploads_are_rate_limited_per_scope(svc: Services, tmp_path: Path) -> None:
    svc.settings.kb_uploads_per_hour = 2
    now = [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    uploads = ScopedUploads(svc.kb(), svc.db, svc.settings, now=lambda: now[0])
    ada, bob = user_scope(svc.repo.ensure_user("ada")), user_scope(svc.repo.ensure_user("bob"))
    files = [page(tmp_path, f"p{i}.md", SOURDOUGH + f"\nPage {i}.\n") for i in range(4)]
    first = uploads.add(files[:3], ada, "your knowledge base")
    assert [r.status for r in first] == ["added", "added", "error"]
    assert first[2].message == ("your knowledge base has added 2 files in the last hour, the "
                                "limit: p2.md was not added, send it again in 60 min")
    assert uploads.add(files[:1], ada, "yours")[0].status == "unchanged"  # held: not counted
    assert uploads.add(files[3:], bob, "bob's")[0].status == "added"  # another scope
    now[0] += timedelta(minutes=61)
    assert uploads.add(files[2:3], ada, "yours")[0].status == "added"
    assert [s.title for s in svc.kb().sources([ada])] == ["Sourdough"] * 3


def test_uploads_are_size_capped_per_scope_and_per_file(svc: Services, tmp_path: Path) -> None:
    svc.settings.kb_workspace_max_mb = 500 / 2**20  # 500 bytes: two small pages fit
    svc.settings.kb_file_max_mb = 400 / 2**20
    uploads = ScopedUploads(svc.kb(), svc.db, svc.settings)
    ada = user_scope(svc.repo.ensure_user("ada"))
    small = [page(tmp_path, f"s{i}.md", SOURDOUGH + f"\n{i}\n") for i in range(3)]
    big = page(tmp_path, "big.md", SOURDOUGH + "x " * 300)
    results = uploads.add([big, *small], ada, "your knowledge base")
    assert [r.status for r in results] == ["error", "added", "added", "error"]
    assert results[0].message == ("big.md is 1 KB; a knowledge-base file may be at most 1 KB: "
                                  "split it or send a shorter one")
    assert results[3].message == ("your knowledge base holds 1 KB of its 1 KB: s2.md (1 KB) "
                                  "does not fit, remove sources first")
    assert uploads.add([big], SHARED, "the shared knowledge base")[0].status == "added"


def test_an_upload_kept_under_a_temporary_name_is_added_and_refused_by_its_own(
        svc: Services, tmp_path: Path) -> None:
    svc.settings.kb_file_max_mb = 100 / 2**20
    uploads = ScopedUploads(svc.kb(), svc.db, svc.settings)
    ada = user_scope(svc.repo.ensure_user("ada"))
    temp = page(tmp_path, "upload")  # what the REST API writes the request body to
    refused = uploads.add_file(temp, ada, "your knowledge base", name="sourdough.md")
    assert refused.message.startswith("sourdough.md is 1 KB;"), refused.message
    svc.settings.kb_file_max_mb = 25.0
    added = uploads.add_file(temp, ada, "your knowledge base", name="sourdough.md")
    assert added.status == "added" and svc.kb().names([ada]) == {
        added.source_id: "sourdough.md"}
