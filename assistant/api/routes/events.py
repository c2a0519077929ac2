"""``GET /events``: Server-Sent Events of your jobs (see :mod:`assistant.api.events`).

``text/event-stream``: each event has ``id:``, ``event:`` (job:created, job:updated,
job:step_completed, notification:approval_required, job:completed, job:failed) and one
``data:`` line of JSON; a ``: heartbeat`` comment comes when nothing happened for a while,
so proxies keep the connection open. Reconnect with ``Last-Event-ID`` to get what you
missed (the newest events are kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header
from fastapi.responses import StreamingResponse

from assistant.api.auth import principal
from assistant.api.context import ApiContext, context
from assistant.api.errors import COMMON_ERRORS
from assistant.api.keys import Principal

router = APIRouter(tags=["events"], responses=COMMON_ERRORS)

RETRY_MS = 3000  # what a browser's EventSource waits before reconnecting


@router.get("/events", response_class=StreamingResponse, summary="Live job events (SSE)",
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "An endless stream of events"}})
async def events(
    last_event_id: str | None = Header(None, max_length=20),
    who: Principal = Depends(principal), ctx: ApiContext = Depends(context),
) -> StreamingResponse:
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    loop = asyncio.get_running_loop()
    stream = await asyncio.to_thread(ctx.hub.open, who.username, loop, after)

    async def body() -> AsyncIterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(stream.queue.get(), ctx.heartbeat_s)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield event.encode()
        finally:
            ctx.hub.close_stream(stream)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
