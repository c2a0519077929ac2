"""Export and delete a person's data (PRD 8.2) after a real job ran to publication: the zip
holds their rows, job files and documents (secrets withheld); after the deletion nothing of
theirs remains (rows counted per table, files under the data dir, vectors in the store,
checkpoints), and another person's job and document are untouched. Through chat (/export,
/delete-my-data with its code) and the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from assistant.app.data_rights import Privacy
from assistant.app.events import ChannelUser, OutEvent
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.app.webhooks import Webhooks, enqueue
from assistant.content import Brief, ReviewDecision
from assistant.tools.knowledge.scopes import user_scope
from storage.models import ApiUsage, Base, BillingAccount, IdentityLink, Job, Profile
from tests.app.conftest import conversation_over
from tests.fakes import FRAMING, scripted

REPO = Path(__file__).resolve().parents[2]
APPROVE = ReviewDecision(action="approve", by="tester")
ADA = ChannelUser("web", "ada")
NOTE = "# Ada's tide notes\n\nThe Bay of Fundy has the highest tides in the world, up to 16 m.\n"


def _published_job(svc: Services, user: str) -> str:
    runner = JobRunner(svc)
    try:
        brief = Brief.create("how tides work", "blog", user=user)
        job_id = runner.create(brief)
        assert runner.start(job_id, brief).status == "review"
        assert runner.resume(job_id, APPROVE).status == "review"
        assert runner.resume(job_id, APPROVE).status == "published"
        return job_id
    finally:
        runner.close()


@pytest.fixture
def world(tides_kb: Services, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Ada with a published job, a document, a webhook and its delivery, a billing account
    and a linked Telegram identity; Bob with a job and a document of his own."""
    svc = tides_kb
    svc.set_chat(scripted(FRAMING))
    ada, bob = svc.repo.ensure_user("ada"), svc.repo.ensure_user("bob")
    ada_job = _published_job(svc, "ada")
    bob_job = JobRunner(svc)
    try:
        bobs = bob_job.create(Brief.create("spring tides", "blog", user="bob"))
    finally:
        bob_job.close()
    notes, bobs_notes = tmp_path / "ada-notes.md", tmp_path / "bob-notes.md"
    notes.write_text(NOTE, encoding="utf-8")
    bobs_notes.write_text("# Bob's page\n\nBob Quillfeather logs the neap tides at Zennor.\n")
    [ada_doc] = svc.kb().add([notes], scope=user_scope(ada))
    [bob_doc] = svc.kb().add([bobs_notes], scope=user_scope(bob))
    svc.settings.webhook_allow_private = True
    Webhooks(svc.db, svc.settings).register(ada, "http://127.0.0.1:9/hook", ["job.completed"])
    assert enqueue(svc.db, ada_job, "job.completed", {"status": "published"}) == 1
    with svc.db.session() as s:
        s.add(BillingAccount(profile_id=uuid.UUID(ada), stripe_customer_id="cus_ada"))
        s.add(IdentityLink(channel="telegram", external_id="4242", user_id=uuid.UUID(ada)))
    yield {"svc": svc, "ada": ada, "bob": bob, "ada_job": ada_job, "bob_job": bobs,
           "ada_doc": ada_doc.source_id, "bob_doc": bob_doc.source_id}


def referencing(svc: Services, profile_id: str) -> dict[str, int]:
    """Rows, in every table, whose foreign key names the profile."""
    found: dict[str, int] = {}
    with svc.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table.name == "profiles":
                    n = s.scalar(select(func.count()).select_from(table).where(
                        table.c[fk.parent.name] == uuid.UUID(profile_id)))
                    if n:
                        found[f"{table.name}.{fk.parent.name}"] = int(n)
    return found


def files_naming(root: Path, *needles: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and any(n in str(p) for n in needles)]


def test_export_holds_the_rows_files_and_documents_without_secrets(
        world: dict[str, Any]) -> None:
    svc, job_id = world["svc"], world["ada_job"]
    path = Privacy(svc).export("ada")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        jobs = json.loads(zf.read("rows/jobs.json"))
        assert [j["id"] for j in jobs] == [job_id]  # bob's job is not in ada's export
        profile = json.loads(zf.read("rows/profiles.json"))
        assert [p["username"] for p in profile] == ["ada"]
        hooks = json.loads(zf.read("rows/webhooks.json"))
        assert hooks[0]["secret"] == "[withheld]"
        for table in ("job_steps", "approvals", "content_artifacts", "publications",
                      "webhook_deliveries", "billing_accounts", "identity_links", "api_usage"):
            assert json.loads(zf.read(f"rows/{table}.json")), table
        artifacts = [n for n in names if n.startswith(f"artifacts/{job_id}/")]
        assert any(n.endswith("script.md") for n in artifacts), artifacts
        root = svc.settings.artifacts_dir
        stored = {a.path.relative_to(root).as_posix() for a in svc.objects.list(job_id)}
        assert stored and {f"artifacts/{p}" for p in stored} <= set(names)
        [doc] = [n for n in names if n.startswith("knowledge/")]
        assert zf.read(doc).decode() == NOTE
        assert "README.txt" in names
        everything = b"".join(zf.read(n) for n in names)
    assert b"whsec_" not in everything  # the webhook's secret
    assert b"Quillfeather" not in everything  # bob's document


def test_after_delete_nothing_of_the_user_remains(world: dict[str, Any]) -> None:
    svc, ada, job_id = world["svc"], world["ada"], world["ada_job"]
    data = svc.settings.resolved_data_dir
    kb = svc.kb()
    assert referencing(svc, ada) and files_naming(data, job_id)
    assert kb.count_chunks(world["ada_doc"]) > 0
    runner = JobRunner(svc)
    assert runner.graph.get_state({"configurable": {"thread_id": job_id}}).values
    Privacy(svc).export("ada")  # an export lying around goes too
    feed = (svc.settings.outbox_dir / "feed.xml").read_text()
    assert job_id in feed

    done = Privacy(svc).delete("ada")
    assert done.jobs == 1 and done.knowledge_sources == 1 and done.files > 3
    assert done.rows["jobs"] == 1 and done.rows["profiles"] == 1

    assert referencing(svc, ada) == {}
    with svc.db.session() as s:
        assert s.get(Profile, uuid.UUID(ada)) is None
        assert s.get(Job, job_id) is None
        for table in Base.metadata.sorted_tables:  # rows counted per table
            if "job_id" in table.c:
                left = s.scalar(select(func.count()).select_from(table)
                                .where(table.c.job_id == job_id))
                assert left == 0, table.name
        assert s.scalar(select(func.count()).select_from(ApiUsage)
                        .where(ApiUsage.user_id == uuid.UUID(ada))) == 0
        assert s.execute(text("SELECT count(*) FROM kb_uploads WHERE scope = :s"),
                         {"s": user_scope(ada)}).scalar() == 0
    assert files_naming(data, job_id, "exports/ada", world["ada_doc"]) == []
    assert job_id not in (svc.settings.outbox_dir / "feed.xml").read_text()
    assert kb.count_chunks(world["ada_doc"]) == 0 and kb.entry(world["ada_doc"]) is None
    assert not runner.graph.get_state({"configurable": {"thread_id": job_id}}).values
    runner.close()

    # bob is untouched
    assert svc.repo.get_job(world["bob_job"]) is not None
    assert kb.count_chunks(world["bob_doc"]) > 0
    assert referencing(svc, world["bob"])
    # and "ada" can start afresh: a new, empty profile
    assert svc.repo.ensure_user("ada") != ada


def test_delete_is_refused_while_a_shared_workspace_is_owned(world: dict[str, Any]) -> None:
    from storage.models import Organization, OrganizationMember

    svc, ada = world["svc"], world["ada"]
    with svc.db.session() as s:
        org = Organization(name="Tide Club", slug="tide-club", owner_id=uuid.UUID(ada))
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=uuid.UUID(world["bob"])))
    with pytest.raises(Exception, match="Tide Club, which holds other people"):
        Privacy(svc).delete("ada")
    assert svc.repo.get_job(world["ada_job"]) is not None


def texts(events: list[OutEvent]) -> str:
    return "\n".join(e.text for e in events)


def test_chat_export_and_delete_with_confirmation(tides_kb: Services) -> None:
    with conversation_over(tides_kb) as conv:
        svc = conv.svc
        job_id = JobRunner(svc).create(Brief.create("tides", "blog", user="ada"))
        exported = conv.handle(ADA, "/export")
        assert exported[0].kind == "artifact" and exported[0].mime == "application/zip"
        with zipfile.ZipFile(exported[0].path) as zf:
            assert json.loads(zf.read("rows/jobs.json"))[0]["id"] == job_id

        asked = texts(conv.handle(ADA, "/delete-my-data"))
        code = asked.split("/delete-my-data CONFIRM-")[1].split()[0]
        wrong = conv.handle(ADA, "/delete-my-data CONFIRM-000000")
        assert wrong[0].kind == "error" and "not the one I sent" in wrong[0].text
        assert svc.repo.get_job(job_id) is not None
        # the wrong try spent the code: the right one no longer works either
        spent = conv.handle(ADA, f"/delete-my-data CONFIRM-{code}")
        assert spent[0].kind == "error" and "expired or was never asked" in spent[0].text

        asked = texts(conv.handle(ADA, "/delete-my-data"))
        code = asked.split("/delete-my-data CONFIRM-")[1].split()[0]
        done = texts(conv.handle(ADA, f"/delete-my-data CONFIRM-{code}"))
        assert done.startswith("Deleted: 1 jobs") and svc.repo.get_job(job_id) is None
        assert not Path(exported[0].path).exists()


def test_the_cli_exports_and_deletes(svc: Services) -> None:
    job_id = JobRunner(svc).create(Brief.create("tides", "blog", user="ada"))
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(svc.settings.resolved_data_dir),
           "ASSISTANT_SEED_SAMPLE_KB": "false", "ASSISTANT_CLI_ADMIN": "true"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", "privacy", *args],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=300)

    exported = cli("export", "ada")
    assert exported.returncode == 0, exported.stderr
    zip_path = Path(exported.stdout.strip().splitlines()[-1])
    with zipfile.ZipFile(zip_path) as zf:
        assert json.loads(zf.read("rows/jobs.json"))[0]["id"] == job_id
    refused = cli("delete", "ada")
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert svc.repo.get_job(job_id) is not None
    deleted = cli("delete", "ada", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted ada: 1 jobs" in deleted.stdout and svc.repo.get_job(job_id) is None
    unknown = cli("export", "nobody")
    assert unknown.returncode == 2 and "no data for 'nobody'" in unknown.stderr
