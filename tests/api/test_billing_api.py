"""Billing, quotas and webhooks through the REST API: a free user's sixth job is 402
``quota_exceeded`` with the upgrade line; Checkout comes from the Stripe stand-in; a locally
signed checkout.session.completed posted to the Stripe endpoint moves them to starter and the
job goes through; a forged signature is 400 and changes nothing; webhooks are registered
(their secret shown once), listed, refused for private URLs, and another user's are 404."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from assistant.api import create_api
from assistant.api.keys import ApiKeys
from assistant.app.studio import Services
from assistant.config import Settings
from storage.models import Profile
from tests.api.conftest import HEARTBEAT_S, Api, close, conversation
from tests.app.stripe_standin import (
    API_KEY,
    PRICES,
    WEBHOOK_SECRET,
    StripeStandIn,
    stripe_event,
    stripe_signature,
)
from tests.app.webhook_receiver import Receiver

JOB = {"topic": "how tides work", "format": "blog"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
                    stripe_price_starter=PRICES["starter"], stripe_price_pro=PRICES["pro"])


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStandIn]:
    server = StripeStandIn()
    monkeypatch.setattr(stripe, "api_base", server.url)
    yield server
    server.close()


def tier_of(svc: Services, username: str) -> str:
    with svc.db.session() as s:
        return str(s.scalar(select(Profile.subscription_tier)
                            .where(Profile.username == username)))


def signed(kind: str, obj: Mapping[str, Any], *, secret: str = WEBHOOK_SECRET
           ) -> tuple[str, dict[str, str]]:
    payload = stripe_event(kind, obj)
    return payload, {"Stripe-Signature": stripe_signature(payload, secret),
                     "Content-Type": "application/json"}


def test_sixth_job_402_then_checkout_then_starter_and_the_job_goes_through(
        idle_api: Api, standin: StripeStandIn) -> None:
    api, alice = idle_api, idle_api.auth("alice")
    for _ in range(5):
        assert api.client.post("/api/v1/jobs", headers=alice, json=JOB).status_code == 201
    refused = api.client.post("/api/v1/jobs", headers=alice, json=JOB)
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "5 jobs a month" in error["message"] and "/api/v1/billing/checkout" in error["message"]

    usage = api.client.get("/api/v1/users/usage", headers=alice).json()
    assert usage["tier"] == "free" and usage["jobs"] == 5
    assert usage["limits"]["jobs_per_month"] == 5

    checkout = api.client.post("/api/v1/billing/checkout", headers=alice,
                               json={"tier": "starter"})
    assert checkout.status_code == 200
    assert checkout.json()["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    profile_id = api.conv.svc.repo.ensure_user("alice")
    assert standin.requests[-1][1]["client_reference_id"] == profile_id

    completed = {"object": "checkout.session", "client_reference_id": profile_id,
                 "customer": "cus_alice", "subscription": "sub_alice",
                 "metadata": {"tier": "starter"}}
    payload, headers = signed("checkout.session.completed", completed, secret="whsec_forged")
    forged = api.client.post("/api/v1/billing/stripe/webhook", content=payload,
                             headers=headers)
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "bad_signature"
    assert tier_of(api.conv.svc, "alice") == "free"
    assert api.client.post("/api/v1/jobs", headers=alice, json=JOB).status_code == 402

    payload, headers = signed("checkout.session.completed", completed)
    answer = api.client.post("/api/v1/billing/stripe/webhook", content=payload,
                             headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["handled"] is True and answer.json()["duplicate"] is False
    again = api.client.post("/api/v1/billing/stripe/webhook", content=payload, headers=headers)
    assert again.json()["duplicate"] is True
    assert tier_of(api.conv.svc, "alice") == "starter"

    assert api.client.post("/api/v1/jobs", headers=alice, json=JOB).status_code == 201
    portal = api.client.post("/api/v1/billing/portal", headers=alice)
    assert portal.json()["url"].startswith("https://billing.stripe.com/p/session/")


def test_stripe_endpoint_refuses_unsigned_bodies(idle_api: Api) -> None:
    body = json.dumps({"id": "evt_x", "type": "checkout.session.completed"})
    answer = idle_api.client.post("/api/v1/billing/stripe/webhook", content=body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_signature"
    assert idle_api.client.post("/api/v1/billing/checkout", json={"tier": "pro"}
                                ).status_code == 401  # an API key is needed for checkout


def test_webhooks_through_the_api(idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api, alice, bob = idle_api, idle_api.auth("alice"), idle_api.auth("bob")
    hook = {"url": "http://127.0.0.1:9/hooks", "events": ["job.completed"]}
    free = api.client.post("/api/v1/webhooks", headers=alice, json=hook)
    assert free.status_code == 402 and free.json()["error"]["code"] == "quota_exceeded"

    with api.conv.svc.db.session() as s:
        s.execute(update(Profile).where(Profile.username == "alice")
                  .values(subscription_tier="pro"))
    private = api.client.post("/api/v1/webhooks", headers=alice, json=hook)
    assert private.status_code == 422 and private.json()["error"]["code"] == "webhook_refused"

    monkeypatch.setattr(api.conv.svc.settings, "webhook_allow_private", True)
    created = api.client.post("/api/v1/webhooks", headers=alice, json=hook)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["secret"].startswith("whsec_") and made["events"] == ["job.completed"]
    listed = api.client.get("/api/v1/webhooks", headers=alice).json()
    assert [h["id"] for h in listed] == [made["id"]] and "secret" not in listed[0]

    path = f"/api/v1/webhooks/{made['id']}"
    assert api.client.get(f"{path}/deliveries", headers=alice).json() == []
    assert api.client.get(f"{path}/deliveries", headers=bob).status_code == 404
    assert api.client.delete(path, headers=bob).status_code == 404
    assert api.client.delete(path, headers=alice).status_code == 204
    assert api.client.get("/api/v1/webhooks", headers=alice).json() == []
    unknown = api.client.post("/api/v1/webhooks", headers=alice,
                              json={"url": "http://127.0.0.1:9/", "events": ["job.nope"]})
    assert unknown.status_code == 422


def test_export_and_delete_me(idle_api: Api) -> None:
    api, alice = idle_api, idle_api.auth("alice")
    job_id = api.client.post("/api/v1/jobs", headers=alice, json=JOB).json()["id"]
    exported = api.client.get("/api/v1/users/me/export", headers=alice)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as zf:
        assert [j["id"] for j in json.loads(zf.read("rows/jobs.json"))] == [job_id]
        keys = json.loads(zf.read("rows/api_keys.json"))
        assert keys and all(k["key_hash"] == "[withheld]" for k in keys)

    wrong = api.client.request("DELETE", "/api/v1/users/me", headers=alice,
                               json={"confirm": "bob"})
    assert wrong.status_code == 422 and '"confirm": "alice"' in wrong.json()["error"]["message"]
    done = api.client.request("DELETE", "/api/v1/users/me", headers=alice,
                              json={"confirm": "alice"})
    assert done.status_code == 200, done.text
    assert done.json()["jobs"] == 1 and done.json()["rows"]["profiles"] == 1
    # the key went with the account; bob's stays
    assert api.client.get("/api/v1/jobs", headers=alice).status_code == 401
    assert api.client.get("/api/v1/jobs", headers=api.auth("bob")).status_code == 200


def test_a_webhook_registered_through_the_api_gets_job_completed_from_the_server(
        tides_kb: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Done-when line: a blog approved to publication through the API; the server's own
    delivery worker (started with the API) sends one job.completed whose signature verifies."""
    svc = tides_kb
    monkeypatch.setattr(svc.settings, "webhook_allow_private", True)
    receiver = Receiver()
    conv = conversation(svc)  # the real runner: the job runs
    app = create_api(conv, heartbeat_s=HEARTBEAT_S)
    try:
        with TestClient(app) as client:
            alice = {"Authorization": f"Bearer {ApiKeys(svc.db).create('alice')[1]}"}
            with svc.db.session() as s:
                s.execute(update(Profile).where(Profile.username == "alice")
                          .values(subscription_tier="pro"))
            made = client.post("/api/v1/webhooks", headers=alice,
                               json={"url": receiver.url, "events": ["job.completed"]}).json()
            job_id = client.post("/api/v1/jobs", headers=alice, json=JOB).json()["id"]
            for stage in ("review_script", "review_final"):
                _wait_for(client, alice, job_id, stage)
                assert client.post(f"/api/v1/jobs/{job_id}/approve",
                                   headers=alice).status_code == 200
            _wait_for(client, alice, job_id, None)
            assert receiver.wait(1), "no delivery arrived"
            time.sleep(0.5)
            assert len(receiver.got) == 1  # one event, one delivery
            got = receiver.got[0]
            expected = "sha256=" + hmac.new(made["secret"].encode(), got["body"],
                                            hashlib.sha256).hexdigest()
            assert hmac.compare_digest(expected, got["headers"]["X-AgenticAI-Signature"])
            assert json.loads(got["body"])["data"]["job"]["id"] == job_id
            [delivery] = client.get(f"/api/v1/webhooks/{made['id']}/deliveries",
                                    headers=alice).json()
            assert delivery["status"] == "delivered" and delivery["event"] == "job.completed"
            assert delivery["id"] == got["headers"]["X-AgenticAI-Delivery"]
    finally:
        close(conv, app)
        receiver.close()


def _wait_for(client: TestClient, headers: dict[str, str], job_id: str,
              stage: str | None) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if stage is None and job["status"] == "published":
            return
        if stage is not None and (job.get("review") or {}).get("stage") == stage:
            return
        assert job["status"] in ("pending", "processing", "review"), job
        time.sleep(0.2)
    raise AssertionError(f"{job_id} never reached {stage or 'published'}")
