"""The OAuth redirect on the real web app: `assistant chat` serves /oauth/youtube/callback
before Chainlit's catch-all page, finishes the sign-in against the Google stand-in and stores
the account in the app's database; a declined or forged return stores nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from youtube_standin import YouTubeStandIn  # noqa: E402

from assistant.app.studio import Services  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.tools.publishing import oauth  # noqa: E402
from assistant.tools.publishing.accounts import AccountStore, Owner  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def standin() -> Iterator[YouTubeStandIn]:
    server = YouTubeStandIn()
    server.start()
    yield server
    server.stop()


def test_the_web_app_serves_the_callback_and_stores_the_account(
        standin: YouTubeStandIn, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_SEED_SAMPLE_KB": "0",
        "ASSISTANT_SECRET_KEY": "web-test-secret-key-0123456789",
        "ASSISTANT_CHAT_SECRET": "web-test-chat-secret-0123456789",
        "ASSISTANT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ASSISTANT_YOUTUBE_CLIENT_ID": "yt-client", "ASSISTANT_YOUTUBE_CLIENT_SECRET": "yt-secret",
        "ASSISTANT_YOUTUBE_AUTH_URL": standin.url + "/o/oauth2/v2/auth",
        "ASSISTANT_YOUTUBE_TOKEN_URL": standin.url + "/token",
        "ASSISTANT_YOUTUBE_API_URL": standin.url + "/", "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--port", str(port)],
                              cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                if httpx.get(f"{base}/auth/config", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the web chat did not start"
            time.sleep(0.5)

        declined = httpx.get(f"{base}/oauth/youtube/callback", params={"error": "access_denied"})
        assert declined.status_code == 400 and "did not connect (access_denied)" in declined.text

        settings = Settings(_env_file=None, **{k.removeprefix("ASSISTANT_").lower(): v
                                               for k, v in env.items()
                                               if k.startswith("ASSISTANT_")})
        svc = Services.create(settings)
        try:
            owner = Owner.profile(svc.repo.ensure_user("ada"))
            consent = httpx.get(oauth.authorization_url(settings, "youtube", owner),
                                follow_redirects=False)
            back = consent.headers["Location"]
            assert back.startswith(f"{base}/oauth/youtube/callback?")
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
            forged = httpx.get(f"{base}/oauth/youtube/callback",
                               params=query | {"state": query["state"][:-4] + "AAAA"})
            assert forged.status_code == 400
            landed = httpx.get(back)
            assert landed.status_code == 200, landed.text
            assert "Tides Explained is connected" in landed.text
            account = AccountStore.from_settings(settings, svc.db).get(owner, "youtube")
            assert account is not None and account.credentials["access_token"] in \
                standin.access_tokens
        finally:
            svc.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()
