"""Connecting YouTube and TikTok by OAuth against the local stand-ins: the authorization code
flow with PKCE through the web app's callback route, Google's device flow (also through the
real `assistant connect youtube`), signed states, token refresh (TikTok's refresh token
rotates), and the clear lines when something is not configured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from tiktok_standin import TikTokStandIn  # noqa: E402
from youtube_standin import YouTubeStandIn  # noqa: E402

from assistant.app.studio import Services  # noqa: E402
from assistant.channels.web import oauth as web_oauth  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.errors import ConfigError, InputError  # noqa: E402
from assistant.tools.publishing import oauth  # noqa: E402
from assistant.tools.publishing.accounts import AccountStore, Owner  # noqa: E402

SECRET_KEY = "test-secret-key-0123456789abcdef"


@pytest.fixture
def youtube() -> Iterator[YouTubeStandIn]:
    server = YouTubeStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tiktok() -> Iterator[TikTokStandIn]:
    server = TikTokStandIn()
    server.start()
    yield server
    server.stop()


def settings_for(tmp_path: Path, yt: YouTubeStandIn | None = None,
                 tt: TikTokStandIn | None = None, **extra: Any) -> Settings:
    values: dict[str, Any] = {"secret_key": SECRET_KEY, "chat_secret": "chat-secret",
                              "public_base_url": "https://studio.example.com"}
    if yt is not None:
        values |= {"youtube_client_id": "yt-client", "youtube_client_secret": "yt-secret",
                   "youtube_auth_url": yt.url + "/o/oauth2/v2/auth",
                   "youtube_token_url": yt.url + "/token",
                   "youtube_device_url": yt.url + "/device/code",
                   "youtube_api_url": yt.url + "/"}
    if tt is not None:
        values |= {"tiktok_client_key": "tt-key", "tiktok_client_secret": "tt-secret",
                   "tiktok_api_url": tt.url, "tiktok_auth_url": tt.url + "/v2/auth/authorize/"}
    return Settings(_env_file=None, data_dir=tmp_path / "data", **(values | extra))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = Services.create(settings_for(tmp_path))
    yield svc
    svc.close()


def web_client(settings: Settings, svc: Services) -> TestClient:
    """The callback route as app.py mounts it, on a bare FastAPI app."""
    app = FastAPI()
    web = SimpleNamespace(settings=settings, svc=svc)
    app.router.routes.insert(0, APIRoute(web_oauth.ROUTE, web_oauth.callback_for(
        lambda: web), methods=["GET"]))  # type: ignore[arg-type, return-value]
    return TestClient(app)


def consent(url: str) -> str:
    """What the provider's consent page does when the person approves: the redirect."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_youtube_web_flow_stores_tokens_that_publish(youtube: YouTubeStandIn, services: Services,
                                                     tmp_path: Path) -> None:
    settings = settings_for(tmp_path, youtube)
    owner = Owner.profile(services.repo.ensure_user("ada"))
    url = oauth.authorization_url(settings, "youtube", owner)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert params["redirect_uri"] == "https://studio.example.com/oauth/youtube/callback"
    assert params["code_challenge_method"] == "S256" and params["access_type"] == "offline"
    assert "youtube.upload" in params["scope"]

    back = urllib.parse.urlsplit(consent(url))
    assert back.path == "/oauth/youtube/callback"
    page = web_client(settings, services).get(f"{back.path}?{back.query}")
    assert page.status_code == 200 and "connected" in page.text
    code = dict(urllib.parse.parse_qsl(back.query))["code"]
    assert code not in page.text and params["state"] not in page.text

    account = AccountStore.from_settings(settings, services.db).get(owner, "youtube")
    assert account is not None and account.credentials["refresh_token"].startswith("1//")
    assert account.display_name == "Tides Explained"
    assert account.expires_at is not None and account.expires_at > datetime.now(UTC)

    from assistant.content import Brief, Script
    from assistant.tools.publishing.base import PublishRequest
    from assistant.tools.publishing.youtube import YouTubePublisher

    video = tmp_path / "v.mp4"
    video.write_bytes(os.urandom(1000))
    published = YouTubePublisher(settings).publish(PublishRequest(
        job_id="j", brief=Brief.create("tides", "video"),
        script=Script(format="video", title="Tides", hook="h", sections=[]),
        files={"video": video}, credentials=account.credentials, frame=(1920, 1080),
        duration_s=70.0))
    assert published.post_id in youtube.videos


def test_tiktok_web_flow_uses_tiktoks_pkce_and_keeps_the_open_id(
        tiktok: TikTokStandIn, services: Services, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, tt=tiktok)
    owner = Owner.profile(services.repo.ensure_user("ada"))
    back = urllib.parse.urlsplit(consent(oauth.authorization_url(settings, "tiktok", owner)))
    page = web_client(settings, services).get(f"{back.path}?{back.query}")
    assert page.status_code == 200, page.text
    account = AccountStore.from_settings(settings, services.db).get(owner, "tiktok")
    assert account is not None and account.credentials["open_id"] == "-000OpenId"
    assert account.display_name == "Tides Explained"
    assert account.credentials["access_token"] in tiktok.tokens


def test_forged_moved_expired_or_declined_states_store_nothing(
        youtube: YouTubeStandIn, tiktok: TikTokStandIn, services: Services, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path, youtube, tiktok)
    owner = Owner.profile(services.repo.ensure_user("ada"))
    client = web_client(settings, services)
    store = AccountStore.from_settings(settings, services.db)

    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(consent(
        oauth.authorization_url(settings, "youtube", owner))).query))
    forged = back["state"][:-3] + ("AAA" if not back["state"].endswith("AAA") else "BBB")
    page = client.get("/oauth/youtube/callback", params={"code": back["code"], "state": forged})
    assert page.status_code == 400 and "not valid" in page.text
    page = client.get("/oauth/tiktok/callback", params=back)  # a YouTube state at TikTok's
    assert page.status_code == 400 and "not for tiktok" in page.text
    page = client.get("/oauth/youtube/callback", params={"error": "access_denied"})
    assert page.status_code == 400 and "did not connect" in page.text
    monkeypatch.setattr(oauth, "STATE_MAX_AGE_S", -1)
    page = client.get("/oauth/youtube/callback", params=back)
    assert page.status_code == 400 and "expired" in page.text
    assert store.list(owner) == []
    assert client.get("/oauth/myspace/callback").status_code == 404


def test_not_configured_is_one_clear_line(services: Services, tmp_path: Path) -> None:
    owner = Owner.profile(services.repo.ensure_user("ada"))
    with pytest.raises(ConfigError) as caught:
        oauth.authorization_url(settings_for(tmp_path), "youtube", owner)
    assert "ASSISTANT_YOUTUBE_CLIENT_ID" in caught.value.user_message
    with pytest.raises(ConfigError) as caught:
        oauth.authorization_url(settings_for(tmp_path), "tiktok", owner)
    assert "ASSISTANT_TIKTOK_CLIENT_KEY" in caught.value.user_message
    keyless = settings_for(tmp_path, secret_key=None, youtube_client_id="x",
                           youtube_client_secret="y")
    with pytest.raises(ConfigError) as caught:
        oauth.authorization_url(keyless, "youtube", owner)
    assert "ASSISTANT_SECRET_KEY" in caught.value.user_message


def test_device_flow_polls_until_approved(youtube: YouTubeStandIn, services: Services,
                                          tmp_path: Path) -> None:
    settings = settings_for(tmp_path, youtube)
    owner = Owner.profile(services.repo.ensure_user("ada"))
    device = oauth.device_start(settings)
    assert device.verification_url == "https://www.google.com/device"
    waits: list[float] = []

    def approve_on_second_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            youtube.approve_device(device.user_code)

    info = oauth.device_finish(settings, services.db, owner, device, sleep=approve_on_second_wait)
    assert info.platform == "youtube" and waits == [1.0, 1.0]
    account = AccountStore.from_settings(settings, services.db).get(owner, "youtube")
    assert account is not None and account.credentials["access_token"] in youtube.access_tokens

    declined = oauth.device_start(settings)
    youtube.approve_device(declined.user_code, deny=True)
    with pytest.raises(InputError, match="declined"):
        oauth.device_finish(settings, services.db, owner, declined, sleep=lambda s: None)


def test_assistant_connect_youtube_prints_the_code_and_connects(
        youtube: YouTubeStandIn, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_DATA_DIR": str(tmp_path / "cli"), "ASSISTANT_SECRET_KEY": SECRET_KEY,
            "ASSISTANT_YOUTUBE_CLIENT_ID": "yt-client",
            "ASSISTANT_YOUTUBE_CLIENT_SECRET": "yt-secret",
            "ASSISTANT_YOUTUBE_TOKEN_URL": youtube.url + "/token",
            "ASSISTANT_YOUTUBE_DEVICE_URL": youtube.url + "/device/code",
            "ASSISTANT_YOUTUBE_API_URL": youtube.url + "/"}
    run = subprocess.Popen([sys.executable, "-m", "assistant", "connect", "youtube"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not youtube.devices and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    [device] = youtube.devices.values()
    youtube.approve_device(device.user_code)
    out, errors = run.communicate(timeout=60)
    assert run.returncode == 0, errors
    assert device.user_code in out and "https://www.google.com/device" in out
    assert "connected YouTube: Tides Explained" in out
    assert "yt-secret" not in out + errors


def test_assistant_connect_tiktok_catches_the_loopback_redirect(
        tiktok: TikTokStandIn, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_DATA_DIR": str(tmp_path / "cli"), "ASSISTANT_SECRET_KEY": SECRET_KEY,
            "ASSISTANT_TIKTOK_CLIENT_KEY": "tt-key", "ASSISTANT_TIKTOK_CLIENT_SECRET": "tt-secret",
            "ASSISTANT_TIKTOK_API_URL": tiktok.url,
            "ASSISTANT_TIKTOK_AUTH_URL": tiktok.url + "/v2/auth/authorize/",
            "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-m", "assistant", "connect", "tiktok"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path)
    try:
        assert run.stdout is not None
        link = ""
        while not link.startswith(tiktok.url):
            line = run.stdout.readline()
            assert line, run.stderr.read() if run.stderr else "no link printed"
            link = line.strip()
        back = httpx.get(link, follow_redirects=False).headers["Location"]
        assert back.startswith("http://127.0.0.1:") and "/callback/?" in back
        assert httpx.get(back).status_code == 200  # the browser lands on the CLI's listener
        out, errors = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, errors
    assert "connected TikTok: Tides Explained" in out
    assert "tt-secret" not in out + errors


def test_assistant_connect_says_when_it_is_not_set_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path / "cli")
    run = subprocess.run([sys.executable, "-m", "assistant", "connect", "youtube"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 1
    assert "ASSISTANT_YOUTUBE_CLIENT_ID" in run.stderr and "Traceback" not in run.stderr


def test_expired_tokens_are_refreshed_and_tiktoks_rotation_is_kept(
        youtube: YouTubeStandIn, tiktok: TikTokStandIn, services: Services,
        tmp_path: Path) -> None:
    settings = settings_for(tmp_path, youtube, tiktok)
    owner = Owner.profile(services.repo.ensure_user("ada"))
    store = AccountStore.from_settings(settings, services.db)
    past = datetime.now(UTC) - timedelta(minutes=5)
    yt_tokens, tt_tokens = youtube.issue_tokens(expired=True), tiktok.issue_tokens()
    store.store(owner, "youtube", "YouTube account", {
        "access_token": yt_tokens["access_token"], "refresh_token": yt_tokens["refresh_token"],
        "token_uri": youtube.url + "/token", "client_id": "yt-client",
        "client_secret": "yt-secret", "expiry": past.isoformat()}, expires_at=past)
    store.store(owner, "tiktok", "TikTok account", {
        "access_token": tt_tokens["access_token"], "refresh_token": tt_tokens["refresh_token"],
        "token_uri": tiktok.url + "/v2/oauth/token/", "client_key": "tt-key",
        "client_secret": "tt-secret", "expiry": past.isoformat()}, expires_at=past)

    fresh = store.credentials_for([owner])
    assert fresh["youtube"]["access_token"] != yt_tokens["access_token"]
    assert fresh["youtube"]["access_token"] in youtube.access_tokens
    assert fresh["tiktok"]["refresh_token"] != tt_tokens["refresh_token"]
    assert tt_tokens["refresh_token"] not in tiktok.refresh_tokens  # the old one is spent
    again = store.get(owner, "tiktok")  # the rotated one was stored: no refresh now
    assert again is not None and again.credentials == fresh["tiktok"]
    assert again.expires_at is not None and again.expires_at > datetime.now(UTC)


def test_the_chat_line_holds_the_link_and_says_where_it_returns(
        youtube: YouTubeStandIn, services: Services, tmp_path: Path) -> None:
    owner = Owner.profile(services.repo.ensure_user("ada"))
    line = oauth.connect_line(settings_for(tmp_path, youtube), "youtube", owner)
    assert "\n" not in line and "15 minutes" in line
    assert line.split(": ", 1)[1].startswith(youtube.url + "/o/oauth2/v2/auth?")
    local = settings_for(tmp_path, youtube, public_base_url=None)
    assert "ASSISTANT_PUBLIC_BASE_URL" in oauth.connect_line(local, "youtube", owner)
