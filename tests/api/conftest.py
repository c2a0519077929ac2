"""The REST API over the real conversation service, job runner and storage; only the chat
model's framing replies are scripted (as in tests/app). ``live_api`` serves it on a real
uvicorn server on 127.0.0.1 (the event stream needs a real connection)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.api import create_api
from assistant.api.app import close_api
from assistant.api.keys import ApiKeys
from assistant.app.conversation import Conversation
from assistant.app.runner import JobRunner, Outcome
from assistant.app.studio import Services
from assistant.content import Brief
from tests.fakes import FRAMING, scripted

HEARTBEAT_S = 0.3


class IdleRunner(JobRunner):
    """A runner whose jobs never run: they stay ``pending`` (for tests of the API itself,
    where the pipeline would only cost time)."""

    def start(self, job_id: str, brief: Brief, on_event: object = None) -> Outcome:
        return Outcome(job_id, "pending")


def conversation(svc: Services, runner_type: type[JobRunner] = JobRunner) -> Conversation:
    svc.set_chat(scripted(FRAMING))
    return Conversation(svc, runner_type(svc))


def close(conv: Conversation, app: FastAPI) -> None:
    close_api(app)
    conv.close()
    conv.runner.close()


@dataclass
class Api:
    conv: Conversation
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # username -> key

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}


@pytest.fixture
def idle_api(svc: Services) -> Iterator[Api]:
    """The API over a conversation whose jobs never run."""
    conv = conversation(svc, IdleRunner)
    app = create_api(conv, heartbeat_s=HEARTBEAT_S, serve_media=True)
    keys = {u: ApiKeys(svc.db).create(u)[1] for u in ("alice", "bob")}
    with TestClient(app) as client:
        yield Api(conv, app, client, keys)
    close(conv, app)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server for ``app`` on 127.0.0.1, on a thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="live-api")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
