"""Secrets never reach a log line: a mask for text and a filter for every log record.

Two kinds of masking, both needed:
- by shape: Telegram bot tokens (also inside ``/bot<token>/`` URLs), Discord bot tokens,
  API keys (``sk-...``, Stripe ``sk_/rk_/whsec_``), passwords in URLs (``scheme://user:pass@``),
  ``Authorization`` / ``X-API-KEY`` header values and ``?token=``-style query values;
- by value: whatever secret the Settings hold (every ``SecretStr``, and plain fields named like
  a key, such as ``serper_api_key``), registered once at start by :func:`install`, because a
  key with no recognisable shape (Serper's hex key) can only be found by its value.

:func:`install` puts :class:`SecretFilter` on the root logger and its handlers, and also wraps
the log-record factory: a filter on the root logger alone never sees records of loggers that
do not propagate (uvicorn's access log, Celery's) nor records handled by a handler that a
library added later, while the factory runs for every record of every logger.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from assistant.config import Settings

MASK = "***"
_MIN_SECRET = 6  # shorter configured values ("x", "test") would mask ordinary words

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host (user may be empty: redis://:pw@host)
    (re.compile(r"(?P<a>[a-z][a-z0-9+.\-]*://[^:/@\s]*):[^@/\s]+@", re.I), rf"\g<a>:{MASK}@"),
    # Telegram: <bot id>:<35 characters>, bare or in https://api.telegram.org/bot<token>/
    (re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}"), MASK),
    # Discord: <base64 user id>.<timestamp>.<hmac>
    (re.compile(r"(?<![\w.])[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"), MASK),
    # OpenAI / Anthropic / OpenRouter keys, Stripe secret, restricted and webhook keys
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}"), MASK),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"), MASK),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"), MASK),
    # header values: "Authorization: Bearer x", {'x-api-key': 'x'}, (b'authorization', b'x')
    (re.compile(r"(?P<a>\b(?:proxy-)?authorization|\bx-api-key|\bapi-key|\bx-goog-api-key"
                r"|\bx-telegram-bot-api-secret-token|\bstripe-signature)"
                r"(?P<b>['\"]?\s*[:=]\s*b?['\"]?|['\"]\s*,\s*b?['\"])[^'\"\r\n,}\]]+", re.I),
     rf"\g<a>\g<b>{MASK}"),
    (re.compile(r"\b(?P<a>Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{12,}"), rf"\g<a> {MASK}"),
    # ?api_key=... &token=... &password=...
    (re.compile(r"(?P<a>[?&;](?:api_?key|key|token|access_token|password|secret|sig)=)"
                r"[^&\s\"'#]+", re.I), rf"\g<a>{MASK}"),
)

_lock = threading.Lock()
_values: tuple[str, ...] = ()


def register(values: Iterable[str | None]) -> None:
    """Mask these exact values (configured secrets) in every line from now on."""
    global _values
    with _lock:
        found = set(_values) | {v for v in values if v and len(v) >= _MIN_SECRET}
        # longest first, so a secret containing another is masked whole
        _values = tuple(sorted(found, key=len, reverse=True))


_SECRET_FIELD = re.compile(r"(^|_)(password|secret|token|api_?key|credentials?)($|_)", re.I)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold: SecretStr fields, key-named string fields."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, str) and _SECRET_FIELD.search(name):
            found.append(value)
    return found


def mask(text: str) -> str:
    """``text`` with every secret in it (by shape or configured value) replaced by ``***``."""
    # shapes first: a whole token is masked even when a configured value is a part of it
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for value in _values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _mask_arg(arg: Any) -> Any:
    """An argument masked when its text carries a secret; otherwise left as it was, so
    ``%d`` and formatters that unpack ``args`` (uvicorn's access log) keep working."""
    if isinstance(arg, int | float | bool) or arg is None:
        return arg
    text = arg if isinstance(arg, str) else str(arg)
    masked = mask(text)
    return arg if masked == text else masked


class SecretFilter(logging.Filter):
    """Masks secrets in a record's message, arguments, extras and traceback; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_secrets_masked", False):
        return record
    if isinstance(record.msg, str):
        record.msg = mask(record.msg)
    elif record.msg is not None and not isinstance(record.msg, int | float):
        record.msg = mask(str(record.msg))
    args = record.args
    if isinstance(args, Mapping):
        record.args = {k: _mask_arg(v) for k, v in args.items()}
    elif isinstance(args, tuple):
        record.args = tuple(_mask_arg(a) for a in args)
    if record.exc_info and not record.exc_text:
        # formatted now, masked once: any handler's formatter reuses exc_text
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record._secrets_masked = True
    return record


_FILTER = SecretFilter()
_factory_installed = False


def _wrap_factory() -> None:
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _factory_installed = True


def install(settings: Settings | None = None) -> SecretFilter:
    """Mask secrets in every log record of this process (idempotent); with ``settings``,
    their configured secret values too."""
    if settings is not None:
        register(settings_secrets(settings))
    _wrap_factory()
    root = logging.getLogger()
    for target in (root, *root.handlers):
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    return _FILTER


def quiet_http_clients(level: int) -> None:
    """httpx and httpcore (and their fork httpx2, which the LLM SDKs use) log every request
    URL (a Telegram URL carries the bot token): WARNING unless the process runs at DEBUG,
    and masked even then."""
    for name in ("httpx", "httpcore", "httpx2", "httpcore2"):  # httpx2: the SDKs' fork
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG
                                         else logging.WARNING)
