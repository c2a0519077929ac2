"""``/billing``: a Stripe Checkout link for a tier, the Customer Portal link, and the
endpoint Stripe posts its events to (verified by signature, not by API key).

Errors: billing off (no Stripe key) is 503 ``billing_off``; Stripe unreachable or refusing is
502 ``stripe_unavailable``; a forged or stale Stripe signature is 400 ``bad_signature`` and
changes nothing. Quota refusals anywhere in the API are 402 ``quota_exceeded``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, ErrorBody, register_error
from assistant.api.keys import Principal
from assistant.app.billing import BadSignature, Billing, BillingOff, BillingUnavailable
from assistant.app.quotas import QuotaExceeded
from assistant.app.webhook_delivery import WebhookRefused

register_error(QuotaExceeded, 402, "quota_exceeded")
register_error(BillingOff, 503, "billing_off")
register_error(BillingUnavailable, 502, "stripe_unavailable")
register_error(BadSignature, 400, "bad_signature")
register_error(WebhookRefused, 422, "webhook_refused")

router = APIRouter(prefix="/billing", tags=["billing"])
_OFF: dict[int | str, dict[str, object]] = {
    502: {"model": ErrorBody, "description": "Stripe did not answer or refused"},
    503: {"model": ErrorBody, "description": "Billing is off on this server"}}
MAX_STRIPE_BODY = 512 * 1024  # Stripe events are a few kB; refuse what no event is


class CheckoutRequest(BaseModel):
    tier: str = Field(max_length=50, description="starter, pro or enterprise")


class LinkOut(BaseModel):
    url: str


class StripeReceipt(BaseModel):
    received: bool = True
    event_id: str
    type: str
    handled: bool = Field(description="False for a type we do not act on, or a duplicate.")
    duplicate: bool


def _billing(ctx: ApiContext) -> Billing:
    return Billing(ctx.svc.db, ctx.settings)


@router.post("/checkout", response_model=LinkOut, responses={**COMMON_ERRORS, **_OFF},
             summary="A Stripe Checkout link that subscribes you to a tier")
async def checkout(body: CheckoutRequest, who: Principal = Depends(principal),
                   ctx: ApiContext = Depends(context)) -> LinkOut:
    url = await asyncio.to_thread(_billing(ctx).checkout, who.profile_id, body.tier.lower())
    return LinkOut(url=url)


@router.post("/portal", response_model=LinkOut, responses={**COMMON_ERRORS, **_OFF},
             summary="A Stripe Customer Portal link to manage your subscription")
async def portal(who: Principal = Depends(principal),
                 ctx: ApiContext = Depends(context)) -> LinkOut:
    return LinkOut(url=await asyncio.to_thread(_billing(ctx).portal, who.profile_id))


@router.post("/stripe/webhook", response_model=StripeReceipt,
             responses={400: {"model": ErrorBody, "description": "Bad or stale signature"},
                        503: _OFF[503]},
             summary="Stripe's events (signed with the endpoint's secret)")
async def stripe_webhook(request: Request, ctx: ApiContext = Depends(context),
                         stripe_signature: str | None = Header(None)) -> StripeReceipt:
    payload = await request.body()
    if len(payload) > MAX_STRIPE_BODY:
        raise BadSignature("the body is too large to be a Stripe event")
    result = await asyncio.to_thread(_billing(ctx).handle_webhook, payload, stripe_signature)
    return StripeReceipt(event_id=result.event_id, type=result.type, handled=result.handled,
                         duplicate=result.duplicate)
