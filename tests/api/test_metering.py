"""Each authenticated API request is one ``api_usage`` row (the route's template, never the
ids in the path), and a tier's daily request cap refuses the next one with 402."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.api.keys import ApiKeys
from assistant.app.quotas import METER
from assistant.config import Settings
from storage.models import ApiUsage
from tests.api.conftest import Api


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    quotas=True)


def requests_of(api: Api, user: str) -> list[tuple[str, str, int]]:
    profile = uuid.UUID(api.conv.svc.repo.ensure_user(user))
    with api.conv.svc.db.session() as s:
        rows = s.execute(select(ApiUsage.method, ApiUsage.endpoint, ApiUsage.status_code)
                         .where(ApiUsage.user_id == profile, ApiUsage.method != METER)
                         .order_by(ApiUsage.created_at)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_requests_are_counted_by_route(idle_api: Api) -> None:
    client, alice = idle_api.client, idle_api.auth("alice")
    assert client.get("/api/v1/jobs/job-0badc0de", headers=alice).status_code == 404
    assert client.get("/api/v1/jobs?limit=5", headers=alice).status_code == 200
    assert client.get("/api/v1/health").status_code == 200  # no key: nobody to count
    assert client.get("/api/v1/jobs").status_code == 401
    assert requests_of(idle_api, "alice") == [("GET", "/api/v1/jobs/{job_id}", 404),
                                              ("GET", "/api/v1/jobs", 200)]
    assert requests_of(idle_api, "bob") == []


def test_the_free_tier_daily_cap_is_402_with_the_upgrade(idle_api: Api) -> None:
    profile = uuid.UUID(idle_api.conv.svc.repo.ensure_user("alice"))
    with idle_api.conv.svc.db.session() as s:  # 100 requests today already (the free cap)
        s.add_all(ApiUsage(user_id=profile, endpoint="/api/v1/jobs", method="GET",
                           status_code=200) for _ in range(100))
    refused = idle_api.client.get("/api/v1/jobs", headers=idle_api.auth("alice"))
    assert refused.status_code == 402, refused.text
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "100 API requests a day" in error["message"] and "upgrade to starter" in error["message"]
    assert len(requests_of(idle_api, "alice")) == 100  # a refused request is not counted
    assert idle_api.client.get("/api/v1/jobs", headers=idle_api.auth("bob")).status_code == 200
    # a new key changes nothing: the cap is the user's
    other = {"Authorization": f"Bearer {ApiKeys(idle_api.conv.svc.db).create('alice')[1]}"}
    assert idle_api.client.get("/api/v1/jobs", headers=other).status_code == 402
