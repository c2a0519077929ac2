"""A local stand-in for the two Stripe API calls billing makes, and Stripe's webhook signing.

The server answers ``POST /v1/checkout/sessions`` and ``POST /v1/billing_portal/sessions``
the way https://docs.stripe.com/api documents them: form-encoded bodies (``line_items[0]
[price]``), ``Authorization: Bearer sk_...`` (401 ``invalid_request_error`` otherwise), a
400 ``parameter_missing`` error for a missing required parameter, and the objects'
documented shapes (``checkout.session`` with ``url`` on checkout.stripe.com,
``billing_portal.session`` with ``url`` on billing.stripe.com). It records each request so
tests can check what was asked for.

:func:`stripe_signature` signs a payload as Stripe does: ``t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<payload>" with the endpoint secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_standin_" + "0" * 24
WEBHOOK_SECRET = "whsec_standin_secret"
PRICES = {"starter": "price_starter_test", "pro": "price_pro_test",
          "enterprise": "price_enterprise_test"}


def stripe_signature(payload: str, secret: str = WEBHOOK_SECRET,
                     timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def stripe_event(kind: str, obj: Mapping[str, Any], event_id: str | None = None) -> str:
    """An event body as Stripe sends it (the fields our handler and the library read)."""
    return json.dumps({
        "id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event",
        "api_version": "2024-06-20", "created": int(time.time()), "livemode": False,
        "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        "type": kind, "data": {"object": dict(obj)},
    })


def _error(status: int, message: str, **fields: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": "invalid_request_error", "message": message, **fields}}


class StripeStandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                status, body = standin.answer(self.path, self.headers.get("Authorization"),
                                              form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, auth: str | None,
               form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {API_KEY}":
            return _error(401, "Invalid API Key provided: sk_test_****")
        self.requests.append((path, form))
        now = int(time.time())
        if path == "/v1/checkout/sessions":
            for param in ("mode", "success_url"):
                if param not in form:
                    return _error(400, f"Missing required param: {param}.",
                                  code="parameter_missing", param=param)
            if form["mode"] == "subscription" and "line_items[0][price]" not in form:
                return _error(400, "You must provide at least one recurring price in "
                                   "`subscription` mode when using prices.",
                              param="line_items")
            session_id = f"cs_test_{secrets.token_hex(16)}"
            return 200, {
                "id": session_id, "object": "checkout.session", "after_expiration": None,
                "allow_promotion_codes": None, "amount_subtotal": 2900, "amount_total": 2900,
                "cancel_url": form.get("cancel_url"),
                "client_reference_id": form.get("client_reference_id"), "created": now,
                "currency": "usd", "customer": form.get("customer"),
                "customer_email": None, "expires_at": now + 86400, "livemode": False,
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "mode": form["mode"], "payment_status": "unpaid", "status": "open",
                "subscription": None, "success_url": form["success_url"],
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
        if path == "/v1/billing_portal/sessions":
            if "customer" not in form:
                return _error(400, "Missing required param: customer.",
                              code="parameter_missing", param="customer")
            session_id = f"bps_{secrets.token_hex(12)}"
            return 200, {
                "id": session_id, "object": "billing_portal.session",
                "configuration": "bpc_standin", "created": now, "customer": form["customer"],
                "flow": None, "livemode": False, "locale": None, "on_behalf_of": None,
                "return_url": form.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/test_{session_id}",
            }
        return _error(404, f"Unrecognized request URL (POST: {path}).")
