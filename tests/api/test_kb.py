"""The knowledge base through the API, on the real knowledge base (files, manifest, Qdrant
local mode, the offline embedder): a file added is its user's own, listed for them only,
deleted by them only; shared documents are listed and cannot be deleted here."""

from __future__ import annotations

import pytest

from assistant.api.routes import kb as kb_routes
from tests.api.conftest import Api
from tests.conftest import SAMPLE_KB


def test_add_list_delete_a_document(idle_api: Api) -> None:
    client, alice, bob = idle_api.client, idle_api.auth("alice"), idle_api.auth("bob")
    shared = idle_api.conv.svc.kb().add([SAMPLE_KB / "how-tides-work.md"])[0]
    page = (SAMPLE_KB / "spring-and-neap-tides.md").read_bytes()

    added = client.post("/api/v1/kb", headers=alice,
                        files={"file": ("neap.md", page, "text/markdown")})
    assert added.status_code == 201, added.text
    doc = added.json()
    assert doc["status"] == "added" and doc["chunks"] > 0 and doc["name"] == "neap.md"
    again = client.post("/api/v1/kb", headers=alice,
                        files={"file": ("neap.md", page, "text/markdown")})
    assert again.status_code == 201 and again.json()["status"] == "unchanged"

    mine = {s["id"]: s for s in client.get("/api/v1/kb", headers=alice).json()["items"]}
    assert mine[doc["id"]]["scope"] == "personal" and mine[doc["id"]]["name"] == "neap.md"
    assert mine[shared.source_id]["scope"] == "shared"
    theirs = {s["id"] for s in client.get("/api/v1/kb", headers=bob).json()["items"]}
    assert theirs == {shared.source_id}

    assert client.delete(f"/api/v1/kb/{doc['id']}", headers=bob).status_code == 404
    refused = client.delete(f"/api/v1/kb/{shared.source_id}", headers=alice)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    deleted = client.delete(f"/api/v1/kb/{doc['id']}", headers=alice)
    assert deleted.status_code == 200 and deleted.json() == {"id": doc["id"], "deleted": True}
    left = {s["id"] for s in client.get("/api/v1/kb", headers=alice).json()["items"]}
    assert left == {shared.source_id}
    assert client.delete(f"/api/v1/kb/{doc['id']}", headers=alice).status_code == 404


def test_bad_uploads_are_json_errors(idle_api: Api) -> None:
    client, alice = idle_api.client, idle_api.auth("alice")
    exe = client.post("/api/v1/kb", headers=alice,
                      files={"file": ("tool.exe", b"MZ\x90\x00" * 64, "application/octet-stream")})
    assert exe.status_code == 422 and exe.json()["error"]["code"] == "invalid_request"
    assert exe.json()["error"]["message"].startswith("tool.exe: ")
    fake_pdf = client.post("/api/v1/kb", headers=alice,
                           files={"file": ("paper.pdf", b"not a pdf at all", "application/pdf")})
    assert fake_pdf.status_code == 422
    no_file = client.post("/api/v1/kb", headers=alice)
    assert no_file.status_code == 422 and "file" in no_file.json()["error"]["message"]
    assert client.get("/api/v1/kb", headers=alice).json()["items"] == []


def test_an_upload_over_the_limit_is_413(idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_routes, "MAX_UPLOAD_BYTES", 1024)
    big = idle_api.client.post("/api/v1/kb", headers=idle_api.auth("alice"),
                               files={"file": ("big.md", b"# Tides\n" + b"a " * 2048,
                                               "text/markdown")})
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    assert idle_api.client.get("/api/v1/kb", headers=idle_api.auth("alice")).json()["items"] == []


def test_uploads_keep_the_per_person_limits(idle_api: Api) -> None:
    """The API's uploads count against the same limits as a chat upload's."""
    idle_api.conv.svc.settings.kb_uploads_per_hour = 1
    client, alice = idle_api.client, idle_api.auth("alice")
    first = client.post("/api/v1/kb", headers=alice,
                        files={"file": ("one.md", b"# One\n\nTides rise twice a day.\n",
                                        "text/markdown")})
    assert first.status_code == 201, first.text
    second = client.post("/api/v1/kb", headers=alice,
                         files={"file": ("two.md", b"# Two\n\nNeap tides are small.\n",
                                         "text/markdown")})
    assert second.status_code == 429 and second.json()["error"]["code"] == "rate_limited"
    assert "in the last hour" in second.json()["error"]["message"]
    names = [s["name"] for s in client.get("/api/v1/kb", headers=alice).json()["items"]]
    assert names == ["one.md"]
