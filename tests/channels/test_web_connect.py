"""/connect wordpress in the web chat, end to end: the real server (test_chainlit_e2e's), headless
Chromium and the real WordPress (tests/tools/publishing/wp_server.py). The application
password is asked for, checked with the site, and then gone: from the page and from the chat
history the data layer keeps."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.channels.test_chainlit_e2e import (
    ARTIFACTS,
    Server,
    browser,
    free_port,
    log_in,
    send,
    shot,
    sync_api,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "publishing"))
from wp_server import WordPressSite, start, unavailable  # noqa: E402

__all__ = ["browser"]  # the Chromium fixture, shared with the other web tests

pytestmark = pytest.mark.slow


@dataclass
class KeyedServer(Server):
    def env(self) -> dict[str, str]:
        return {**super().env(), "ASSISTANT_SECRET_KEY": "web connect test key, not a real one",
                "ASSISTANT_PUBLISH_ALLOW_PRIVATE": "true"}  # WordPress is on 127.0.0.1


@pytest.fixture
def wordpress(tmp_path: Path) -> Iterator[WordPressSite]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    site = start(tmp_path / "wordpress")
    yield site
    site.stop()


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[KeyedServer]:
    srv = KeyedServer(tmp_path / "data", free_port(), tmp_path / "server.log")
    srv.add_user()
    srv.start()
    yield srv
    srv.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"server-{srv.data_dir.parent.name}.log").write_bytes(srv.log.read_bytes())


def test_the_application_password_leaves_the_chat(keyed_server: KeyedServer, browser: Any,
                                                  wordpress: WordPressSite) -> None:
    page = log_in(browser, keyed_server)
    send(page, f"/connect wordpress {wordpress.url} {wordpress.user}")
    sync_api.expect(page.get_by_text("Now send me an application password")).to_be_visible()
    send(page, wordpress.app_password)
    sync_api.expect(page.get_by_text("WordPress connected: editor on 127.0.0.1").first
                    ).to_be_visible()
    sync_api.expect(page.get_by_text(wordpress.app_password)).to_have_count(0)
    sync_api.expect(page.get_by_text("(a secret, not kept)")).to_be_visible()
    shot(page, "11-wordpress-connected")
    deadline = time.monotonic() + 20  # Chainlit deletes the step in a task of its own
    while True:
        with sqlite3.connect(keyed_server.data_dir / "assistant.db", timeout=30) as db:
            kept = " ".join(str(row) for row in db.execute("select * from chat_steps"))
            accounts = db.execute("select platform, credentials_encrypted from "
                                  "connected_accounts").fetchall()
        if wordpress.app_password not in kept or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "/connect wordpress" in kept  # the history is there ...
    where = kept.find(wordpress.app_password)
    assert wordpress.app_password not in kept, kept[max(0, where - 300):where + 100]
    assert [a[0] for a in accounts] == ["wordpress"]
    assert wordpress.app_password not in accounts[0][1]
    assert wordpress.app_password not in keyed_server.log.read_text(errors="replace")
