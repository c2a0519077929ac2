"""Jobs through the API over the real conversation, runner and storage, with a runner that
does not execute jobs (the pipeline itself is tests/api/test_flow.py): pagination and
filters, cancel, decisions refused outside a review, and every bad input a JSON error with
the right status code and no traceback."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from assistant.api.keys import ApiKeys
from assistant.content import TOPIC_MAX_CHARS
from assistant.infra.ratelimit import MemoryRateLimiter
from storage.models import Job, Organization, OrganizationMember
from tests.api.conftest import Api


def create(api: Api, user: str = "alice", **body: Any) -> dict[str, Any]:
    made = api.client.post("/api/v1/jobs", headers=api.auth(user),
                           json={"topic": "how tides work", **body})
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def error_of(answer: Any, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert "Traceback" not in answer.text and "/work/" not in answer.text
    message: str = body["error"]["message"]
    return message


def test_a_job_is_created_from_the_same_values_as_chat(idle_api: Api) -> None:
    job = create(idle_api, format="short", style="academic", seconds=30, depth="deep",
                 lang="fr-FR")
    brief = job["brief"]
    assert (brief["topic"], brief["format"], brief["style"], brief["target_seconds"],
            brief["target_words"], brief["depth"], brief["language"]) == (
        "how tides work", "short", "academic", 30, 75, "deep", "fr")
    assert (job["format"], job["style"], job["review"], job["publications"]) == (
        "short", "academic", None, [])
    assert idle_api.conv.svc.repo.get_job(job["id"]) is not None
    chosen = create(idle_api, publish_to=["Outbox", "outbox"])["brief"]
    assert chosen["platforms"] == ["outbox"]


def test_pages_and_filters(idle_api: Api) -> None:
    ids = [create(idle_api, format=f)["id"] for f in ("blog", "short", "blog")]
    auth = idle_api.auth("alice")
    first = idle_api.client.get("/api/v1/jobs?limit=2", headers=auth).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:2] and first["next_offset"] == 2
    rest = idle_api.client.get("/api/v1/jobs?limit=2&offset=2", headers=auth).json()
    assert [j["id"] for j in rest["items"]] == [ids[0]] and rest["next_offset"] is None
    shorts = idle_api.client.get("/api/v1/jobs?format=short", headers=auth).json()["items"]
    assert [j["id"] for j in shorts] == [ids[1]]
    idle_api.client.post(f"/api/v1/jobs/{ids[2]}/cancel", headers=auth)
    cancelled = idle_api.client.get("/api/v1/jobs?status=cancelled", headers=auth).json()
    assert [j["id"] for j in cancelled["items"]] == [ids[2]]


def test_cancel_then_nothing_more(idle_api: Api) -> None:
    job = create(idle_api)
    auth = idle_api.auth("alice")
    cancelled = idle_api.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = idle_api.client.delete(f"/api/v1/jobs/{job['id']}", headers=auth)
    assert "already cancelled" in error_of(again, 409, "conflict")
    approve = idle_api.client.post(f"/api/v1/jobs/{job['id']}/approve", headers=auth)
    assert "not waiting for a review" in error_of(approve, 409, "conflict")


def test_decisions_outside_a_review_are_409(idle_api: Api) -> None:
    job = create(idle_api)  # stays pending: this runner runs nothing
    auth = idle_api.auth("alice")
    for path, body in [("approve", None), ("reject", None), ("revise", {"notes": "shorter"})]:
        answer = idle_api.client.post(f"/api/v1/jobs/{job['id']}/{path}", headers=auth,
                                      json=body)
        assert "is not waiting for a review (it is pending)" in error_of(answer, 409,
                                                                         "conflict")


@pytest.mark.parametrize(("body", "says"), [
    ({"topic": "x", "format": "novel"}, "format: Input should be 'short'"),
    ({"topic": "x", "style": "angry"}, "style: Input should be"),
    ({"topic": ""}, "topic: String should have at least 1 character"),
    ({"topic": "   \u200b "}, "topic: the topic is empty"),
    ({"topic": "_-_"}, "topic: the topic is empty"),
    ({"topic": "t" * (TOPIC_MAX_CHARS + 1)}, "topic: String should have at most"),
    ({"topic": "x", "seconds": 0}, "seconds: Input should be greater than 0"),
    ({"topic": "x", "words": "many"}, "words: Input should be a valid integer"),
    ({"topic": "x", "depth": "bottomless"}, "depth: Input should be"),
    ({"topic": "x", "lang": "!!"}, "lang: not a language code"),
    ({"topic": "x", "lang": "xx-"}, "lang: not a language code"),
    ({"topic": "x", "publish_to": ["myspace"]}, "unknown platform 'myspace'"),
    ({"topic": "x", "publish_to": [""]}, "publish_to.0: String should have at least"),
    ({}, "topic: Field required"),
    ([], "Input should be a valid dictionary"),
])
def test_bad_job_requests_are_422(idle_api: Api, body: Any, says: str) -> None:
    answer = idle_api.client.post("/api/v1/jobs", headers=idle_api.auth("alice"), json=body)
    assert says in error_of(answer, 422, "invalid_request")
    assert idle_api.conv.svc.repo.list_jobs(10) == []


def test_other_bad_requests_are_json_errors(idle_api: Api) -> None:
    client, auth = idle_api.client, idle_api.auth("alice")
    not_json = client.post("/api/v1/jobs", headers={**auth, "Content-Type": "application/json"},
                           content=b"{not json")
    error_of(not_json, 422, "invalid_request")
    error_of(client.get("/api/v1/jobs?limit=0", headers=auth), 422, "invalid_request")
    error_of(client.get("/api/v1/jobs?status=lost", headers=auth), 422, "invalid_request")
    error_of(client.get("/api/v1/jobs/job-00000000", headers=auth), 404, "not_found")
    error_of(client.get("/api/v1/jobs/" + "j" * 300, headers=auth), 404, "not_found")
    error_of(client.get("/api/v1/nothing-here", headers=auth), 404, "not_found")
    error_of(client.put("/api/v1/jobs", headers=auth), 405, "method_not_allowed")
    job = create(idle_api)
    empty = client.post(f"/api/v1/jobs/{job['id']}/revise", headers=auth,
                        json={"notes": "  "})
    assert "say what should change" in error_of(empty, 422, "invalid_request")


def test_an_unexpected_failure_is_a_500_without_detail(idle_api: Api,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    job = create(idle_api)

    def broken(job_id: str) -> list[Any]:
        raise RuntimeError("secret detail /srv/data/assistant.db")

    monkeypatch.setattr(idle_api.conv.svc.repo, "list_steps", broken)
    with TestClient(idle_api.app, raise_server_exceptions=False) as client:
        answer = client.get(f"/api/v1/jobs/{job['id']}", headers=idle_api.auth("alice"))
    message = error_of(answer, 500, "internal")
    assert "secret" not in answer.text and "went wrong on our side" in message


def test_too_many_job_starts_are_429(idle_api: Api) -> None:
    burst = 3  # and one more a minute: nothing refills during the test
    idle_api.app.state.api.limiter = MemoryRateLimiter(burst, 1)
    answers = [idle_api.client.post("/api/v1/jobs", headers=idle_api.auth("bob"),
                                    json={"topic": f"tides {i}"}) for i in range(burst + 1)]
    assert [a.status_code for a in answers[:burst]] == [201] * burst
    assert "slow down" in error_of(answers[-1], 429, "rate_limited")
    assert int(answers[-1].headers["retry-after"]) >= 1
    # alice has her own allowance
    assert idle_api.client.post("/api/v1/jobs", headers=idle_api.auth("alice"),
                                json={"topic": "tides"}).status_code == 201


def test_too_many_decisions_are_429(idle_api: Api) -> None:
    job = create(idle_api)
    idle_api.conv.svc.repo.set_status(job["id"], "review")
    limiter = MemoryRateLimiter(1, 1)
    limiter.acquire("alice")  # alice's last token, spent in a chat
    idle_api.conv._limiter = limiter  # the conversation's own limit holds for decisions
    answer = idle_api.client.post(f"/api/v1/jobs/{job['id']}/approve",
                                  headers=idle_api.auth("alice"))
    assert "slow down" in error_of(answer, 429, "rate_limited")


def test_a_reviewer_sees_and_decides_the_workspace_jobs_only(idle_api: Api) -> None:
    repo, client = idle_api.conv.svc.repo, idle_api.client
    keys = ApiKeys(idle_api.conv.svc.db)
    carol = {"Authorization": f"Bearer {keys.create('carol')[1]}"}
    private = create(idle_api)["id"]
    shared = create(idle_api)["id"]
    with idle_api.conv.svc.db.session() as s:
        org = Organization(name="Studio", slug="studio", owner_id=UUID(repo.ensure_user("alice")))
        s.add(org)
        s.flush()
        s.add(OrganizationMember(organization_id=org.id, user_id=UUID(repo.ensure_user("bob")),
                                 role="reviewer"))
        s.add(OrganizationMember(organization_id=org.id,
                                 user_id=UUID(repo.ensure_user("carol")), role="member"))
        s.get(Job, shared).organization_id = org.id  # type: ignore[union-attr]
    bob = idle_api.auth("bob")
    assert [j["id"] for j in client.get("/api/v1/jobs", headers=bob).json()["items"]] == [shared]
    assert client.get(f"/api/v1/jobs/{shared}", headers=bob).status_code == 200
    error_of(client.get(f"/api/v1/jobs/{private}", headers=bob), 404, "not_found")
    # a member who does not review sees neither
    assert client.get("/api/v1/jobs", headers=carol).json()["items"] == []
    error_of(client.get(f"/api/v1/jobs/{shared}", headers=carol), 404, "not_found")
    cancelled = client.post(f"/api/v1/jobs/{shared}/cancel", headers=bob)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
