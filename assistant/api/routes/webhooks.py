"""``/webhooks``: register, list and delete outgoing webhooks; each one's deliveries.

The secret that signs deliveries is in the answer to ``POST /webhooks`` only; the list never
shows it again. Refusals: a URL that resolves to a private address (SSRF) is 422
``webhook_refused``; a tier without webhooks is 402 ``quota_exceeded``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS, ErrorBody
from assistant.api.keys import Principal
from assistant.app.webhooks import EVENTS, DeliveryInfo, WebhookInfo, Webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=COMMON_ERRORS)
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such webhook, or not yours"}}
_REFUSED: dict[int | str, dict[str, object]] = {
    402: {"model": ErrorBody, "description": "Your plan has no (more) webhooks"},
    422: {"model": ErrorBody, "description": "The URL or events are refused"}}


class WebhookCreate(BaseModel):
    url: str = Field(max_length=1000, description="http(s) URL that receives the POSTs.")
    events: list[str] = Field(min_length=1, max_length=len(EVENTS),
                              description=f"Any of: {', '.join(EVENTS)}.")
    workspace: str | None = Field(
        None, max_length=100, description="An organization you own (its slug); default: "
                                          "your own jobs.")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    workspace: str | None
    active: bool
    created_at: datetime
    last_triggered: datetime | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery (X-AgenticAI-Signature); shown "
                                    "this once.")


class DeliveryOut(BaseModel):
    id: str = Field(description="The X-AgenticAI-Delivery header of its requests.")
    event: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None


def _out(info: WebhookInfo) -> WebhookOut:
    return WebhookOut(id=info.id, url=info.url, events=info.events, workspace=info.workspace,
                      active=info.active, created_at=info.created_at,
                      last_triggered=info.last_triggered)


def _delivery(d: DeliveryInfo) -> DeliveryOut:
    return DeliveryOut(id=d.id, event=d.event, status=d.status, attempts=d.attempts,
                       response_status=d.response_status, error=d.error,
                       created_at=d.created_at, delivered_at=d.delivered_at,
                       next_attempt_at=d.next_attempt_at)


def _hooks(ctx: ApiContext) -> Webhooks:
    return Webhooks(ctx.svc.db, ctx.settings)


@router.post("", response_model=WebhookCreated, status_code=201, responses=_REFUSED,
             summary="Register a webhook (its secret is shown once)")
async def create_webhook(body: WebhookCreate, who: Principal = Depends(principal),
                         ctx: ApiContext = Depends(context)) -> WebhookCreated:
    info, secret = await asyncio.to_thread(_hooks(ctx).register, who.profile_id, body.url,
                                           body.events, body.workspace)
    return WebhookCreated(**_out(info).model_dump(), secret=secret)


@router.get("", response_model=list[WebhookOut], summary="Your webhooks")
async def list_webhooks(who: Principal = Depends(principal),
                        ctx: ApiContext = Depends(context)) -> list[WebhookOut]:
    return [_out(i) for i in await asyncio.to_thread(_hooks(ctx).of_user, who.profile_id)]


@router.delete("/{webhook_id}", status_code=204, responses=_NOT_FOUND,
               summary="Delete a webhook and its deliveries")
async def delete_webhook(webhook_id: str, who: Principal = Depends(principal),
                         ctx: ApiContext = Depends(context)) -> Response:
    await asyncio.to_thread(_hooks(ctx).delete, who.profile_id, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut],
            responses=_NOT_FOUND, summary="A webhook's latest deliveries, newest first")
async def list_deliveries(webhook_id: str, who: Principal = Depends(principal),
                          ctx: ApiContext = Depends(context)) -> list[DeliveryOut]:
    found = await asyncio.to_thread(_hooks(ctx).deliveries, who.profile_id, webhook_id)
    return [_delivery(d) for d in found]
