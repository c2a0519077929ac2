"""Stripe billing end to end in chat: a free user's sixth job is refused with the upgrade
link, /upgrade gives a Checkout link from the Stripe stand-in, a locally signed
checkout.session.completed moves them to starter, and the job then goes through; forged,
stale and repeated events change nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from assistant.app.billing import BadSignature, Billing, WebhookResult
from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief
from storage.models import BillingAccount, Job, Profile, StripeEvent
from tests.app.conftest import conversation_over
from tests.app.stripe_standin import (
    API_KEY,
    PRICES,
    WEBHOOK_SECRET,
    StripeStandIn,
    stripe_event,
    stripe_signature,
)

ADA = ChannelUser("telegram", "42", "Ada")
BLOG = "write a blog post about how tides work"


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStandIn]:
    server = StripeStandIn()
    monkeypatch.setattr(stripe, "api_base", server.url)
    yield server
    server.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Billing configured: quotas are enforced (the default when a Stripe key is set)."""
    return Settings(
        _env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
        stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_price_starter=PRICES["starter"], stripe_price_pro=PRICES["pro"],
        upgrade_url="https://studio.example/pricing")


@pytest.fixture
def conv(tides_kb: Services) -> Iterator[Conversation]:
    with conversation_over(tides_kb) as conversation:
        yield conversation


def texts(events: list[OutEvent]) -> str:
    return "\n".join(e.text for e in events)


def use_up_free_jobs(svc: Services, username: str, count: int = 5) -> None:
    """Jobs created this month (created, not run: the quota counts jobs started)."""
    runner = JobRunner(svc)
    try:
        for n in range(count):
            runner.create(Brief.create(f"tides part {n}", "blog", user=username))
    finally:
        runner.close()


def tier_of(svc: Services, username: str) -> str:
    with svc.db.session() as s:
        return str(s.scalar(select(Profile.subscription_tier)
                            .where(Profile.username == username)))


def post_event(billing: Billing, kind: str, obj: Mapping[str, Any],
               event_id: str | None = None, *, secret: str = WEBHOOK_SECRET,
               timestamp: int | None = None) -> WebhookResult:
    payload = stripe_event(kind, obj, event_id)
    return billing.handle_webhook(payload.encode(),
                                  stripe_signature(payload, secret, timestamp))


def test_sixth_job_refused_then_checkout_moves_to_starter_and_it_runs(
        conv: Conversation, standin: StripeStandIn) -> None:
    svc = conv.svc
    username = conv.username(ADA)
    use_up_free_jobs(svc, username)
    with svc.db.session() as s:
        jobs_before = s.scalar(select(func.count()).select_from(Job))

    refused = conv.handle(ADA, BLOG)
    assert [e.kind for e in refused] == ["error"]
    line = refused[0].text
    assert "5 jobs a month" in line and "upgrade to starter" in line
    assert "https://studio.example/pricing" in line and "/upgrade starter" in line
    with svc.db.session() as s:  # refused before anything was created
        assert s.scalar(select(func.count()).select_from(Job)) == jobs_before

    link = texts(conv.handle(ADA, "/upgrade starter"))
    assert "https://checkout.stripe.com/c/pay/cs_test_" in link
    path, form = standin.requests[-1]
    profile_id = svc.repo.ensure_user(username)
    assert path == "/v1/checkout/sessions"
    assert form["mode"] == "subscription" and form["line_items[0][price]"] == PRICES["starter"]
    assert form["client_reference_id"] == profile_id and form["metadata[tier]"] == "starter"

    billing = Billing(svc.db, svc.settings)
    result = post_event(billing, "checkout.session.completed", {
        "id": "cs_test_1", "object": "checkout.session", "client_reference_id": profile_id,
        "customer": "cus_ada", "subscription": "sub_ada", "mode": "subscription",
        "metadata": {"tier": "starter", "profile_id": profile_id}, "status": "complete"})
    assert result.handled
    assert tier_of(svc, username) == "starter"

    started = conv.handle(ADA, BLOG)
    assert started[0].kind == "text" and started[0].text.startswith("Started "), started
    job_id = started[0].job_id
    assert job_id and conv.wait(job_id, 120)
    assert svc.repo.get_job(job_id).status == "review"  # type: ignore[union-attr]
    assert "Plan: starter" in texts(conv.handle(ADA, "/usage"))
    assert "Jobs since" in texts(conv.handle(ADA, "/usage"))


def test_forged_and_stale_signatures_change_nothing(svc: Services) -> None:
    profile_id = svc.repo.ensure_user("ada")
    billing = Billing(svc.db, svc.settings)
    completed = {"client_reference_id": profile_id, "customer": "cus_x",
                 "subscription": "sub_x", "metadata": {"tier": "pro"}}
    with pytest.raises(BadSignature):
        post_event(billing, "checkout.session.completed", completed, secret="whsec_forged")
    with pytest.raises(BadSignature):  # a genuine signature, ten minutes old
        post_event(billing, "checkout.session.completed", completed,
                   timestamp=int(time.time()) - 600)
    with pytest.raises(BadSignature):
        billing.handle_webhook(b'{"id": "evt_1"}', None)
    payload = stripe_event("checkout.session.completed", completed)
    tampered = payload.replace('"pro"', '"enterprise"')
    with pytest.raises(BadSignature):
        billing.handle_webhook(tampered.encode(), stripe_signature(payload))
    assert tier_of(svc, "ada") == "free"
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 0
        assert s.scalar(select(func.count()).select_from(BillingAccount)) == 0


def test_subscription_events_follow_the_price_and_repeats_act_once(svc: Services) -> None:
    profile_id = svc.repo.ensure_user("ada")
    billing = Billing(svc.db, svc.settings)
    completed = {"client_reference_id": profile_id, "customer": "cus_ada",
                 "subscription": "sub_ada", "metadata": {"tier": "starter"}}
    post_event(billing, "checkout.session.completed", completed, "evt_completed")
    assert tier_of(svc, "ada") == "starter"

    subscription = {"id": "sub_ada", "object": "subscription", "customer": "cus_ada",
                    "status": "active",
                    "items": {"object": "list", "data": [{"id": "si_1", "price": {
                        "id": PRICES["pro"], "object": "price"}}]}}
    post_event(billing, "customer.subscription.updated", subscription, "evt_updated")
    assert tier_of(svc, "ada") == "pro"
    # Stripe retries: the same checkout event again must not undo the upgrade to pro
    again = post_event(billing, "checkout.session.completed", completed, "evt_completed")
    assert again.duplicate and tier_of(svc, "ada") == "pro"

    post_event(billing, "invoice.payment_failed",
               {"object": "invoice", "customer": "cus_ada", "subscription": "sub_ada"})
    with svc.db.session() as s:
        account = s.get(BillingAccount, uuid.UUID(profile_id))
        assert account is not None and account.subscription_status == "past_due"
        assert account.payment_failed_at is not None
    assert tier_of(svc, "ada") == "pro"  # Stripe retries the payment first

    post_event(billing, "customer.subscription.deleted", {**subscription, "status": "canceled"})
    assert tier_of(svc, "ada") == "free"
    unknown = post_event(billing, "customer.created", {"id": "cus_other"})
    assert not unknown.handled
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 5


def test_portal_link_and_the_refusals(conv: Conversation, standin: StripeStandIn) -> None:
    svc = conv.svc
    assert "no subscription yet" in texts(conv.handle(ADA, "/billing"))
    profile_id = svc.repo.ensure_user(conv.username(ADA))
    post_event(Billing(svc.db, svc.settings), "checkout.session.completed", {
        "client_reference_id": profile_id, "customer": "cus_ada", "subscription": "sub_1",
        "metadata": {"tier": "starter"}})
    link = texts(conv.handle(ADA, "/billing"))
    assert "https://billing.stripe.com/p/session/" in link
    assert standin.requests[-1] == ("/v1/billing_portal/sessions", {
        "customer": "cus_ada", "return_url": "http://127.0.0.1:8000/"})
    assert "subscription already" in texts(conv.handle(ADA, "/upgrade pro"))
    assert "not sold here" in texts(conv.handle(ADA, "/upgrade enterprise"))
    assert "unknown plan" in texts(conv.handle(ADA, "/upgrade platinum"))
    assert "already" in texts(conv.handle(ADA, "/upgrade starter"))


def test_stripe_unreachable_is_one_line_without_the_key(
        conv: Conversation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    events = conv.handle(ADA, "/upgrade starter")
    assert [e.kind for e in events] == ["error"]
    assert "Stripe did not create the session" in events[0].text
    assert API_KEY not in events[0].text and "\n" not in events[0].text


def test_billing_off_says_so_in_one_line(tmp_path: Path) -> None:
    plain = Settings(_env_file=None, data_dir=tmp_path / "d", seed_sample_kb=False)
    svc = Services.create(plain)
    try:
        with conversation_over(svc) as conversation:
            for command in ("/upgrade", "/billing"):
                events = conversation.handle(ADA, command)
                assert [e.kind for e in events] == ["error"]
                assert events[0].text.startswith("billing is off here")
            usage = texts(conversation.handle(ADA, "/usage"))
            assert "Plan: free (limits are not enforced here)" in usage
        with pytest.raises(Exception, match="webhooks are off"):
            Billing(svc.db, plain).handle_webhook(json.dumps({}).encode(), "t=1,v1=x")
    finally:
        svc.close()
