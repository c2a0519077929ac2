"""Outgoing webhooks: a real job's events become signed deliveries to a receiver on
127.0.0.1; deliveries are durable rows retried with exponential backoff (time moved by an
injected clock, a "restart" is a new worker); SSRF refusals at registration and delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.app.webhook_delivery import (
    BACKOFF_BASE_S,
    DeliveryWorker,
    WebhookRefused,
    backoff_s,
    resolve_target,
)
from assistant.app.webhooks import Webhooks, enqueue
from assistant.config import Settings
from assistant.content import Brief, ReviewDecision
from storage.models import WebhookDelivery
from tests.app.webhook_receiver import Receiver
from tests.fakes import FRAMING, scripted

APPROVE = ReviewDecision(action="approve", by="tester")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    webhook_allow_private=True, webhook_max_attempts=4)


def verify(secret: str, body: bytes, header: str) -> bool:
    """What the README's receiver does."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_job_completed_is_delivered_once_and_its_signature_verifies(
        tides_kb: Services, receiver: Receiver) -> None:
    svc = tides_kb
    svc.set_chat(scripted(FRAMING))
    owner = svc.repo.ensure_user("ada")
    hooks = Webhooks(svc.db, svc.settings)
    info, secret = hooks.register(owner, receiver.url, ["job.completed"])
    assert secret.startswith("whsec_") and all(h.url == receiver.url
                                               for h in hooks.of_user(owner))
    runner = JobRunner(svc)
    try:
        brief = Brief.create("how tides work", "blog", user="ada")
        job_id = runner.create(brief)
        assert runner.start(job_id, brief).status == "review"
        assert runner.resume(job_id, APPROVE).status == "review"
        assert runner.resume(job_id, APPROVE).status == "published"
    finally:
        runner.close()
    worker = DeliveryWorker(svc.db, svc.settings)
    assert worker.run_due() == 1
    assert worker.run_due() == 0  # delivered: nothing is due again

    assert len(receiver.got) == 1
    request = receiver.got[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert verify(secret, request["body"], headers["x-agenticai-signature"])
    assert not verify("whsec_other", request["body"], headers["x-agenticai-signature"])
    body = json.loads(request["body"])
    assert body["event"] == headers["x-agenticai-event"] == "job.completed"
    assert body["data"]["job"]["id"] == job_id and body["data"]["status"] == "published"
    assert abs(body["created"] - time.time()) < 600 and body["id"].startswith("evt_")
    assert uuid.UUID(headers["x-agenticai-delivery"]).version == 4
    assert request["path"] == "/hooks/agenticai"

    [delivery] = hooks.deliveries(owner, info.id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "delivered", 0, 200)
    assert delivery.id == headers["x-agenticai-delivery"]


def test_events_reach_only_the_hooks_that_want_them_for_that_workspace(
        svc: Services, receiver: Receiver) -> None:
    ada, bob = svc.repo.ensure_user("ada"), svc.repo.ensure_user("bob")
    hooks = Webhooks(svc.db, svc.settings)
    created_hook, _ = hooks.register(ada, receiver.url, ["job.created", "job.failed"])
    bobs_hook, _ = hooks.register(bob, receiver.url, ["job.created"])
    runner = JobRunner(svc)
    try:
        job_id = runner.create(Brief.create("how tides work", "blog", user="ada"))
    finally:
        runner.close()
    assert enqueue(svc.db, job_id, "approval.required", {}) == 0  # nobody asked for it
    assert [d.event for d in hooks.deliveries(ada, created_hook.id)] == ["job.created"]
    assert hooks.deliveries(bob, bobs_hook.id) == []  # ada's job is not bob's workspace
    with pytest.raises(Exception, match="no webhook"):
        hooks.deliveries(bob, created_hook.id)  # another user's webhook is not found
    hooks.delete(ada, created_hook.id)
    assert [h.id for h in hooks.of_user(ada)] == []
    with pytest.raises(Exception, match="unknown event"):
        hooks.register(ada, receiver.url, ["job.exploded"])


def test_a_failed_delivery_survives_a_restart_and_backs_off_exponentially(
        svc: Services, receiver: Receiver) -> None:
    ada = svc.repo.ensure_user("ada")
    hooks = Webhooks(svc.db, svc.settings)
    info, secret = hooks.register(ada, receiver.url, ["job.created"])
    receiver.status = 503
    runner = JobRunner(svc)
    try:
        job_id = runner.create(Brief.create("tides", "blog", user="ada"))
    finally:
        runner.close()
    clock = Clock()  # now: the delivery is due
    # written before any attempt: the row is there, pending, before a worker ever ran
    [pending] = hooks.deliveries(ada, info.id)
    assert pending.status == "pending" and pending.attempts == 0

    first = DeliveryWorker(svc.db, svc.settings, clock=clock)
    assert first.run_due() == 1
    [failed_once] = hooks.deliveries(ada, info.id)
    assert (failed_once.status, failed_once.attempts, failed_once.response_status) == (
        "pending", 1, 503)
    assert failed_once.next_attempt_at is not None
    assert failed_once.next_attempt_at.timestamp() == pytest.approx(clock.now + BACKOFF_BASE_S)
    assert first.run_due() == 0  # not due yet

    clock.now += backoff_s(1)
    assert first.run_due() == 1  # second attempt fails too: the wait doubles
    [failed_twice] = hooks.deliveries(ada, info.id)
    assert failed_twice.attempts == 2 and failed_twice.next_attempt_at is not None
    assert failed_twice.next_attempt_at.timestamp() == pytest.approx(
        clock.now + 2 * BACKOFF_BASE_S)

    # a restart: a new worker in a new "process" picks the row up when it is due
    receiver.status = 200
    clock.now += backoff_s(2)
    restarted = DeliveryWorker(svc.db, svc.settings, clock=clock)
    assert restarted.run_due() == 1
    [delivered] = hooks.deliveries(ada, info.id)
    assert delivered.status == "delivered" and delivered.attempts == 2
    bodies = {r["body"] for r in receiver.got}
    ids = {r["headers"]["X-AgenticAI-Delivery"] for r in receiver.got}
    assert len(receiver.got) == 3 and len(bodies) == 1 and len(ids) == 1  # the same delivery
    assert json.loads(next(iter(bodies)))["data"]["job"]["id"] == job_id


def test_a_delivery_gives_up_after_its_attempts(svc: Services) -> None:
    ada = svc.repo.ensure_user("ada")
    with socket.socket() as closed:  # a port where nothing listens
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    hooks = Webhooks(svc.db, svc.settings)
    info, _ = hooks.register(ada, dead_url, ["job.created"])
    runner = JobRunner(svc)
    try:
        runner.create(Brief.create("tides", "blog", user="ada"))
    finally:
        runner.close()
    clock = Clock()
    worker = DeliveryWorker(svc.db, svc.settings, clock=clock)
    for attempt in range(1, svc.settings.webhook_max_attempts + 1):
        assert worker.run_due() == 1
        clock.now += backoff_s(attempt)
    assert worker.run_due() == 0
    [gone] = hooks.deliveries(ada, info.id)
    assert gone.status == "failed" and gone.attempts == svc.settings.webhook_max_attempts
    assert gone.error and "could not reach the receiver" in gone.error


def fake_dns(mapping: dict[str, str]) -> Any:
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in mapping:
            raise socket.gaierror(f"unknown host {host}")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (mapping[host], port))]

    return resolve


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.7", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1",
                                     "::ffff:10.0.0.1"])
def test_non_global_addresses_are_refused(address: str) -> None:
    with pytest.raises(WebhookRefused, match="private, loopback or link-local"):
        resolve_target("https://hooks.example.com/in", allow_private=False,
                       resolver=fake_dns({"hooks.example.com": address}))


def test_ssrf_checks_at_registration_and_again_at_delivery(tmp_path: Path) -> None:
    strict = Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False)
    svc = Services.create(strict)
    try:
        ada = svc.repo.ensure_user("ada")
        dns = {"hooks.example.com": "93.184.215.14"}
        hooks = Webhooks(svc.db, strict, resolver=fake_dns(dns))
        with pytest.raises(WebhookRefused):
            Webhooks(svc.db, strict).register(ada, "http://127.0.0.1:8080/x", ["job.created"])
        for url in ("ftp://hooks.example.com/", "http://user:pw@hooks.example.com/",
                    "file:///etc/passwd"):
            with pytest.raises(WebhookRefused):
                hooks.register(ada, url, ["job.created"])
        info, _ = hooks.register(ada, "https://hooks.example.com/in", ["job.created"])
        runner = JobRunner(svc)
        try:
            runner.create(Brief.create("tides", "blog", user="ada"))
        finally:
            runner.close()
        dns["hooks.example.com"] = "10.0.0.5"  # the name now points inside (DNS rebinding)
        worker = DeliveryWorker(svc.db, strict, resolver=fake_dns(dns))
        assert worker.run_due() == 1
        [refused] = hooks.deliveries(ada, info.id)
        assert refused.status == "pending" and refused.response_status is None
        assert refused.error and "10.0.0.5" in refused.error
    finally:
        svc.close()


def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
        svc: Services, receiver: Receiver) -> None:
    """The name is resolved once (to 127.0.0.1 here) and the request carries the URL's host."""
    ada = svc.repo.ensure_user("ada")
    dns = fake_dns({"receiver.test": "127.0.0.1"})
    hooks = Webhooks(svc.db, svc.settings, resolver=dns)
    info, _ = hooks.register(ada, f"http://receiver.test:{receiver.port}/in?x=1",
                             ["job.created"])
    runner = JobRunner(svc)
    try:
        runner.create(Brief.create("tides", "blog", user="ada"))
    finally:
        runner.close()
    assert DeliveryWorker(svc.db, svc.settings, resolver=dns).run_due() == 1
    assert receiver.got[0]["headers"]["Host"] == f"receiver.test:{receiver.port}"
    assert receiver.got[0]["path"] == "/in?x=1"
    with svc.db.session() as s:
        row = s.scalar(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == uuid.UUID(info.id)))
        assert row is not None and row.status == "delivered"


def test_a_workspace_hook_gets_the_workspaces_jobs_only(svc: Services, receiver: Receiver) -> None:
    from sqlalchemy import update

    from storage.models import Job, Organization

    ada = svc.repo.ensure_user("ada")
    with svc.db.session() as s:
        org = Organization(name="Tide Club", slug="tide-club", owner_id=uuid.UUID(ada))
        s.add(org)
        s.flush()
        org_id = org.id
    hooks = Webhooks(svc.db, svc.settings)
    team, _ = hooks.register(ada, receiver.url, ["job.completed"], workspace="tide-club")
    own, _ = hooks.register(ada, receiver.url, ["job.completed"])
    assert team.workspace == "tide-club" and own.workspace is None
    with pytest.raises(Exception, match="no workspace 'someone-elses'"):
        hooks.register(ada, receiver.url, ["job.completed"], workspace="someone-elses")
    runner = JobRunner(svc)
    try:
        personal = runner.create(Brief.create("tides", "blog", user="ada"))
        shared = runner.create(Brief.create("neap tides", "blog", user="ada"))
    finally:
        runner.close()
    with svc.db.session() as s:
        s.execute(update(Job).where(Job.id == shared).values(organization_id=org_id))
    assert enqueue(svc.db, shared, "job.completed", {}) == 1
    assert enqueue(svc.db, personal, "job.completed", {}) == 1
    assert [d.event for d in hooks.deliveries(ada, team.id)] == ["job.completed"]
    assert [d.event for d in hooks.deliveries(ada, own.id)] == ["job.completed"]
    assert DeliveryWorker(svc.db, svc.settings).run_due() == 2
    jobs_seen = sorted(json.loads(r["body"])["data"]["job"]["id"] for r in receiver.got)
    assert jobs_seen == sorted([shared, personal])
