"""Structured logs carry the job and step and no secrets; metrics render after observations."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator

import pytest

from assistant.observability import (
    configure_logging,
    count_tokens,
    log_context,
    record_job,
    render_metrics,
    set_queue_depth,
    start_metrics_server,
    time_step,
)


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
