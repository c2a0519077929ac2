"""The app started with docker-compose.yml's environment listens on every interface.

Compose publishes port 8000; the chat used to bind 127.0.0.1 inside the container whatever
compose said, so nothing outside could connect (its in-container healthcheck still passed).
The environment is the one `docker-compose config` resolves for the ``app`` service; only
where the servers are (no ``postgres``/``redis``/``ollama`` hosts here), where data lives and
the port number are replaced. The bound socket is read with psutil; test traffic goes to
loopback only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from tests.production.test_compose import COMPOSE_FILE, REPO, compose_command

ASSISTANT = Path(sys.executable).with_name("assistant")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resolved_app_environment(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["POSTGRES_PASSWORD"] = "only-for-this-test"
    done = subprocess.run([*compose_command(), "-f", str(COMPOSE_FILE), "--env-file",
                           str(empty), "config"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    app: dict[str, Any] = yaml.safe_load(done.stdout)["services"]["app"]
    return {str(k): str(v) for k, v in app["environment"].items()}


def listening(pid: int, port: int) -> list[str]:
    """The addresses the process (or a child) listens on at ``port``."""
    found: list[str] = []
    try:
        parent = psutil.Process(pid)
        for proc in (parent, *parent.children(recursive=True)):
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                    found.append(conn.laddr.ip)
    except psutil.NoSuchProcess:
        pass
    return found


def test_compose_refuses_to_start_without_a_database_password(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    done = subprocess.run([*compose_command(), "-f", str(COMPOSE_FILE), "--env-file",
                           str(empty), "config", "--quiet"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr + done.stdout
    assert ":-assistant}" not in COMPOSE_FILE.read_text()  # no default password anywhere


@pytest.mark.timeout(300)
def test_the_app_with_composes_environment_listens_on_all_interfaces(tmp_path: Path) -> None:
    compose_env = resolved_app_environment(tmp_path)
    assert compose_env["ASSISTANT_CHAT_HOST"] == "0.0.0.0"
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSISTANT_", "CHAINLIT_"))}
    env.update(compose_env)
    env.update({  # this machine's servers instead of the compose network's
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'assistant.db'}",
        "ASSISTANT_REDIS_URL": "redis://127.0.0.1:6379/14",
        "ASSISTANT_LLM_PROVIDER": "embedded", "ASSISTANT_SEED_SAMPLE_KB": "false",
        "ASSISTANT_CHAT_PORT": str(port), "ASSISTANT_METRICS_PORT": str(_free_port()),
    })
    for name in ("ASSISTANT_QDRANT_URL", "ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL"):
        env.pop(name, None)
    log = (tmp_path / "app.log").open("w+")
    proc = subprocess.Popen([str(ASSISTANT), "chat"], cwd=tmp_path, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not (addresses := listening(proc.pid, port)):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the app did not listen on {port}: {log.read()[-3000:]}")
            time.sleep(0.5)
        assert addresses == ["0.0.0.0"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            assert reply.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
