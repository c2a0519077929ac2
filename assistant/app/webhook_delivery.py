"""Sending outgoing webhooks: signed POSTs from durable delivery rows, retried with backoff.

A delivery is a ``webhook_deliveries`` row written before the first attempt
(:func:`assistant.app.webhooks.enqueue`), so a process killed mid-send loses none: the
:class:`DeliveryWorker` of any process picks up due rows, claims them (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so two workers never send one row at once), and POSTs the body:

- body: ``{"id", "event", "created": <unix seconds>, "data": {...}}`` as compact JSON; the
  timestamp is inside the signed bytes so a receiver can refuse an old, replayed body;
- ``X-AgenticAI-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>``,
  ``X-AgenticAI-Event``, ``X-AgenticAI-Delivery`` (the row's uuid4, the same on every retry).

A 2xx answer delivers it; anything else (an error status, a refused connection, a timeout)
schedules the next attempt after ``BACKOFF_BASE_S * 2**(attempt-1)`` seconds (at most
``BACKOFF_MAX_S``) until ``webhook_max_attempts``, then it is ``failed``. Every attempt is
logged with the webhook and delivery ids, never the secret.

SSRF: the URL's host is resolved once; unless ``ASSISTANT_WEBHOOK_ALLOW_PRIVATE`` every address
must be global, and the connection goes to that checked address (the Host header and TLS
name stay the URL's), so a DNS answer that changes between check and connect cannot
redirect it to an internal service. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from assistant.config import Settings
from assistant.errors import InputError
from assistant.infra.netguard import is_public
from storage.db import Database
from storage.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 6 * 3600.0
CLAIM_S = 120.0  # a claimed row is due again after this, should its worker die mid-send
BATCH = 20
RESPONSE_KEEP = 2000  # characters of a receiver's answer kept on the row
Resolver = Callable[..., list[tuple[Any, ...]]]
Clock = Callable[[], float]


class WebhookRefused(InputError):
    """A webhook URL that may not be called (not http(s), or a non-global address)."""


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed (the same for every attempt)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff_s(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the address that was checked) and what to ask for."""

    scheme: str
    host: str  # the URL's host: Host header and TLS server name
    address: str  # the resolved address the connection goes to
    port: int
    path: str  # path and query


def resolve_target(url: str, *, allow_private: bool,
                   resolver: Resolver = socket.getaddrinfo) -> Target:
    """Check ``url`` and resolve its host once; WebhookRefused when it may not be called."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise WebhookRefused("a webhook URL may not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookRefused(f"the webhook URL's port is not valid ({exc})") from None
    try:
        infos = resolver(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise WebhookRefused(f"cannot resolve {parts.hostname}: check the webhook URL") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise WebhookRefused(f"{parts.hostname} has no address")
    if not allow_private:
        private = sorted({a for a in addresses if not is_public(a)})
        if private:
            raise WebhookRefused(
                f"{parts.hostname} resolves to a private, loopback or link-local address "
                f"({', '.join(private)}): webhooks only call public addresses "
                "(ASSISTANT_WEBHOOK_ALLOW_PRIVATE=true allows others)")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, addresses[0], port, path)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout,
                         context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str],
         timeout_s: float) -> tuple[int, str]:
    """POST ``body`` to the checked address; (status, the answer's first characters)."""
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPS(target, timeout_s)
    else:
        conn = http.client.HTTPConnection(target.address, target.port, timeout=timeout_s)
    try:
        host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        conn.request("POST", target.path, body=body,
                     headers={**headers, "Host": host, "Content-Length": str(len(body))})
        response = conn.getresponse()
        text = response.read(RESPONSE_KEEP * 4).decode("utf-8", "replace")[:RESPONSE_KEEP]
        return response.status, text
    finally:
        conn.close()


_RUNNING: list[DeliveryWorker] = []  # this process's started workers, woken on new events
_RUNNING_LOCK = threading.Lock()


def wake_workers() -> None:
    """New deliveries were written: this process's workers look now, not at their next poll."""
    with _RUNNING_LOCK:
        workers = list(_RUNNING)
    for worker in workers:
        worker.wake()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class DeliveryWorker:
    """Sends due deliveries; :meth:`run_due` once (tests, a cron) or :meth:`start` a loop.

    ``clock`` (unix seconds) decides what is due and when retries fall, so tests move time
    instead of waiting; ``resolver`` is injectable like the research fetcher's."""

    def __init__(self, db: Database, settings: Settings, *, clock: Clock = time.time,
                 resolver: Resolver = socket.getaddrinfo, poll_s: float = 2.0) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.resolver, self.poll_s = resolver, poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, daemon=True, name="webhooks")
        self._thread.start()
        with _RUNNING_LOCK:
            _RUNNING.append(self)

    def wake(self) -> None:
        """Look for due deliveries now (a new event was just written)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        with _RUNNING_LOCK:
            if self in _RUNNING:
                _RUNNING.remove(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.run_due() == BATCH and not self._stop.is_set():
                    pass  # a full batch: more may be due
            except Exception:  # the database is down: try again at the next poll
                log.exception("webhook deliveries could not be read")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    # --- one pass ---------------------------------------------------------------------------

    def run_due(self) -> int:
        """Attempt every delivery due now (up to BATCH); returns how many were attempted."""
        claimed = self._claim()
        for delivery_id in claimed:
            self._attempt(delivery_id)
        return len(claimed)

    def _claim(self) -> list[uuid.UUID]:
        now = self.clock()
        with self.db.session() as s:
            rows = list(s.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == "pending",
                       WebhookDelivery.next_attempt_at <= _at(now))
                .order_by(WebhookDelivery.next_attempt_at).limit(BATCH)
                .with_for_update(skip_locked=True)))
            for row in rows:
                row.next_attempt_at = _at(now + CLAIM_S)
            return [row.id for row in rows]

    def _attempt(self, delivery_id: uuid.UUID) -> None:
        with self.db.session() as s:
            delivery = s.get(WebhookDelivery, delivery_id)
            hook = s.get(Webhook, delivery.webhook_id) if delivery is not None else None
            if delivery is None or hook is None:
                return
            url, secret, active = hook.url, hook.secret or "", hook.is_active
            payload, event = delivery.payload, delivery.event_type
        if not active:
            self._finish(delivery_id, "failed", None, None, "the webhook is disabled")
            return
        body = body_bytes(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "AgenticAI-Webhooks/1.0",
            "X-AgenticAI-Signature": sign(secret, body),
            "X-AgenticAI-Event": event,
            "X-AgenticAI-Delivery": str(delivery_id),
        }
        status: int | None = None
        answer: str | None = None
        try:
            target = resolve_target(url, allow_private=self.settings.webhook_allow_private,
                                    resolver=self.resolver)
            status, answer = post(target, body, headers, self.settings.webhook_timeout_s)
            error = None if 200 <= status < 300 else f"the receiver answered {status}"
        except WebhookRefused as exc:
            error = exc.user_message
        except (OSError, http.client.HTTPException) as exc:
            error = f"could not reach the receiver ({type(exc).__name__}: {exc})"[:500]
        self._finish(delivery_id, "delivered" if error is None else "retry", status, answer,
                     error)

    def _finish(self, delivery_id: uuid.UUID, outcome: str, status: int | None,
                answer: str | None, error: str | None) -> None:
        now = self.clock()
        with self.db.session() as s:
            delivery = s.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.response_status, delivery.response_body = status, answer
            delivery.error = error
            hook = s.get(Webhook, delivery.webhook_id)
            if outcome == "delivered":
                delivery.status, delivery.delivered_at = "delivered", _at(now)
                delivery.next_attempt_at = None
                if hook is not None:
                    hook.last_triggered = _at(now)
                log.info("webhook %s: delivered %s (%s, HTTP %s)", delivery.webhook_id,
                         delivery_id, delivery.event_type, status)
                return
            delivery.retry_count += 1
            attempts = delivery.retry_count
            if outcome == "failed" or attempts >= self.settings.webhook_max_attempts:
                delivery.status, delivery.next_attempt_at = "failed", None
                log.warning("webhook %s: gave up on %s after %d attempts: %s",
                            delivery.webhook_id, delivery_id, attempts, error)
                return
            delivery.next_attempt_at = _at(now) + timedelta(seconds=backoff_s(attempts))
            log.info("webhook %s: attempt %d of %s failed (%s); next at %s",
                     delivery.webhook_id, attempts, delivery_id, error,
                     delivery.next_attempt_at.isoformat(timespec="seconds"))
