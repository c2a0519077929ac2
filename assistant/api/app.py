"""The API factory: :func:`create_api` builds the FastAPI app (one router per area) over a
:class:`~assistant.app.conversation.Conversation`, and :func:`mount` serves it inside
another ASGI app (the Chainlit server) at ``/api/v1``.

Routes carry their full path (``/api/v1/jobs``), so the OpenAPI document names the paths a
client calls whether the API runs alone (``assistant api``) or inside ``assistant chat``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from assistant.api import errors, metering, schemas
from assistant.api.context import ApiContext
from assistant.api.events import EventHub
from assistant.api.keys import ApiKeys
from assistant.api.routes import (
    account,
    billing,
    content,
    events,
    health,
    jobs,
    kb,
    media,
    usage,
    webhooks,
    ws,
)
from assistant.app.webhook_delivery import DeliveryWorker
from assistant.infra.ratelimit import make_rate_limiter

if TYPE_CHECKING:
    from assistant.app.conversation import Conversation

API_PREFIX = schemas.API_PREFIX
VERSION = schemas.API_VERSION


def routers() -> list[APIRouter]:
    """Every area's router, mounted under API_PREFIX. Another area adds its own here."""
    return [health.router, jobs.router, kb.router, content.router, usage.router,
            events.router, ws.router, webhooks.router, billing.router, account.router]


def create_api(conv: Conversation, *, heartbeat_s: float = 15.0,
               serve_media: bool = False) -> FastAPI:
    """The REST API over ``conv`` (its services and job runner).

    ``serve_media``: also serve the signed download links (``/media/...``) that artifact
    listings hand out: for ``assistant api`` alone; inside ``assistant chat`` the web app
    serves them already.
    """
    app = FastAPI(
        title="AgenticAI Lab API", version=VERSION,
        description="Drive the content studio: start jobs, review and approve them, manage "
                    "the knowledge base, read what was published. Authenticate with "
                    "`Authorization: Bearer KEY` (`assistant apikey create USER`).",
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.api = ApiContext(conv, ApiKeys(conv.svc.db), EventHub(conv),
                               make_rate_limiter(conv.svc.settings), heartbeat_s=heartbeat_s)
    errors.install(app)
    metering.install(app)
    for router in routers():
        app.include_router(router, prefix=API_PREFIX)
    if serve_media:
        app.include_router(media.router)
    # outgoing webhooks: this server sends the deliveries every process writes
    worker = DeliveryWorker(conv.svc.db, conv.svc.settings)
    worker.start()
    app.state.api.extras["webhook_worker"] = worker
    return app


def close_api(app: FastAPI) -> None:
    """Stop the API's event subscriptions (the conversation itself is its owner's to close)."""
    ctx: ApiContext = app.state.api
    ctx.hub.close()
    worker = ctx.extras.pop("webhook_worker", None)
    if isinstance(worker, DeliveryWorker):
        worker.stop()


class _PrefixRoute(BaseRoute):
    """Hands every request under ``prefix`` to ``app`` with its path unchanged (a Starlette
    ``Mount`` would strip the prefix, and the API's routes carry it)."""

    def __init__(self, prefix: str, app: FastAPI) -> None:
        self.prefix, self.app = prefix.rstrip("/"), app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def mount(server: FastAPI, api: FastAPI, prefix: str = API_PREFIX) -> None:
    """Serve ``api`` inside ``server`` under ``prefix``, ahead of the server's own routes
    (Chainlit ends with a catch-all page route)."""
    server.router.routes.insert(0, _PrefixRoute(prefix, api))
