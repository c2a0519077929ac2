"""Start-up checks: every configured server answers, before any job starts.

``check_services(settings)`` reaches each server the settings name (PostgreSQL for the
database and the checkpoints, Redis, the task broker, Qdrant, Ollama or an
OpenAI-compatible server) with a short timeout, all at once. A server that does not answer
raises ONE :class:`~assistant.errors.ConfigError` naming the setting and the URL (password
masked), instead of a traceback in the middle of a job; so does a configured part whose
optional package (an extra: ``postgres``, ``redis``, ``openai``, ``anthropic``) is not
installed. The embedded defaults need no server, so with none configured it checks nothing
and returns at once.

``assistant make`` / ``resume`` call it first; so do the long-running commands (chat, the
bots, the worker) through :func:`prepare_long_running`, which also serves Prometheus
``/metrics`` when ``ASSISTANT_METRICS_PORT`` is set.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exc as sa_exc
from sqlalchemy import make_url

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.infra.redis_client import safe_redis_url

TIMEOUT_S = 3.0
OLLAMA_DEFAULT = "http://127.0.0.1:11434"
_POSTGRES = ("postgresql", "postgres")


@dataclass(frozen=True)
class Check:
    """One server to reach: the setting that names it, its URL (masked) and the probe."""

    setting: str
    url: str
    probe: Callable[[], None]  # raises _Down (or any OSError) when the server does not answer


class _Down(Exception):
    """The server did not answer, or answered that it cannot serve us; ``str`` says why."""


_REDIS_REASON = re.compile(r"^Error -?\d+ connecting to \S+\.\s+(?P<reason>.+)$")


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    first = lines[0] if lines else type(err).__name__
    short = _REDIS_REASON.match(first)  # redis-py: "Error 111 connecting to h:p. Reason."
    return short.group("reason").rstrip(".") if short else first


# --- probes -----------------------------------------------------------------------------------


def _postgres(url: str) -> Callable[[], None]:
    def probe() -> None:
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        try:
            with psycopg.connect(conninfo, connect_timeout=int(TIMEOUT_S)) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as err:
            raise _Down(_first_line(err)) from err

    return probe


def _redis(url: str, setting: str) -> Callable[[], None]:
    def probe() -> None:
        from assistant.infra.redis_client import connect

        try:
            connect(url, setting).close()
        except ConfigError as err:
            raise _Down(str(err.__cause__ or err.user_message)) from err

    return probe


def _tcp(url: str, default_port: int) -> Callable[[], None]:
    def probe() -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        try:
            socket.create_connection((host, port), timeout=TIMEOUT_S).close()
        except OSError as err:
            raise _Down(_first_line(err)) from err

    return probe


def _http(url: str) -> Any:
    """GET ``url``; the decoded JSON body (or None). An HTTP error status still means the
    server is up (it may want a key we do not send here): only no answer is 'down'."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        if err.code >= 500:
            raise _Down(f"HTTP {err.code}") from err
        return None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise _Down(_first_line(reason if isinstance(reason, BaseException) else err)) from err
    try:
        return json.loads(body)
    except ValueError:
        return None


def _http_probe(url: str) -> Callable[[], None]:
    def probe() -> None:
        _http(url)

    return probe


def _ollama(base: str, model: str | None) -> Callable[[], None]:
    """Ollama answers, through its own client: ``show(model)`` when a model is configured
    (404: not pulled yet; say how), else ``list()``."""
    def probe() -> None:
        import httpx
        import ollama

        client = ollama.Client(host=base, timeout=TIMEOUT_S)
        try:
            if model:
                client.show(model)
            else:
                client.list()
        except ollama.ResponseError as err:
            if err.status_code == 404 and model:
                raise _Down(f"it has no model {model!r}: run `ollama pull {model}`") from err
            if err.status_code >= 500:
                raise _Down(f"HTTP {err.status_code}: {err.error}") from err
            # any other answer (a proxy that wants a key, ...): the server is up
        except (ConnectionError, httpx.HTTPError) as err:
            # the client raises a generic ConnectionError; the reason is the httpx error
            reason = err.__context__ if isinstance(err.__context__, httpx.HTTPError) else err
            raise _Down(_first_line(reason)) from err

    return probe


# --- what to check ------------------------------------------------------------------------------


def _safe_sql(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable URL>"


def _backend(url: str) -> str | None:
    try:
        return make_url(url).get_backend_name()
    except sa_exc.ArgumentError:
        return None


def planned_checks(settings: Settings) -> list[Check]:
    """The servers ``settings`` name, each with its probe (none for the embedded defaults)."""
    checks: list[Check] = []
    database = settings.resolved_database_url
    if _backend(database) in _POSTGRES:
        checks.append(Check("ASSISTANT_DATABASE_URL", _safe_sql(database), _postgres(database)))
    if settings.checkpoint_url and _backend(settings.checkpoint_url) in _POSTGRES:
        checks.append(Check("ASSISTANT_CHECKPOINT_URL", _safe_sql(settings.checkpoint_url),
                            _postgres(settings.checkpoint_url)))
    if settings.redis_url:
        checks.append(Check("ASSISTANT_REDIS_URL", safe_redis_url(settings.redis_url),
                            _redis(settings.redis_url, "ASSISTANT_REDIS_URL")))
    broker = settings.broker_url
    if broker and broker != settings.redis_url:
        scheme = urlsplit(broker).scheme
        probe = (_redis(broker, "ASSISTANT_BROKER_URL") if scheme.startswith("redis")
                 else _tcp(broker, 5672))
        checks.append(Check("ASSISTANT_BROKER_URL", safe_redis_url(broker), probe))
    if settings.qdrant_url:
        checks.append(Check("ASSISTANT_QDRANT_URL", safe_redis_url(settings.qdrant_url),
                            _http_probe(settings.qdrant_url.rstrip("/") + "/")))
    if settings.llm_provider == "ollama":
        base = settings.llm_base_url or OLLAMA_DEFAULT
        checks.append(Check("ASSISTANT_LLM_BASE_URL", safe_redis_url(base),
                            _ollama(base, settings.llm_model)))
    elif settings.llm_provider == "openai" and settings.llm_base_url:
        base = settings.llm_base_url
        checks.append(Check("ASSISTANT_LLM_BASE_URL", safe_redis_url(base),
                            _http_probe(base.rstrip("/") + "/models")))
    return checks


# What a setting needs beyond the core install: (module to import, the extra that has it).
_EXTRAS = {"postgres": ("psycopg", "postgres"), "redis": ("redis", "redis"),
           "openai": ("langchain_openai", "openai"),
           "anthropic": ("langchain_anthropic", "anthropic")}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def missing_extras(settings: Settings) -> list[str]:
    """One line per configured part whose optional package is not installed, naming the
    setting and the extra to install."""
    wanted: list[tuple[str, str]] = []
    if _backend(settings.resolved_database_url) in _POSTGRES:
        wanted.append(("ASSISTANT_DATABASE_URL", "postgres"))
    if settings.checkpoint_url and _backend(settings.checkpoint_url) in _POSTGRES:
        wanted.append(("ASSISTANT_CHECKPOINT_URL", "postgres"))
    if settings.redis_url:
        wanted.append(("ASSISTANT_REDIS_URL", "redis"))
    if settings.broker_url and urlsplit(settings.broker_url).scheme.startswith("redis"):
        wanted.append(("ASSISTANT_BROKER_URL", "redis"))
    if settings.llm_provider in ("openai", "anthropic"):
        wanted.append((f"ASSISTANT_LLM_PROVIDER={settings.llm_provider}",
                       settings.llm_provider))
    lines = []
    for setting, part in wanted:
        module, extra = _EXTRAS[part]
        line = f"{setting} needs the `{extra}` extra: pip install 'agenticai-lab[{extra}]'"
        if not _installed(module) and line not in lines:
            lines.append(line)
    return lines


def _run(check: Check) -> str | None:
    try:
        check.probe()
    except (_Down, OSError) as err:
        return f"{check.setting}={check.url} is unreachable ({_first_line(err)})"
    return None


def check_services(settings: Settings) -> list[str]:
    """Reach every configured server at once; ConfigError naming each one that does not
    answer (one line). Returns the settings checked."""
    missing = missing_extras(settings)
    if missing:
        raise ConfigError("; ".join(missing))
    checks = planned_checks(settings)
    if not checks:
        return []
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        problems = [p for p in pool.map(_run, checks) if p]
    if problems:
        raise ConfigError("; ".join(problems) + ": start it or fix the setting",
                          detail="; ".join(problems))
    return [c.setting for c in checks]


def prepare_long_running(settings: Settings) -> None:
    """What a long-running process (web chat, a bot, a worker) does first: check the
    servers, and serve Prometheus ``/metrics`` on ``metrics_port`` when it is set. First of
    all its log records are masked, the configured secrets by value too: a bot or a worker
    logs for days, at whatever level it was started with."""
    import logging

    from assistant.infra import logmask

    logmask.install(settings)
    logmask.quiet_http_clients(logging.getLogger().getEffectiveLevel())
    check_services(settings)
    from assistant.infra.observability import serve_metrics

    if serve_metrics(settings) is not None:
        from assistant.infra.task_queue import watch_queue_depths

        watch_queue_depths(settings)
