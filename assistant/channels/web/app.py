"""The web chat (Chainlit): make, review and approve content in the browser.

``serve(settings)`` (``assistant chat``) builds the app's services and one
:class:`~assistant.app.conversation.Conversation`, writes Chainlit's config under
``<data_dir>/chainlit`` (the app root: no network, our data layer, our login) and runs
Chainlit's server headless. Chainlit then loads the generated ``app.py``, which calls
:func:`register` to install the callbacks below. Each browser session is a
:class:`~assistant.channels.web.session.ChatSession`.

Login: ``chat_auth = "password"`` checks the scrypt hash on ``profiles.password_hash``
(``assistant user add NAME``); ``"header"`` trusts the user name a reverse proxy puts in
``chat_auth_header`` (only behind a proxy that sets it and strips it from clients).
History: :class:`~assistant.channels.web.data.OurDataLayer` keeps threads in our
database, so a conversation can be reopened after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from assistant.app.events import ChannelUser
from assistant.app.studio import Services
from assistant.channels.web.brand import patch_translation, write_brand
from assistant.channels.web.context import WebApp
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.infra import media_links, signing

if TYPE_CHECKING:
    import chainlit as cl
    from chainlit.types import ThreadDict
    from starlette.datastructures import Headers

    from assistant.channels.web.session import ChatSession

log = logging.getLogger(__name__)

APP_NAME = "AgenticAI Lab"
SESSION_KEY = "assistant_chat"
# Chainlit features that would reach a third party when their variables are set
FOREIGN_ENV = ("LITERAL_API_KEY", "LITERAL_API_URL", "DATABASE_URL", "DISCORD_BOT_TOKEN",
               "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_WEBSOCKET_TOKEN",
               "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "CHAINLIT_CUSTOM_AUTH")
# what the knowledge base reads; browsers label .md files in several ways
UPLOAD_ACCEPT = ('{ "text/*" = [".md", ".markdown", ".txt", ".html", ".htm"], '
                 '"application/pdf" = [".pdf"], '
                 '"application/octet-stream" = [".md", ".markdown", ".txt"] }')
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*https?://[^>]*>\s*", re.DOTALL)
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


_APP: WebApp | None = None


def current() -> WebApp:
    if _APP is None:
        raise ConfigError("the web chat is not set up: start it with `assistant chat`")
    return _APP


# --- serving -----------------------------------------------------------------------------


def serve(settings: Settings, host: str | None = None, port: int | None = None, *,
          services: Services | None = None) -> int:
    """Run the web chat until stopped. ``services`` lets a caller (a test) supply its own."""
    global _APP
    host = host or settings.chat_host
    port = port or settings.chat_port
    _check_port(host, port)
    root = prepare_app_root(settings, host, port)
    if "chainlit.config" in sys.modules:
        raise ConfigError("Chainlit was imported before the web chat set its app root: "
                          "start it with `assistant chat`")
    for name in FOREIGN_ENV:
        os.environ.pop(name, None)
    os.environ.update({
        "CHAINLIT_APP_ROOT": str(root), "CHAINLIT_HOST": host, "CHAINLIT_PORT": str(port),
        "CHAINLIT_AUTH_SECRET": signing.app_secret(settings),
    })
    from assistant.app.conversation import Conversation
    from assistant.app.runner import JobRunner

    svc = services or Services.create(settings)
    if services is None:
        svc.kb().seed_sample_if_empty()
    runner = JobRunner(svc)
    _APP = WebApp(settings, svc, runner, Conversation(svc, runner))
    try:
        from chainlit.cli import run_chainlit
        from chainlit.config import config

        config.run.headless = True
        config.run.watch = False
        print(f"web chat on http://{host}:{port} (login: {settings.chat_auth})", flush=True)
        if settings.chat_auth == "password" and not _any_account(svc):
            print("no web account yet: create one with `assistant user add NAME`", flush=True)
        run_chainlit(str(root / "app.py"))
    finally:
        _APP.conv.close(5.0)
        runner.close()
        if services is None:
            svc.close()
    return 0


def _any_account(svc: Services) -> bool:
    from sqlalchemy import select

    from storage.models import Profile

    with svc.db.session() as s:
        return s.scalar(select(Profile.id).where(Profile.password_hash.is_not(None))
                        .limit(1)) is not None


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): set "
                              "ASSISTANT_CHAT_PORT or pass --port") from None


def prepare_app_root(settings: Settings, host: str, port: int) -> Path:
    """Chainlit's app root under the data dir: config, entry file, and a copy of the UI's
    page that loads nothing from the internet (no web fonts, no CDN stylesheet)."""
    import importlib.metadata

    root = settings.resolved_data_dir / "chainlit"
    (root / ".chainlit").mkdir(parents=True, exist_ok=True)
    (root / "public").mkdir(exist_ok=True)
    version = importlib.metadata.version("chainlit")
    origins = {f"http://{host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
    if settings.public_base_url:
        origins.add(settings.public_base_url.rstrip("/"))
    (root / ".chainlit" / "config.toml").write_text(
        _CONFIG.format(origins=", ".join(f'"{o}"' for o in sorted(origins)), name=APP_NAME,
                       accept=UPLOAD_ACCEPT, version=version),
        encoding="utf-8")
    write_brand(root)
    (root / "chainlit.md").write_text(_README, encoding="utf-8")
    (root / "app.py").write_text(
        '"""Generated by `assistant chat`: the file Chainlit loads."""\n\n'
        "from assistant.channels.web.app import register\n\nregister()\n",
        encoding="utf-8")
    package = _offline_build(root / "build")
    translations = root / ".chainlit" / "translations"
    translations.mkdir(exist_ok=True)
    english = translations / "en-US.json"
    english.write_bytes((package / "translations" / "en-US.json").read_bytes())
    patch_translation(english)
    return root


def _offline_build(build: Path) -> Path:
    """Chainlit's packaged UI, with its page's external stylesheets taken out; returns
    where the chainlit package is."""
    import importlib.util

    spec = importlib.util.find_spec("chainlit")
    if spec is None or spec.origin is None:
        raise ConfigError("Chainlit is not installed: run `make install`")
    package = Path(spec.origin).parent
    dist = package / "frontend" / "dist"
    build.mkdir(exist_ok=True)
    for entry in dist.iterdir():
        target = build / entry.name
        if entry.name == "index.html":
            page = entry.read_text(encoding="utf-8")
            target.write_text(_EXTERNAL_LINK.sub("", page), encoding="utf-8")
        else:
            if target.is_symlink():
                target.unlink()  # may point into an older chainlit
            if not target.exists():
                target.symlink_to(entry, target_is_directory=entry.is_dir())
    return package


_CONFIG = """\
# Generated by `assistant chat` at every start: edit assistant/channels/chainlit_app.py.
[project]
user_env = []
session_timeout = 3600
user_session_timeout = 1296000
cache = false
persist_user_env = false
mask_user_env = false
allow_origins = [{origins}]

[features]
unsafe_allow_html = false
latex = false
user_message_markdown = true
user_message_autoscroll = true
assistant_message_autoscroll = true
auto_tag_thread = false
edit_message = false
allow_thread_sharing = false
favorites = false

[features.spontaneous_file_upload]
    enabled = true
    accept = {accept}
    max_files = 10
    max_size_mb = 50

[features.audio]
    enabled = false

[features.mcp]
    enabled = false

[UI]
name = "{name}"
description = "Researched, reviewed, published content from a topic."
default_theme = "light"
layout = "wide"
cot = "full"
confirm_new_chat = false
custom_build = "./build"
login_page_image = "/public/login.svg"
custom_meta_url = "/"
custom_meta_image_url = "/favicon"
logo_file_url = ""
default_avatar_file_url = ""

[meta]
generated_by = "{version}"
"""

_README = """\
# AgenticAI Lab

Ask for **a short, video, podcast or blog about a topic**. The assistant researches it in
your knowledge base, shows each step as it runs, and asks you to approve the script and
the final cut with the buttons under its messages (Revise: reply with your notes).

- Attach `.md`, `.txt`, `.html` or `.pdf` files to add them to the knowledge base.
- `/jobs`, `/status`, `/cancel`, `/kb`, `/link` and `/help` work here as in the chat apps.
- Jobs you start in a linked Telegram or Discord account show up here too.
"""


# --- Chainlit callbacks ------------------------------------------------------------------


def register() -> None:
    """Install the web chat's callbacks (called by the generated app.py)."""
    import chainlit as cl

    from assistant.channels.web.data import OurDataLayer

    app = current()
    cl.data_layer(lambda: OurDataLayer(app.svc.db))
    if app.settings.chat_auth == "header":
        cl.header_auth_callback(header_auth)
    else:
        cl.password_auth_callback(password_auth)
    cl.on_app_shutdown(on_shutdown)
    cl.on_chat_start(on_chat_start)
    cl.on_chat_resume(on_chat_resume)
    cl.on_message(on_message)
    for name in ("approve", "revise", "reject"):
        cl.action_callback(name)(on_action)

    from chainlit.server import app as server
    from fastapi.routing import APIRoute

    from assistant.channels.web import oauth

    route = APIRoute(media_links.ROUTE, serve_media,
                     methods=["GET", "HEAD"])
    server.router.routes.insert(0, route)  # before Chainlit's catch-all page route
    # YouTube's and TikTok's OAuth redirect (/connect youtube|tiktok)
    server.router.routes.insert(0, APIRoute(oauth.ROUTE, oauth.callback_for(current),
                                            methods=["GET"]))
    from assistant.api.app import create_api, mount

    mount(server, create_api(app.conv))  # the REST API at /api/v1, over this conversation


async def password_auth(username: str, password: str) -> cl.User | None:
    import chainlit as cl

    from assistant.channels.web.auth import authenticate

    name = await asyncio.to_thread(authenticate, current().svc.db, username, password)
    if name is None:
        log.info("web login refused for %r", username[:100])
        return None
    return cl.User(identifier=name, display_name=name, metadata={"provider": "credentials"})


async def header_auth(headers: Headers) -> cl.User | None:
    import chainlit as cl

    name = (headers.get(current().settings.chat_auth_header) or "").strip()
    if not _USERNAME.match(name):
        return None
    return cl.User(identifier=name, display_name=name, metadata={"provider": "header"})


async def _open_session() -> ChatSession:
    import chainlit as cl
    from chainlit.context import context

    from assistant.channels.web.session import ChatSession

    old = cl.user_session.get(SESSION_KEY)
    if old is not None:
        old.stop()
    user = context.session.user
    if user is None:
        raise ConfigError("the web chat needs a signed-in user")
    chat = ChatSession(current(), context.session,  # type: ignore[arg-type]
                       ChannelUser("web", user.identifier, user.display_name or ""),
                       asyncio.get_running_loop())
    chat.start()
    cl.user_session.set(SESSION_KEY, chat)
    return chat


def _session() -> ChatSession | None:
    import chainlit as cl

    chat: ChatSession | None = cl.user_session.get(SESSION_KEY)
    return chat


async def on_shutdown() -> None:
    """Chainlit ends the process right after this: let running steps stop cleanly."""
    app = current()
    await asyncio.to_thread(app.conv.close, 5.0)
    await asyncio.to_thread(app.runner.close)


async def on_chat_start() -> None:
    chat = await _open_session()
    await chat.greet()


async def on_chat_resume(thread: ThreadDict) -> None:
    chat = await _open_session()
    chat.named = True
    await chat.greet(resumed=True)


async def on_message(message: cl.Message) -> None:
    chat = _session() or await _open_session()
    await chat.on_message(message)


async def on_action(action: cl.Action) -> None:
    chat = _session() or await _open_session()
    await chat.on_action(action)


async def serve_media(tag: str, job_id: str, viewer: str, token: str,
                      filename: str) -> Response:
    """A file a message links to, when the link is ours (:mod:`assistant.infra.media_links`),
    the file is the job's, and the person it was made for may still see the job."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    from assistant.app.identity import may_review
    from storage.objects import guess_mime

    app = current()
    link = media_links.read_media_link(app.settings, tag, job_id, viewer, token, filename)
    job = app.svc.repo.get_job(job_id) if link is not None else None
    if link is None or job is None or job_id not in link.path.parts:
        raise HTTPException(status_code=404, detail="not found")
    if link.viewer and not await asyncio.to_thread(
            lambda: may_review(app.svc.db, app.svc.repo.ensure_user(link.viewer), job_id,
                               job.user_id)):
        raise HTTPException(status_code=404, detail="not found")  # lost access since
    file = link.path
    headers: dict[str, Any] = {"Cache-Control": "private, max-age=3600"}
    return FileResponse(file, media_type=guess_mime(str(file)), headers=headers)
