"""Web-chat accounts (scrypt), the `assistant user add` command, and the Chainlit data
layer over our own tables: fast tests, no server."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.app.studio import Services
from assistant.channels.web.auth import (
    authenticate,
    check_username,
    hash_password,
    set_password,
    verify_password,
)
from assistant.config import Settings
from assistant.errors import InputError

# Chainlit fixes its app root (and makes .files/ and .chainlit/ there) when first imported:
# keep that out of the working tree.
os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="chainlit-test-"))
needs_chainlit = pytest.mark.skipif(importlib.util.find_spec("chainlit") is None,
                                    reason="needs chainlit")


# --- passwords ---------------------------------------------------------------------------


def test_hash_has_the_documented_format_and_verifies() -> None:
    stored = hash_password("correct horse")
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert salt and key
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert hash_password("correct horse") != stored  # salted


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$aa$bb",
                                    "scrypt$16384$8$1$!!$??"])
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_accounts_are_created_updated_and_checked(svc: Services) -> None:
    assert set_password(svc.db, "alice", "first password") is True
    assert authenticate(svc.db, "alice", "first password") == "alice"
    assert set_password(svc.db, "alice", "second password") is False
    assert authenticate(svc.db, "alice", "first password") is None
    assert authenticate(svc.db, "alice", "second password") == "alice"
    assert authenticate(svc.db, "bob", "second password") is None  # no such account
    svc.repo.ensure_user("telegram:42")  # a bot user has no password: no web login
    assert authenticate(svc.db, "telegram:42", "") is None


@pytest.mark.parametrize("name", ["", "a b", "telegram:42", "-x", "x" * 101])
def test_bad_usernames_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_username(name)


def test_short_passwords_are_refused(svc: Services) -> None:
    with pytest.raises(InputError, match="too short"):
        set_password(svc.db, "alice", "short")


def test_user_add_reads_the_password_from_env_or_stdin(settings: Settings) -> None:
    from assistant.cli import app

    env = {"ASSISTANT_DATA_DIR": str(settings.data_dir), "ASSISTANT_SEED_SAMPLE_KB": "0",
           "WEB_PW": "from the environment"}
    runner = CliRunner()
    result = runner.invoke(app, ["user", "add", "carol", "--password-env", "WEB_PW"], env=env)
    assert result.exit_code == 0, result.output
    assert "created carol" in result.output
    result = runner.invoke(app, ["user", "add", "carol"], env=env, input="from stdin ok\n")
    assert result.exit_code == 0, result.output
    assert "updated carol" in result.output
    svc = Services.create(settings)
    try:
        assert authenticate(svc.db, "carol", "from stdin ok") == "carol"
        assert authenticate(svc.db, "carol", "from the environment") is None
    finally:
        svc.close()


# --- the data layer ------------------------------------------------------------------------


@pytest.fixture
def layer(svc: Services) -> Iterator[Any]:
    pytest.importorskip("chainlit")
    from assistant.channels.web.data import OurDataLayer

    yield OurDataLayer(svc.db)


def run(go: Callable[[], Awaitable[None]]) -> None:
    from chainlit.context import init_http_context

    async def in_context() -> None:
        init_http_context()  # not a websocket session: writes are not held back
        await go()

    asyncio.run(in_context())


def _step(step_id: str, thread_id: str, output: str, created: str, **more: Any) -> Any:
    return {"id": step_id, "threadId": thread_id, "type": "assistant_message", "name": "bot",
            "output": output, "createdAt": created, "metadata": {}, **more}


@needs_chainlit
def test_users_are_our_profiles(layer: Any, svc: Services) -> None:
    from chainlit.user import User

    async def go() -> None:
        assert await layer.get_user("dave") is None
        created = await layer.create_user(User(identifier="dave", display_name="Dave"))
        assert created.identifier == "dave"
        assert created.id == svc.repo.ensure_user("dave")
        again = await layer.get_user("dave")
        assert again is not None and again.id == created.id

    run(go)


@needs_chainlit
def test_threads_steps_and_elements_round_trip(layer: Any, svc: Services) -> None:
    from chainlit.types import Feedback, Pagination, ThreadFilter

    user_id = svc.repo.ensure_user("erin")
    other_id = svc.repo.ensure_user("frank")

    async def go() -> None:
        await layer.update_thread("t1", name="a short about tides", user_id=user_id,
                                  metadata={"chat_settings": {}})
        await layer.create_step(_step("s2", "t1", "second", "2026-11-28T10:00:02.000000Z"))
        await layer.create_step(_step("s1", "t1", "first", "2026-11-28T10:00:01.000000Z"))
        await layer.update_step({"id": "s1", "threadId": "t1", "output": "first, edited"})
        await layer.update_thread("t2", name="someone else's", user_id=other_id)

        thread = await layer.get_thread("t1")
        assert thread["userIdentifier"] == "erin"
        assert [s["output"] for s in thread["steps"]] == ["first, edited", "second"]
        assert thread["steps"][0]["type"] == "assistant_message"  # kept on update
        assert await layer.get_thread_author("t1") == "erin"
        assert await layer.get_thread_author("t2") == "frank"
        assert await layer.get_thread("missing") is None

        page = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user_id))
        assert [t["id"] for t in page.data] == ["t1"]
        found = await layer.list_threads(Pagination(first=10),
                                         ThreadFilter(userId=user_id, search="EDITED"))
        assert [t["id"] for t in found.data] == ["t1"]
        none = await layer.list_threads(Pagination(first=10),
                                        ThreadFilter(userId=user_id, search="zebra"))
        assert none.data == []

        fid = await layer.upsert_feedback(Feedback(forId="s2", value=1, threadId="t1"))
        thread = await layer.get_thread("t1")
        assert thread["steps"][1]["feedback"]["value"] == 1
        assert await layer.delete_feedback(fid) is True

        await layer.delete_step("s2")
        thread = await layer.get_thread("t1")
        assert [s["id"] for s in thread["steps"]] == ["s1"]
        await layer.delete_thread("t1")
        assert await layer.get_thread("t1") is None

    run(go)


@needs_chainlit
def test_thread_pages_follow_the_cursor(layer: Any, svc: Services) -> None:
    from chainlit.types import Pagination, ThreadFilter

    user_id = svc.repo.ensure_user("gina")

    async def go() -> None:
        for i in range(5):
            await layer.update_thread(f"g{i}", name=f"thread {i}", user_id=user_id)
        first = await layer.list_threads(Pagination(first=2), ThreadFilter(userId=user_id))
        assert len(first.data) == 2 and first.pageInfo.hasNextPage
        seen = [t["id"] for t in first.data]
        cursor = first.pageInfo.endCursor
        while cursor:
            page = await layer.list_threads(Pagination(first=2, cursor=cursor),
                                            ThreadFilter(userId=user_id))
            seen += [t["id"] for t in page.data]
            cursor = page.pageInfo.endCursor
        assert sorted(seen) == [f"g{i}" for i in range(5)]
        assert seen[0] == "g4"  # newest first

    run(go)


@needs_chainlit
def test_url_elements_are_kept_and_session_files_are_not(layer: Any) -> None:
    import chainlit as cl

    async def go() -> None:
        await layer.update_thread("t9", name="media")
        video = cl.Video(name="final.mp4", url="/media/x/y/final.mp4", thread_id="t9",
                         for_id="s9")
        await layer.create_element(video)
        upload = cl.File(name="notes.md", path=__file__, thread_id="t9")
        await layer.create_element(upload)
        thread = await layer.get_thread("t9")
        assert [e["name"] for e in thread["elements"]] == ["final.mp4"]
        assert (await layer.get_element("t9", video.id))["url"] == "/media/x/y/final.mp4"
        assert await layer.get_element("other", video.id) is None

    run(go)


def test_app_root_is_offline_and_complete(settings: Settings) -> None:
    if importlib.util.find_spec("chainlit") is None:
        pytest.skip("needs chainlit")
    from assistant.channels.web.app import prepare_app_root

    root = prepare_app_root(settings, "127.0.0.1", 8123)
    config = (root / ".chainlit" / "config.toml").read_text()
    assert 'custom_build = "./build"' in config and "http://127.0.0.1:8123" in config
    page = (root / "build" / "index.html").read_text()
    assert "https://" not in page
    assert (root / "build" / "assets").is_dir()
    assert "register()" in (root / "app.py").read_text()
    assert json.loads((root / "public" / "theme.json").read_text())["custom_fonts"] == []


@needs_chainlit
def test_header_login_takes_the_proxy_user_name(settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.datastructures import Headers

    from assistant.channels.web import app as chainlit_app

    header = settings.model_copy(update={"chat_auth": "header",
                                         "chat_auth_header": "X-Remote-User"})
    monkeypatch.setattr(chainlit_app, "_APP", chainlit_app.WebApp(header, None, None, None))  # type: ignore[arg-type]

    async def login(headers: dict[str, str]) -> Any:
        return await chainlit_app.header_auth(Headers(headers))

    user = asyncio.run(login({"X-Remote-User": "hana"}))
    assert user is not None and user.identifier == "hana"
    assert asyncio.run(login({})) is None
    assert asyncio.run(login({"X-Remote-User": "telegram:42"})) is None  # not a web name
    assert asyncio.run(login({"X-Forwarded-User": "hana"})) is None  # another header


@needs_chainlit
def test_media_links_are_signed_and_expire(svc: Services,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from fastapi import HTTPException

    from assistant.channels.web import app as chainlit_app
    from assistant.channels.web.session import media_url

    settings = svc.settings
    job_id = "job-1a2b3c4d"
    svc.repo.create_job(job_id, title="tides", content_type="short", user="ada")
    clip = settings.resolved_data_dir / "artifacts" / job_id / "clip.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    web = chainlit_app.WebApp(settings, svc, None, None)  # type: ignore[arg-type]
    monkeypatch.setattr(chainlit_app, "_APP", web)
    url = media_url(web, job_id, str(clip), "ada")
    assert url.startswith("/media/") and url.endswith("/clip.mp4") and job_id in url
    assert str(settings.resolved_data_dir) not in url
    _, _, tag, job, viewer, token, name = url.split("/")
    # the encoded path is relative to the data dir: the link never shows where files live
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    assert decoded == f"artifacts/{job_id}/clip.mp4"

    def fetch(tag: str, job: str = job, viewer: str = viewer, token: str = token) -> int:
        try:
            return asyncio.run(chainlit_app.serve_media(tag, job, viewer, token, name)
                               ).status_code
        except HTTPException as refused:
            return refused.status_code

    assert fetch(tag) == 200
    stamp, signature = tag.split(".")
    assert fetch(f"{stamp}.{signature[::-1]}") == 404  # forged
    other = "B" if stamp.endswith("A") else "A"
    assert fetch(f"{stamp[:-1]}{other}.{signature}") == 404  # its time changed
    assert fetch(tag, job="job-00000000") == 404  # turned to another job
    eve = media_url(web, job_id, str(clip), "eve").split("/")[4]
    assert fetch(tag, viewer=eve) == 404  # turned to another person
    # a link made for someone who may not see the job is never served
    eves = media_url(web, job_id, str(clip), "eve").split("/")
    assert fetch(eves[2], viewer=eves[4]) == 404
    # a file of another job, signed for this one, is not served either
    kb_file = settings.resolved_data_dir / "kb" / "files" / "clip.mp4"
    kb_file.parent.mkdir(parents=True)
    kb_file.write_bytes(b"x")
    stray = media_url(web, job_id, str(kb_file), "ada").split("/")
    assert fetch(stray[2], token=stray[5]) == 404
    now = time.time()
    ttl = settings.media_link_ttl.total_seconds()
    assert ttl == 7 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: now + ttl - 60)
    assert fetch(tag) == 200  # a minute before it expires
    monkeypatch.setattr(time, "time", lambda: now + ttl + 60)
    assert fetch(tag) == 404  # expired
