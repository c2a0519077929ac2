"""``/ws``: the live events of :mod:`assistant.api.events` over a WebSocket, for clients that
prefer one to Server-Sent Events (WebSockets are not in the OpenAPI document).

Authenticate with ``Authorization: Bearer KEY`` on the upgrade request, or, where a client
cannot set headers (a browser), with a first message ``{"type": "auth", "key": KEY}``
within :data:`AUTH_WAIT_S` (never in the URL, where keys end up in logs). Then each event is
one JSON message ``{"id", "event", "data"}``, with ``{"event": "heartbeat"}`` when nothing
happened for a while. A refused key gets ``{"event": "error", "data": {"code",
"message"}}`` and close code 1008 (policy violation).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from assistant.api.context import ApiContext
from assistant.api.keys import Principal
from assistant.api.metering import record
from assistant.app.quotas import QuotaExceeded, check_api_request

router = APIRouter(tags=["events"])

AUTH_WAIT_S = 10.0
POLICY_VIOLATION = 1008


def _bearer(header: str) -> str | None:
    scheme, _, key = header.partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


async def _first_message_key(websocket: WebSocket) -> str | None:
    try:
        first: Any = await asyncio.wait_for(websocket.receive_json(), AUTH_WAIT_S)
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if isinstance(first, dict) and first.get("type") == "auth" and isinstance(
            first.get("key"), str):
        return str(first["key"])
    return None


async def _refuse(websocket: WebSocket, code: str, message: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"event": "error", "data": {"code": code, "message": message}})
        await websocket.close(code=POLICY_VIOLATION)


async def _authenticate(websocket: WebSocket, ctx: ApiContext) -> Principal | None:
    key = _bearer(websocket.headers.get("authorization", ""))
    if key is None:
        key = await _first_message_key(websocket)
    who = await asyncio.to_thread(ctx.keys.authenticate, key) if key else None
    if who is None:
        await _refuse(websocket, "unauthorized", "send an API key: Authorization: Bearer KEY, "
                      'or a first message {"type": "auth", "key": KEY}')
        return None
    try:
        await asyncio.to_thread(check_api_request, ctx.svc.db, ctx.settings, who.profile_id)
    except QuotaExceeded as exc:
        await _refuse(websocket, "quota_exceeded", exc.user_message)
        return None
    return who


@router.websocket("/ws")
async def events_ws(websocket: WebSocket) -> None:
    ctx: ApiContext = websocket.app.state.api
    started = time.monotonic()
    await websocket.accept()
    who = await _authenticate(websocket, ctx)
    if who is None:
        return
    await asyncio.to_thread(record, ctx, who, websocket.url.path, "WS", 101,
                            int((time.monotonic() - started) * 1000))
    stream = await asyncio.to_thread(ctx.hub.open, who.username, asyncio.get_running_loop())
    try:
        await websocket.send_json({"event": "connected", "data": {"username": who.username}})
        while True:
            try:
                event = await asyncio.wait_for(stream.queue.get(), ctx.heartbeat_s)
            except TimeoutError:
                await websocket.send_json({"event": "heartbeat"})
                continue
            await websocket.send_json({"id": event.id, "event": event.name, "data": event.data})
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away: a send to it failed
    finally:
        ctx.hub.close_stream(stream)
