"""Observability: structured logs with job id and step, and Prometheus metrics.

Logs: ``configure_logging(json=True)`` writes one JSON object per line (timestamp, level,
logger, message, job_id, step, extra fields, exception). The job id and step come from
``extra={"job_id": ..., "step": ...}`` or from the surrounding ``log_context(...)`` block;
secrets never reach a line: fields named like passwords, tokens or keys are masked, and every
record of every logger passes :mod:`assistant.infra.logmask` (tokens, keys, URL passwords,
header values and the configured secrets, by value).

Metrics (prometheus-client, one registry for the process): jobs by status, step durations,
queue depth, LLM tokens. ``render_metrics()`` gives the text exposition format;
``start_metrics_server(port)`` serves it on ``/metrics`` from a daemon thread.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)

from assistant.infra import logmask, token_meter

if TYPE_CHECKING:
    from assistant.config import Settings

# --- logging ---------------------------------------------------------------------------------

_job_id: ContextVar[str | None] = ContextVar("assistant_log_job_id", default=None)
_step: ContextVar[str | None] = ContextVar("assistant_log_step", default=None)

# attributes every LogRecord has; anything else on a record came from ``extra=``
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}
_OWN_ATTRS = frozenset({"job_id", "step", "context"})
# a field whose name has one of these words (``bot_token``, ``api_key``; not ``tokens``)
_SECRET_KEY = re.compile(
    r"(^|[_\-])(password|passwd|pwd|secret|token|api_?key|authorization|credentials?)($|[_\-])",
    re.I,
)
_MASK = "***"
_HANDLER_MARK = "_assistant_handler"


@contextmanager
def log_context(*, job_id: str | None = None, step: str | None = None) -> Iterator[None]:
    """Tag every log line inside the block with ``job_id`` and/or ``step`` (nested blocks add)."""
    tokens = []
    if job_id is not None:
        tokens.append((_job_id, _job_id.set(job_id)))
    if step is not None:
        tokens.append((_step, _step.set(step)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def redact(text: str) -> str:
    """``text`` with every secret in it masked (see :func:`assistant.infra.logmask.mask`)."""
    return logmask.mask(text)


class ContextFilter(logging.Filter):
    """Puts ``job_id`` and ``step`` on every record (from ``extra=`` or ``log_context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job_id", None) is None:
            record.job_id = _job_id.get()
        if getattr(record, "step", None) is None:
            record.step = _step.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, job_id, step, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("job_id", "step"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        for key, value in vars(record).items():
            if key in _RECORD_ATTRS or key in _OWN_ATTRS or key.startswith("_"):
                continue
            entry[key] = _safe_value(key, value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return jsonlib.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The human format, with ``[job step]`` when the record has them, URLs redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [str(p) for p in (getattr(record, "job_id", None), getattr(record, "step", None))
                 if p]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return redact(super().format(record))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (test capture, a
    redirecting worker), not the stream it was when logging was configured."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _safe_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key):
        return _MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def configure_logging(json: bool = False, level: int | str = logging.INFO, *,
                      settings: Settings | None = None) -> logging.Handler:
    """Send the root logger's records to stderr, as JSON lines when ``json``; idempotent.
    Every record is masked (``settings``: their secret values too), and httpx/httpcore stay
    at WARNING unless ``level`` is DEBUG."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logmask.install(settings)
    logmask.quiet_http_clients(root.level)
    return handler


# --- metrics ---------------------------------------------------------------------------------

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

JOBS = Counter(
    "assistant_jobs", "Jobs that reached a status (processing, review, published, failed, ...).",
    ["status"], registry=REGISTRY,
)
STEP_SECONDS = Histogram(
    "assistant_step_duration_seconds", "Wall time of one pipeline step.", ["step"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "assistant_queue_depth", "Tasks waiting in a work queue.", ["queue"], registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "assistant_llm_tokens", "Language-model tokens, by provider and direction (input/output).",
    ["provider", "direction"], registry=REGISTRY,
)


def record_job(status: str) -> None:
    JOBS.labels(status=status).inc()


def observe_step(step: str, seconds: float) -> None:
    STEP_SECONDS.labels(step=step).observe(seconds)


@contextmanager
def time_step(step: str) -> Iterator[None]:
    """Observe the block's wall time as ``step``'s duration (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_step(step, time.perf_counter() - started)


def set_queue_depth(queue: str, depth: int) -> None:
    QUEUE_DEPTH.labels(queue=queue).set(depth)


def count_tokens(provider: str, *, input_tokens: int = 0, output_tokens: int = 0) -> None:
    token_meter.add(input_tokens, output_tokens)  # the job being run, if one is metered
    if input_tokens:
        LLM_TOKENS.labels(provider=provider, direction="input").inc(input_tokens)
    if output_tokens:
        LLM_TOKENS.labels(provider=provider, direction="output").inc(output_tokens)


def render_metrics() -> bytes:
    """Every metric in the Prometheus text exposition format."""
    return generate_latest(REGISTRY)


_SERVED: dict[int, WSGIServer] = {}


def serve_metrics(settings: Settings, addr: str = "0.0.0.0") -> WSGIServer | None:
    """Serve ``/metrics`` on ``settings.metrics_port`` (once per process; None when unset).
    A port already in use is a ConfigError naming ASSISTANT_METRICS_PORT."""
    port = settings.metrics_port
    if port is None:
        return None
    if port in _SERVED:
        return _SERVED[port]
    try:
        server = start_metrics_server(port, addr)
    except OSError as err:
        from assistant.errors import ConfigError

        raise ConfigError(f"ASSISTANT_METRICS_PORT={port}: cannot serve /metrics there "
                          f"({err.strerror or err})") from err
    _SERVED[port] = server
    logging.getLogger(__name__).info("serving Prometheus metrics on %s:%d/metrics", addr,
                                     server.server_port)
    return server


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> WSGIServer:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread; returns the HTTP server
    (``server.server_port`` is the bound port, ``server.shutdown()`` stops it)."""
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    return server
