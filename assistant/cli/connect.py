"""`assistant connect youtube|tiktok`: connect a publishing account from the terminal.

YouTube uses Google's device flow (OAuth 2.0 for limited-input devices): the command prints a
verification URL and a code to enter from any browser, and waits for the approval.
TikTok has no device flow for posting; its Login Kit for Desktop takes a loopback redirect
(``http://127.0.0.1:PORT/callback/``; register ``http://127.0.0.1:*/callback/`` in the app):
the command listens there on a free port, prints the consent link, and finishes the sign-in
when the browser comes back.
"""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import typer

from assistant.cli.common import check_cli_user, console, services
from assistant.config import Settings
from assistant.errors import InputError


def connect(
    platform: str = typer.Argument(..., help="youtube or tiktok"),
    user: str | None = typer.Option(None, "--user", help="Whose account it becomes "
                                    "(default: ASSISTANT_DEFAULT_USER)."),
) -> None:
    """Connect a YouTube or TikTok account to publish to."""
    from assistant.tools.publishing import oauth
    from assistant.tools.publishing.accounts import Owner

    settings = Settings()
    check_cli_user(settings, user)
    platform = platform.strip().lower()
    if platform not in ("youtube", "tiktok"):
        raise InputError(f"`assistant connect` takes youtube or tiktok, not {platform!r}; "
                         "other platforms connect from the chat (/connect)")
    oauth.provider(settings, platform)  # the clear line when it is not configured
    with services() as svc:
        owner = Owner.profile(svc.repo.ensure_user(user or settings.default_user))
        if platform == "tiktok":
            with LoopbackReceiver() as receiver:
                url = oauth.authorization_url(settings, "tiktok", owner,
                                              redirect=receiver.redirect_uri)
                console.print("Open this link in a browser on this machine and approve "
                              f"(waiting {oauth.STATE_MAX_AGE_S // 60} minutes):")
                print(url, flush=True)
                answer = receiver.wait(oauth.STATE_MAX_AGE_S)
            if answer.get("error"):
                raise InputError(f"TikTok did not connect ({answer['error'][:40]})")
            info = oauth.complete(settings, svc.db, "tiktok", answer.get("code", ""),
                                  answer.get("state", ""))
            console.print(f"connected TikTok: {info.display_name}")
            return
        device = oauth.device_start(settings)
        console.print(f"Open [bold]{device.verification_url}[/] and enter the code "
                      f"[bold]{device.user_code}[/] (valid {device.expires_in // 60} minutes); "
                      "waiting for your approval...")
        info = oauth.device_finish(settings, svc.db, owner, device)
    console.print(f"connected YouTube: {info.display_name}")


class LoopbackReceiver:
    """One OAuth redirect, caught on 127.0.0.1 (RFC 8252's loopback redirect)."""

    PATH = "/callback/"

    def __init__(self) -> None:
        self._answer: dict[str, str] = {}
        self._arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep codes off stderr
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                if parts.path != receiver.PATH:
                    self.send_error(404)
                    return
                receiver._answer = dict(urllib.parse.parse_qsl(parts.query))
                receiver._arrived.set()
                body = b"<!doctype html><p>Done: go back to the terminal.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.PATH}"

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout_s: float) -> dict[str, str]:
        if not self._arrived.wait(timeout_s):
            raise InputError("no answer came back from the browser in time: run the command "
                             "again")
        return self._answer
