"""Who a request acts as: ``Authorization: Bearer KEY`` -> the key's user, else a 401 JSON
error (the key is never logged or echoed)."""

from __future__ import annotations

import asyncio

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.context import ApiContext, context
from assistant.api.errors import ApiError
from assistant.api.keys import Principal
from assistant.app.quotas import check_api_request

# auto_error=False: a missing header is our own 401 JSON error, not FastAPI's 403
bearer = HTTPBearer(auto_error=False, description="An API key from `assistant apikey create`.")


async def principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: ApiContext = Depends(context),
) -> Principal:
    """The request's user, or a 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "send an API key: Authorization: Bearer KEY "
                                            "(`assistant apikey create USER` makes one)")
    found = await asyncio.to_thread(ctx.keys.authenticate, credentials.credentials.strip())
    if found is None:
        raise ApiError(401, "unauthorized", "that API key is unknown or revoked")
    # the tier's API requests per day (a 402 quota_exceeded once they are used up)
    await asyncio.to_thread(check_api_request, ctx.svc.db, ctx.settings, found.profile_id)
    request.state.principal = found  # counted by assistant.api.metering
    return found
