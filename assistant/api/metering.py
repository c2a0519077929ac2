"""API requests, counted: each authenticated request is one ``api_usage`` row (the route's
path template, never the ids or query in it; its status and time), which is what the tier's
``api_requests_per_day`` (:func:`assistant.app.quotas.check_api_request`) is counted from.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from assistant.api.context import ApiContext
from assistant.api.keys import Principal
from assistant.api.schemas import API_PREFIX
from storage.models import ApiUsage

log = logging.getLogger(__name__)


def record(ctx: ApiContext, who: Principal, endpoint: str, method: str, status: int,
           elapsed_ms: int) -> None:
    """One request of ``who``'s, in ``api_usage``."""
    try:
        with ctx.svc.db.session() as s:
            s.add(ApiUsage(user_id=uuid.UUID(who.profile_id), endpoint=endpoint[:500],
                           method=method[:10], status_code=status, response_time_ms=elapsed_ms))
    except Exception:  # metering must never fail the request it counts
        log.warning("could not record an API request of %s", who.username, exc_info=True)


def _template(request: Request) -> str:
    """The matched route's path template (``/api/v1/jobs/{job_id}``); a router's route may
    hold its path without the prefix it was included under."""
    path = getattr(request.scope.get("route"), "path", None)
    if not isinstance(path, str):
        return request.url.path
    if request.url.path.startswith(API_PREFIX) and not path.startswith(API_PREFIX):
        return API_PREFIX + path
    return path


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def meter(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.monotonic()
        response = await call_next(request)
        who = getattr(request.state, "principal", None)
        if isinstance(who, Principal):
            endpoint = _template(request)
            ctx: ApiContext = request.app.state.api
            await asyncio.to_thread(record, ctx, who, endpoint, request.method,
                                    response.status_code,
                                    int((time.monotonic() - started) * 1000))
        return response
