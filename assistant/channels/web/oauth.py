"""The OAuth redirect the web app serves: ``GET /oauth/<platform>/callback``.

YouTube (Google) and TikTok send the person back here after the consent page with ``code``
and ``state`` (or ``error`` when they declined). The work is
:func:`assistant.tools.publishing.oauth.complete`: the signed state says who asked, the code
is exchanged for tokens, the account is stored encrypted. The page shows one line; it never
echoes the code, the state or a token.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse

from assistant.errors import AssistantError
from storage.errors import StorageError

if TYPE_CHECKING:
    from assistant.channels.web.context import WebApp

log = logging.getLogger(__name__)

ROUTE = "/oauth/{platform}/callback"
TITLES = {"youtube": "YouTube", "tiktok": "TikTok"}


def callback_for(app: Callable[[], WebApp]) -> Callable[[str, Request], Awaitable[HTMLResponse]]:
    """The route's endpoint, reading the running web app's settings and database."""

    async def oauth_callback(platform: str, request: Request) -> HTMLResponse:
        from assistant.tools.publishing import oauth

        title = TITLES.get(platform)
        if title is None:
            return _page("Not found", "There is no sign-in to finish at this address.", 404)
        query = request.query_params
        if query.get("error"):
            # the person declined, or the provider refused the request: nothing to store.
            # Only a well-formed error code is shown, never free text from the address bar.
            code = query["error"] if re.fullmatch(r"[a-z_]{1,40}", query["error"]) else "error"
            return _page(f"{title} not connected", f"{title} did not connect ({code}): send "
                         f"/connect {platform} in the chat to try again.", 400)
        web = app()
        try:
            info = await asyncio.to_thread(oauth.complete, web.settings, web.svc.db, platform,
                                           query.get("code", ""), query.get("state", ""))
        except AssistantError as exc:
            log.info("oauth %s callback refused: %s", platform, exc.user_message)
            return _page(f"{title} not connected", exc.user_message, 400)
        except StorageError as exc:  # the database is down or full: already one line
            log.warning("oauth %s callback could not store the account: %s", platform, exc)
            return _page(f"{title} not connected", f"the account could not be saved ({exc}): "
                         f"send /connect {platform} again shortly", 503)
        return _page(f"{title} connected", f"{info.display_name} is connected: you can close "
                     "this page and publish to it from the chat.", 200)

    return oauth_callback


def _page(title: str, line: str, status: int) -> HTMLResponse:
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><p>{html.escape(line)}</p>"
            "</body></html>")
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})
