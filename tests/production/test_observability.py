"""Structured logs carry the job and step and no secrets; metrics render after observations."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from assistant.app.runner import JobRunner
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief, ReviewDecision
from assistant.infra.observability import (
    REGISTRY,
    configure_logging,
    count_tokens,
    log_context,
    record_job,
    render_metrics,
    serve_metrics,
    set_queue_depth,
    start_metrics_server,
    time_step,
)
from assistant.llm import ChatModel
from tests.fakes import FRAMING, ScriptedChat


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(json=True, level="DEBUG")
    try:
        yield capsys
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_log_line_is_json_with_job_and_step_from_extra(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("assistant.test").info(
        "rendered %d scenes", 3, extra={"job_id": "job-1234", "step": "assemble", "scenes": 3})
    [line] = _lines(json_logs)
    assert line["message"] == "rendered 3 scenes"
    assert line["level"] == "INFO"
    assert line["logger"] == "assistant.test"
    assert line["job_id"] == "job-1234"
    assert line["step"] == "assemble"
    assert line["scenes"] == 3
    assert str(line["timestamp"]).endswith("+00:00")


def test_log_context_tags_lines_and_nests(json_logs: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("assistant.test")
    with log_context(job_id="job-abcd"):
        log.warning("started")
        with log_context(step="voice"):
            log.warning("speaking")
    log.warning("outside")
    started, speaking, outside = _lines(json_logs)
    assert (started["job_id"], started.get("step")) == ("job-abcd", None)
    assert (speaking["job_id"], speaking["step"]) == ("job-abcd", "voice")
    assert "job_id" not in outside and "step" not in outside


def test_secrets_never_reach_a_line(json_logs: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("assistant.test")
    try:
        raise RuntimeError("cannot reach postgresql://app:hunter2@db:5432/jobs")
    except RuntimeError:
        log.exception("connect to %s failed", "redis://:hunter2@redis:6379/0",
                      extra={"api_key": "sk-hunter2", "bot_token": "hunter2", "tokens": 7})
    err = json_logs.readouterr().err
    assert "hunter2" not in err
    [line] = [json.loads(text) for text in err.splitlines()]
    assert line["api_key"] == "***" and line["bot_token"] == "***"
    assert line["tokens"] == 7
    assert "redis://:***@redis:6379/0" in str(line["message"])
    assert "postgresql://app:***@db:5432/jobs" in str(line["exception"])


def test_text_mode_shows_job_and_step(capsys: pytest.CaptureFixture[str]) -> None:
    handler = configure_logging(json=False, level=logging.INFO)
    try:
        with log_context(job_id="job-9", step="qa"):
            logging.getLogger("assistant.test").info("checked")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "assistant.test [job-9 qa]: checked" in capsys.readouterr().err


def test_metrics_render_after_observations() -> None:
    record_job("published")
    with time_step("voice"):
        pass
    set_queue_depth("gpu", 4)
    count_tokens("ollama", input_tokens=120, output_tokens=30)
    text = render_metrics().decode()
    assert 'assistant_jobs_total{status="published"}' in text
    assert 'assistant_step_duration_seconds_count{step="voice"}' in text
    assert 'assistant_queue_depth{queue="gpu"} 4.0' in text
    assert 'assistant_llm_tokens_total{direction="input",provider="ollama"}' in text
    assert 'assistant_llm_tokens_total{direction="output",provider="ollama"}' in text


def test_metrics_server_serves_the_same_text() -> None:
    record_job("failed")
    server = start_metrics_server(0, addr="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'assistant_jobs_total{status="failed"}' in body
    assert "assistant_step_duration_seconds" in body


# --- wired into the pipeline -------------------------------------------------------------------


class MeteredChat(ScriptedChat):
    """The scripted chat model, reporting token usage as real providers do."""

    def _generate(self, messages: list[BaseMessage], stop: Any = None,
                  run_manager: Any = None, **kw: Any) -> ChatResult:
        result = super()._generate(messages, stop, run_manager, **kw)
        prompt = sum(len(str(m.content).split()) for m in messages)
        reply = result.generations[0].message
        answer = len(str(reply.content).split())
        message = AIMessage(reply.content, usage_metadata=UsageMetadata(
            input_tokens=prompt, output_tokens=answer, total_tokens=prompt + answer))
        return ChatResult(generations=[ChatGeneration(message=message)])


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_blog_job_shows_in_the_metrics_and_the_logs(
    tides_kb: Services, json_logs: pytest.CaptureFixture[str],
) -> None:
    tides_kb.set_chat(ChatModel(MeteredChat(replies=[json.dumps(FRAMING)], prompts=[]),
                                "metered", "scripted", "prompt"))
    before = {
        "published": _value("assistant_jobs_total", status="published"),
        "review": _value("assistant_jobs_total", status="review"),
        "write": _value("assistant_step_duration_seconds_count", step="write"),
        "research": _value("assistant_step_duration_seconds_count", step="research"),
        "input": _value("assistant_llm_tokens_total", provider="metered", direction="input"),
        "output": _value("assistant_llm_tokens_total", provider="metered", direction="output"),
    }
    runner = JobRunner(tides_kb)
    try:
        brief = Brief.create("how tides work", "blog", user="ada")
        job_id = runner.create(brief)
        outcome = runner.start(job_id, brief)
        while outcome.status == "review":
            outcome = runner.resume(job_id, ReviewDecision(action="approve", by="tester"))
    finally:
        runner.close()
    assert outcome.status == "published", outcome

    assert _value("assistant_jobs_total", status="published") == before["published"] + 1
    assert _value("assistant_jobs_total", status="review") == before["review"] + 2
    assert _value("assistant_step_duration_seconds_count", step="write") == before["write"] + 1
    assert _value("assistant_step_duration_seconds_count", step="research") == (
        before["research"] + 1)
    assert _value("assistant_step_duration_seconds_sum", step="research") > 0
    tokens_in = _value("assistant_llm_tokens_total", provider="metered", direction="input")
    tokens_out = _value("assistant_llm_tokens_total", provider="metered", direction="output")
    assert tokens_in > before["input"] and tokens_out > before["output"]
    text = render_metrics().decode()
    assert 'assistant_jobs_total{status="published"}' in text
    assert 'assistant_step_duration_seconds_bucket{le="0.5",step="publish"}' in text
    assert 'assistant_llm_tokens_total{direction="output",provider="metered"}' in text

    lines = [json.loads(line) for line in json_logs.readouterr().err.splitlines()
             if line.startswith("{")]
    mine = [line for line in lines if line.get("job_id") == job_id]
    assert {"processing", "review", "published"} <= {str(line.get("status")) for line in mine}
    steps = {line.get("step") for line in mine}
    assert {"brief", "research", "write", "qa", "publish"} <= steps


def test_long_running_processes_serve_metrics_when_a_port_is_set(tmp_path: Any) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, metrics_port=0)
    assert serve_metrics(Settings(_env_file=None, data_dir=tmp_path)) is None
    server = serve_metrics(settings)
    assert server is not None and serve_metrics(settings) is server  # once per process
    record_job("review")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert 'assistant_jobs_total{status="review"}' in response.read().decode()


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_queue_depth_is_read_from_the_real_broker(broker: str, tmp_path: Path) -> None:
    """Tasks sent while no worker consumes wait in the broker's queue; the gauge's reading
    counts them, per queue."""
    from assistant.infra.task_queue import celery_app, queue_depths
    from tests.production.worker_helpers import reset_broker, settings_for

    settings = settings_for(tmp_path, broker)
    reset_broker(settings)
    app = celery_app(settings)
    try:
        for _ in range(3):
            app.send_task("media.ping", args=[0.0], queue="cpu")
        app.send_task("media.ping", args=[0.0], queue="gpu")
        assert queue_depths(settings) == {"gpu": 1, "cpu": 3}
    finally:
        reset_broker(settings)
    assert queue_depths(settings) == {"gpu": 0, "cpu": 0}


def test_queue_depth_is_empty_in_process_and_when_the_broker_is_down(tmp_path: Path) -> None:
    from assistant.infra.task_queue import queue_depths

    assert queue_depths(Settings(_env_file=None, data_dir=tmp_path)) == {}
    down = Settings(_env_file=None, data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0")
    assert queue_depths(down, timeout_s=0.5) == {}


def test_jobs_waiting_for_a_slot_are_a_queue_depth() -> None:
    import threading

    from assistant.infra.slots import JobSlots

    def depth() -> float:
        return REGISTRY.get_sample_value("assistant_queue_depth", {"queue": "jobs"}) or 0.0

    slots = JobSlots(1)
    holding, release, queued = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        with slots.hold():
            holding.set()
            release.wait(10)

    def waiter() -> None:
        with slots.hold(queued.set):
            pass

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=waiter)
    second.start()
    assert queued.wait(10)
    assert depth() == 1.0
    release.set()
    first.join(10)
    second.join(10)
    assert depth() == 0.0
