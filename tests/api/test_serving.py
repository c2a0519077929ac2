"""The API where it is served: inside the web chat's Chainlit server (`assistant chat`, at
/api/v1 beside the chat page) and alone (`assistant api`), both the real CLI in a
subprocess on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from assistant.api.keys import ApiKeys
from assistant.app.studio import Services
from assistant.config import Settings
from tests.api.conftest import free_port
from tests.cli.helpers import spawn

START_S = 120


@contextmanager
def running(data: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    proc = spawn(data, *args, "--port", str(port), ASSISTANT_SEED_SAMPLE_KB="false")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"{args} exited {proc.returncode}:\n{out}")
            try:
                if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{args} did not serve /api/v1/health"
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def check_api(url: str, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(url + "/api/v1/health").json()["status"] == "ok"
    jobs = httpx.get(url + "/api/v1/jobs", headers=auth)
    assert jobs.status_code == 200 and jobs.json()["items"] == []
    refused = httpx.get(url + "/api/v1/jobs")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    missing = httpx.get(url + "/api/v1/no-such-thing", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    doc = httpx.get(url + "/api/v1/openapi.json").json()
    assert "/api/v1/jobs/{job_id}/approve" in doc["paths"] and "/api/v1/events" in doc["paths"]


def test_assistant_chat_serves_the_api_beside_the_chat(svc: Services,
                                                        settings: Settings) -> None:
    _, key = ApiKeys(svc.db).create("alice")
    with running(settings.resolved_data_dir, "chat") as (url, _):
        check_api(url, key)
        page = httpx.get(url + "/")  # Chainlit's own routes are still there
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_assistant_api_serves_it_alone(svc: Services, settings: Settings) -> None:
    _, key = ApiKeys(svc.db).create("alice")
    with running(settings.resolved_data_dir, "api") as (url, _):
        check_api(url, key)
        forged = httpx.get(url + "/media/abc.def/job-00000000/-/Zm9v/foo.md")
        assert forged.status_code == 404 and forged.json()["error"]["code"] == "not_found"
