"""The live events over a WebSocket (``/api/v1/ws``), with the runner that plays a job's
events: a key in the header or in a first message; anything else is refused with 1008."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.api import create_api
from assistant.api.keys import ApiKeys
from assistant.app.studio import Services
from tests.api.conftest import HEARTBEAT_S, close, conversation
from tests.api.test_events import PlayedRunner


@pytest.fixture
def ws_api(svc: Services) -> Iterator[tuple[TestClient, str, str]]:
    conv = conversation(svc, PlayedRunner)
    app = create_api(conv, heartbeat_s=HEARTBEAT_S)
    keys = ApiKeys(svc.db)
    with TestClient(app) as client:
        yield client, keys.create("alice")[1], keys.create("bob")[1]
    close(conv, app)


def until(ws: Any, event: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not got or got[-1]["event"] != event:
        got.append(ws.receive_json())
    return got


def test_events_over_a_websocket(ws_api: tuple[TestClient, str, str]) -> None:
    client, alice, bob = ws_api
    with client.websocket_connect("/api/v1/ws",
                                  headers={"Authorization": f"Bearer {alice}"}) as mine, \
            client.websocket_connect("/api/v1/ws") as theirs:
        theirs.send_json({"type": "auth", "key": bob})  # as a browser does
        assert mine.receive_json() == {"event": "connected", "data": {"username": "alice"}}
        assert theirs.receive_json()["data"] == {"username": "bob"}
        made = client.post("/api/v1/jobs", headers={"Authorization": f"Bearer {alice}"},
                           json={"topic": "zorvath"})
        job_id = made.json()["id"]
        got = [m for m in until(mine, "job:failed") if m["event"] != "heartbeat"]
        assert [m["event"] for m in got] == ["job:created", "job:updated",
                                             "job:step_completed", "job:updated", "job:failed"]
        assert got[-1]["data"]["job"]["id"] == job_id
        assert [m["id"] for m in got] == sorted(m["id"] for m in got)
        assert theirs.receive_json() == {"event": "heartbeat"}  # nothing of alice's


@pytest.mark.parametrize("first", [None, {"type": "auth", "key": "aal_nope"},
                                   {"type": "hello"}, "not json"])
def test_a_websocket_without_a_good_key_is_refused(ws_api: tuple[TestClient, str, str],
                                                   first: Any) -> None:
    client, _, _ = ws_api
    with client.websocket_connect("/api/v1/ws") as ws:
        if isinstance(first, dict):
            ws.send_json(first)
        elif first is not None:
            ws.send_text(first)
        else:
            ws.send_json({"type": "auth"})
        refused = ws.receive_json()
        assert refused["event"] == "error" and refused["data"]["code"] == "unauthorized"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
