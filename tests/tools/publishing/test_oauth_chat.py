"""/connect youtube and /connect tiktok through the real conversation: the answer is a consent
link bound to the person who asked; approving it (the stand-in's consent page) and landing on
the web app's callback connects the account, which /platforms then lists."""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from tiktok_standin import TikTokStandIn  # noqa: E402
from youtube_standin import YouTubeStandIn  # noqa: E402

from assistant.app.conversation import Conversation  # noqa: E402
from assistant.app.events import ChannelUser, OutEvent  # noqa: E402
from assistant.app.runner import JobRunner  # noqa: E402
from assistant.app.studio import Services  # noqa: E402
from assistant.channels.web import oauth as web_oauth  # noqa: E402
from assistant.config import Settings  # noqa: E402

ADA = ChannelUser("telegram", "42", "Ada")
BOB = ChannelUser("discord", "7", "Bob")


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


@pytest.fixture
def svc(tmp_path: Path, youtube: YouTubeStandIn, tiktok: TikTokStandIn) -> Iterator[Services]:
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", secret_key="chat-test-key-0123456789",
        public_base_url="https://studio.example.com",
        youtube_client_id="yt-client", youtube_client_secret="yt-secret",
        youtube_auth_url=youtube.url + "/o/oauth2/v2/auth",
        youtube_token_url=youtube.url + "/token",
        youtube_api_url=youtube.url + "/", tiktok_client_key="tt-key",
        tiktok_client_secret="tt-secret", tiktok_api_url=tiktok.url,
        tiktok_auth_url=tiktok.url + "/v2/auth/authorize/")
    services = Services.create(settings)
    yield services
    services.close()


@pytest.fixture
def conv(svc: Services) -> Iterator[Conversation]:
    runner = JobRunner(svc)
    conversation = Conversation(svc, runner)
    yield conversation
    conversation.close()
    runner.close()


def one(events: list[OutEvent]) -> OutEvent:
    assert len(events) == 1, events
    return events[0]


def land(svc: Services, consent_link: str) -> httpx.Response:
    """Approve on the provider's page, then follow its redirect to our callback route."""
    answer = httpx.get(consent_link, follow_redirects=False)
    assert answer.status_code == 302
    back = urllib.parse.urlsplit(answer.headers["Location"])
    app = FastAPI()
    web = SimpleNamespace(settings=svc.settings, svc=svc)
    app.router.routes.insert(0, APIRoute(web_oauth.ROUTE, web_oauth.callback_for(
        lambda: web), methods=["GET"]))  # type: ignore[arg-type, return-value]
    return TestClient(app).get(f"{back.path}?{back.query}")  # type: ignore[return-value]


@pytest.mark.parametrize("platform,listed", [("youtube", "• YouTube: Tides Explained"),
                                             ("tiktok", "• TikTok: Tides Explained")])
def test_connect_answers_a_consent_link_that_connects_the_asker(
        conv: Conversation, svc: Services, platform: str, listed: str) -> None:
    reply = one(conv.handle(ADA, f"/connect {platform}"))
    assert reply.kind == "text" and "15 minutes" in reply.text
    link = reply.text.rsplit(": ", 1)[1]
    assert land(svc, link).status_code == 200
    assert listed in one(conv.handle(ADA, "/platforms")).text
    assert "Nothing connected" in one(conv.handle(BOB, "/platforms")).text  # Ada's, not Bob's


def test_connect_with_extra_words_or_unconfigured_is_one_line(tmp_path: Path) -> None:
    services = Services.create(Settings(_env_file=None, data_dir=tmp_path / "bare",
                                        secret_key="chat-test-key-0123456789"))
    runner = JobRunner(services)
    conversation = Conversation(services, runner)
    try:
        extra = one(conversation.handle(ADA, "/connect youtube my-channel"))
        assert extra.kind == "error" and "on its own" in extra.text
        bare = one(conversation.handle(ADA, "/connect tiktok"))
        assert bare.kind == "error" and "ASSISTANT_TIKTOK_CLIENT_KEY" in bare.text
        assert "\n" not in bare.text
    finally:
        conversation.close()
        runner.close()
        services.close()
