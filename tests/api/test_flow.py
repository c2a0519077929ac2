"""The issue's Done-when flow through the REST API, on a real server over the real embedded
pipeline: a key from `assistant apikey create alice`, a blog about how tides work started
with POST /api/v1/jobs, polled to its script review, approved to the final review, approved
to publication; the live event stream saw each stage; another user's key gets 404."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from assistant.api import create_api
from assistant.api.keys import ApiKeys
from assistant.app.studio import Services
from assistant.config import Settings
from tests.api.conftest import HEARTBEAT_S, LiveServer, close, conversation
from tests.api.sse import SseReader
from tests.cli.helpers import assistant

WAIT_S = 300


def poll(http: httpx.Client, job_id: str, headers: dict[str, str], until: set[str],
         stage: str | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert job.status_code == 200, job.text
        body: dict[str, Any] = job.json()
        if body["status"] in until and (stage is None or (body["review"] or {}).get(
                "stage") == stage):
            return body
        assert body["status"] in ("pending", "processing", "review"), body
        time.sleep(0.2)
    raise AssertionError(f"{job_id} never reached {until} {stage or ''}")


def test_a_blog_through_the_api_from_request_to_publication(tides_kb: Services,
                                                             settings: Settings) -> None:
    made = assistant(settings.resolved_data_dir, "apikey", "create", "alice")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("aal_") and len(key) > 40
    alice = {"Authorization": f"Bearer {key}"}
    bob = {"Authorization": f"Bearer {ApiKeys(tides_kb.db).create('bob')[1]}"}

    conv = conversation(tides_kb)
    app = create_api(conv, heartbeat_s=HEARTBEAT_S, serve_media=True)
    try:
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http, \
                SseReader(server.url + "/api/v1/events", alice) as alice_events, \
                SseReader(server.url + "/api/v1/events", bob) as bob_events:
            assert alice_events.status == 200
            assert alice_events.content_type.startswith("text/event-stream")
            created = http.post("/api/v1/jobs", headers=alice,
                                json={"topic": "how tides work", "format": "blog"})
            assert created.status_code == 201, created.text
            job_id = created.json()["id"]
            assert created.json()["status"] in ("pending", "processing")

            script = poll(http, job_id, alice, {"review"}, "review_script")
            assert script["review"]["actions"] == ["approve", "revise", "reject"]
            assert script["review"]["preview_markdown"].startswith("#")
            assert {s["name"] for s in script["steps"]} >= {"brief", "research", "write"}
            _another_user_gets_404(http, bob, job_id)

            approved = http.post(f"/api/v1/jobs/{job_id}/approve", headers=alice)
            assert approved.status_code == 200, approved.text
            poll(http, job_id, alice, {"review"}, "review_final")
            assert http.post(f"/api/v1/jobs/{job_id}/approve",
                             headers=alice).status_code == 200
            done = poll(http, job_id, alice, {"published"})
            assert len(done["publications"]) == 1 and done["completed_at"]

            _artifacts_download_by_signed_link(http, alice, job_id, done)
            listed = http.get("/api/v1/content", headers=alice).json()
            assert [i["job"]["id"] for i in listed["items"]] == [job_id]
            pubs = http.get(f"/api/v1/content/{job_id}/publications", headers=alice).json()
            assert pubs["items"][0]["job_id"] == job_id
            assert http.get("/api/v1/users/usage", headers=alice).json()["jobs"] == 1
            assert http.get("/api/v1/users/usage", headers=bob).json()["jobs"] == 0
            logs = http.get(f"/api/v1/jobs/{job_id}/logs", headers=alice)
            assert logs.status_code == 200 and logs.json()["job_id"] == job_id

            _events_tell_each_stage(alice_events, job_id)
            assert not [f for f in bob_events.got() if job_id in str(f.data)]
            assert "heartbeat" in bob_events.comments  # nothing for bob: heartbeats only
            _reconnecting_replays_what_was_missed(server.url, alice, alice_events, job_id)
    finally:
        close(conv, app)


def _another_user_gets_404(http: httpx.Client, bob: dict[str, str], job_id: str) -> None:
    for method, path in [("GET", ""), ("POST", "/approve"), ("POST", "/reject"),
                         ("POST", "/cancel"), ("GET", "/logs"), ("GET", "/artifacts")]:
        answer = http.request(method, f"/api/v1/jobs/{job_id}{path}", headers=bob)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"]["code"] == "not_found"
    assert http.get(f"/api/v1/content/{job_id}/publications", headers=bob).status_code == 404
    assert http.get("/api/v1/jobs", headers=bob).json()["items"] == []


def _artifacts_download_by_signed_link(http: httpx.Client, alice: dict[str, str],
                                       job_id: str, job: dict[str, Any]) -> None:
    listing = http.get(f"/api/v1/jobs/{job_id}/artifacts", headers=alice).json()["items"]
    assert {a["name"] for a in listing} >= {"script.md", "research.json"}
    assert [a["name"] for a in listing] == [a["name"] for a in job["artifacts"]]
    script = next(a for a in listing if a["name"] == "script.md")
    got = http.get(script["download_url"])  # the link itself is the credential
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == script["sha256"]
    forged = script["download_url"].replace("/script.md", "/research.json")
    assert http.get(forged).status_code == 404


def _events_tell_each_stage(events: SseReader, job_id: str) -> None:
    events.wait_for("job:completed", job__id=job_id, job__status="published")
    frames = [f for f in events.got() if f.data.get("job_id", f.data.get("job", {}).get(
        "id")) == job_id]
    names = [f.event for f in frames]
    assert names[0] == "job:created" and names[-1] == "job:completed", names
    steps = [f.data["step"]["name"] for f in frames if f.event == "job:step_completed"]
    assert {"brief", "research", "write", "publish"} <= set(steps), steps
    stages = [f.data["stage"] for f in frames if f.event == "notification:approval_required"]
    assert stages == ["review_script", "review_final"]
    assert "job:failed" not in names
    ids = [f.id for f in frames]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))  # type: ignore[type-var]


def _reconnecting_replays_what_was_missed(url: str, alice: dict[str, str], seen: SseReader,
                                          job_id: str) -> None:
    first_review = seen.wait_for("notification:approval_required", stage="review_script")
    assert first_review.id is not None
    with SseReader(url + "/api/v1/events",
                   {**alice, "Last-Event-ID": str(first_review.id)}) as again:
        again.wait_for("job:completed", job__id=job_id)
        replayed = again.got()
    assert replayed and all(f.id is not None and f.id > first_review.id for f in replayed)
    assert replayed[0].event != "job:created"
