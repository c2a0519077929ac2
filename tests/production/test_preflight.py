"""Start-up checks: a configured server that does not answer is one clear error, at once.

Unreachable servers are closed ports on 127.0.0.1 (refused at once); reachable ones are the
real PostgreSQL and Redis this machine runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.infra.preflight import check_services, planned_checks
from tests.cli.helpers import assistant

CLOSED = "127.0.0.1:1"


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **extra)


def test_the_embedded_defaults_check_nothing(tmp_path: Path) -> None:
    assert planned_checks(_settings(tmp_path)) == []
    assert check_services(_settings(tmp_path)) == []


@pytest.mark.parametrize(("setting", "extra", "shown"), [
    ("ASSISTANT_DATABASE_URL",
     {"database_url": f"postgresql+psycopg://app:hunter2@{CLOSED}/assistant"},
     f"postgresql+psycopg://app:***@{CLOSED}/assistant"),
    ("ASSISTANT_CHECKPOINT_URL", {"checkpoint_url": f"postgresql://app:hunter2@{CLOSED}/cp"},
     f"postgresql://app:***@{CLOSED}/cp"),
    ("ASSISTANT_REDIS_URL", {"redis_url": f"redis://:hunter2@{CLOSED}/0"},
     f"redis://:***@{CLOSED}/0"),
    ("ASSISTANT_BROKER_URL", {"broker_url": f"amqp://guest:hunter2@{CLOSED}//"},
     f"amqp://guest:***@{CLOSED}//"),
    ("ASSISTANT_QDRANT_URL", {"qdrant_url": f"http://{CLOSED}"}, f"http://{CLOSED}"),
    ("ASSISTANT_LLM_BASE_URL", {"llm_provider": "ollama", "llm_base_url": f"http://{CLOSED}"},
     f"http://{CLOSED}"),
    ("ASSISTANT_LLM_BASE_URL", {"llm_provider": "openai", "llm_base_url": f"http://{CLOSED}/v1"},
     f"http://{CLOSED}/v1"),
])
def test_an_unreachable_server_is_one_line_naming_the_setting_and_url(
    tmp_path: Path, setting: str, extra: dict[str, Any], shown: str,
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        check_services(_settings(tmp_path, **extra))
    message = caught.value.user_message
    assert f"{setting}={shown} is unreachable" in message
    assert "hunter2" not in message and "\n" not in message
    assert time.monotonic() - started < 5


def test_every_problem_is_in_the_one_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_services(_settings(tmp_path, redis_url=f"redis://{CLOSED}/0",
                                 qdrant_url=f"http://{CLOSED}"))
    assert "ASSISTANT_REDIS_URL" in caught.value.user_message
    assert "ASSISTANT_QDRANT_URL" in caught.value.user_message


def test_running_servers_pass(tmp_path: Path, postgres_database_url: str) -> None:
    checked = check_services(_settings(
        tmp_path, database_url=postgres_database_url, redis_url="redis://127.0.0.1:6379/13",
        broker_url="amqp://guest:guest@127.0.0.1:5672//"))
    assert checked == ["ASSISTANT_DATABASE_URL", "ASSISTANT_REDIS_URL", "ASSISTANT_BROKER_URL"]


PULLED = ["llama3.1:8b", "nomic-embed-text:latest"]


class _Ollama(BaseHTTPRequestHandler):
    """Ollama's model endpoints as its API documents them: ``GET /api/tags`` lists the pulled
    models; ``POST /api/show`` with ``{"model": NAME}`` (no tag means ``:latest``) describes
    one, or answers 404 ``{"error": "model 'NAME' not found"}``."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != "/api/tags":
            self._answer(404, {"error": "404 page not found"})
            return
        self._answer(200, {"models": [
            {"name": name, "model": name, "modified_at": "2026-11-30T10:00:00.000000000Z",
             "size": 4920753328, "digest": "46e0c10c039e" + "0" * 52,
             "details": {"parent_model": "", "format": "gguf", "family": "llama",
                         "families": ["llama"], "parameter_size": "8.0B",
                         "quantization_level": "Q4_K_M"}}
            for name in PULLED]})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        name = str(request.get("model") or request.get("name") or "")
        if self.path != "/api/show" or not name:
            self._answer(400, {"error": "model is required"})
            return
        if (name if ":" in name else f"{name}:latest") not in PULLED:
            self._answer(404, {"error": f"model '{name}' not found"})
            return
        self._answer(200, {
            "modelfile": f"# Modelfile generated by \"ollama show\"\nFROM {name}\n",
            "parameters": "stop \"<|eot_id|>\"", "template": "{{ .Prompt }}",
            "details": {"parent_model": "", "format": "gguf", "family": "llama",
                        "families": ["llama"], "parameter_size": "8.0B",
                        "quantization_level": "Q4_K_M"},
            "model_info": {"general.architecture": "llama"},
            "capabilities": ["completion", "tools"],
            "modified_at": "2026-11-30T10:00:00.000000000Z"})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ollama_tags() -> Iterator[str]:
    """A local stand-in for Ollama's model endpoints (the chat model's server: the one part
    a test may fake)."""
    server = HTTPServer(("127.0.0.1", 0), _Ollama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_ollama_without_the_model_says_how_to_pull_it(tmp_path: Path, ollama_tags: str) -> None:
    ok = _settings(tmp_path, llm_provider="ollama", llm_base_url=ollama_tags,
                   llm_model="llama3.1:8b")
    assert check_services(ok) == ["ASSISTANT_LLM_BASE_URL"]
    missing = _settings(tmp_path, llm_provider="ollama", llm_base_url=ollama_tags,
                        llm_model="qwen2.5:7b")
    with pytest.raises(ConfigError, match=r"no model 'qwen2.5:7b': run `ollama pull qwen2.5:7b`"):
        check_services(missing)


def test_ollama_names_without_a_tag_mean_latest(tmp_path: Path, ollama_tags: str) -> None:
    tagless = _settings(tmp_path, llm_provider="ollama", llm_base_url=ollama_tags,
                        llm_model="nomic-embed-text")
    assert check_services(tagless) == ["ASSISTANT_LLM_BASE_URL"]
    with pytest.raises(ConfigError, match=r"no model 'llama3.1': run `ollama pull llama3.1`"):
        check_services(_settings(tmp_path, llm_provider="ollama", llm_base_url=ollama_tags,
                                 llm_model="llama3.1"))  # only llama3.1:8b was pulled


def test_ollama_without_a_model_setting_only_lists(tmp_path: Path, ollama_tags: str) -> None:
    unset = _settings(tmp_path, llm_provider="ollama", llm_base_url=ollama_tags)
    unset = unset.model_copy(update={"llm_model": None})
    assert check_services(unset) == ["ASSISTANT_LLM_BASE_URL"]


@pytest.mark.parametrize(("extra", "module", "settings"), [
    ("postgres", "psycopg", {"database_url": "postgresql+psycopg://app@db/assistant"}),
    ("redis", "redis", {"redis_url": "redis://redis:6379/0"}),
    ("openai", "langchain_openai", {"llm_provider": "openai"}),
    ("anthropic", "langchain_anthropic", {"llm_provider": "anthropic"}),
])
def test_a_part_whose_extra_is_missing_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, module: str,
    settings: dict[str, Any],
) -> None:
    from assistant.infra import preflight

    real = preflight._installed
    monkeypatch.setattr(preflight, "_installed", lambda name: name != module and real(name))
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        check_services(_settings(tmp_path, **settings))  # before any server is reached
    message = caught.value.user_message
    assert f"needs the `{extra}` extra: pip install 'agenticai-lab[{extra}]'" in message
    assert message.startswith("ASSISTANT_") and "\n" not in message
    assert time.monotonic() - started < 1
    monkeypatch.setattr(preflight, "_installed", real)
    assert preflight.missing_extras(_settings(tmp_path, **settings)) == []  # all installed here


@pytest.mark.slow
@pytest.mark.parametrize("command", [["make", "tides", "--yes"], ["resume", "job-00000000"]])
def test_make_and_resume_stop_at_once_with_one_line(tmp_path: Path, command: list[str]) -> None:
    done = assistant(tmp_path / "data", *command, ASSISTANT_REDIS_URL=f"redis://{CLOSED}/0")
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and done.stderr.count("error:") == 1, done.stderr
    message = " ".join(done.stderr.split())  # the console wraps long lines at its width
    assert message.startswith(f"error: ASSISTANT_REDIS_URL=redis://{CLOSED}/0 is unreachable "
                              "(Connection refused)"), message
    assert not (tmp_path / "data" / "assistant.db").exists()  # nothing started
