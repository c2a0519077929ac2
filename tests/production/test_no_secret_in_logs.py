"""Each bot and each LLM provider run at DEBUG; the captured logs never hold a secret.

The logs are caught twice: the process's own stderr handler (what an operator reads) and
pytest's capture handler (a handler some library added, which our formatter never touches).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr
from telegram import Bot

from assistant.app.conversation import Conversation
from assistant.config import Settings
from assistant.infra.observability import configure_logging
from assistant.llm.chat import get_chat_model
from tests.app.conftest import conv
from tests.channels.discord_harness import DiscordHarness, Person
from tests.channels.tg_harness import BOT_USER, TOKEN, TgBot, settings_with_token, tg_user

DISCORD_TOKEN = "OTAwMDAwMDAwMDAwMDAwMDAy.GhAbCd.abcdefghijklmnopqrstuvwxyz0123456789"
LLM_KEY = "plainkeyvalue0123456789abcdef"  # no known shape: only its value can find it
__all__ = ["conv"]  # the conversation fixture, shared with the app tests


class Logs:
    def __init__(self, capsys: pytest.CaptureFixture[str],
                 caplog: pytest.LogCaptureFixture) -> None:
        self.capsys, self.caplog = capsys, caplog

    def text(self) -> str:
        records = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in self.caplog.records)
        return self.capsys.readouterr().err + "\n" + records


@pytest.fixture
def debug_logs(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
               settings: Settings) -> Iterator[Logs]:
    root = logging.getLogger()
    level = root.level
    secrets = settings.model_copy(update={
        "telegram_token": SecretStr(TOKEN), "discord_token": SecretStr(DISCORD_TOKEN),
        "llm_api_key": SecretStr(LLM_KEY)})
    handler = configure_logging(level="DEBUG", settings=secrets)
    caplog.set_level(logging.DEBUG)
    try:
        yield Logs(capsys, caplog)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)


class StandIn(BaseHTTPRequestHandler):
    """Answers as the Bot API (getMe), OpenAI (chat/completions) and Anthropic (messages)
    document, and only to the right credential, so a test sees the secret did go out."""

    paths: list[str] = []

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.paths.append(self.path)
        if self.path == f"/bot{TOKEN}/getMe":
            return self._send(200, {"ok": True, "result": BOT_USER})
        if self.path.endswith("/chat/completions"):
            if self.headers.get("authorization") != f"Bearer {LLM_KEY}":
                return self._send(401, {"error": {"message": "Incorrect API key provided",
                                                  "type": "invalid_request_error"}})
            return self._send(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "hello"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
        if self.path.endswith("/messages"):
            # x-api-key as documented; this SDK release sends it as a bearer token
            if LLM_KEY not in (self.headers.get("x-api-key"),
                               self.headers.get("authorization", "").removeprefix("Bearer ")):
                return self._send(401, {"type": "error", "error": {
                    "type": "authentication_error", "message": "invalid x-api-key"}})
            return self._send(200, {
                "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}})
        return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def assert_clean(logs: Logs, *secrets: str) -> str:
    text = logs.text()
    assert text.strip(), "nothing was logged: the check would prove nothing"
    for secret in secrets:
        assert secret not in text
    return text


def test_telegram_over_real_http_logs_no_token(debug_logs: Logs, stand_in: str) -> None:
    """The reported leak: httpx logs the request URL, and a Bot API URL holds the token."""
    async def who() -> str:
        async with Bot(TOKEN, base_url=f"{stand_in}/bot") as bot:
            return bot.username

    assert asyncio.run(who()) == BOT_USER["username"]
    assert f"/bot{TOKEN}/getMe" in StandIn.paths  # the token did travel in the URL
    text = assert_clean(debug_logs, TOKEN, TOKEN.split(":")[1])
    assert "HTTP Request: POST" in text and "/bot***/getMe" in text


def test_the_telegram_bot_logs_no_token(debug_logs: Logs, conv: Conversation,
                                        settings: Settings) -> None:
    ada = tg_user(42, "Ada")

    async def scenario() -> None:
        async with TgBot(conv, settings_with_token(settings)) as tg:
            for text in ("/start", "/jobs", "/kb", "/frobnicate"):
                await tg.text(ada, text)

    asyncio.run(scenario())
    assert_clean(debug_logs, TOKEN, TOKEN.split(":")[1])


def test_the_discord_bot_logs_no_token(debug_logs: Logs, conv: Conversation) -> None:
    class Harness(DiscordHarness):
        def start(self, *, ready: bool = True) -> DiscordHarness:
            self.run(self.bot.login(DISCORD_TOKEN))
            if ready:
                self.ready()
            return self

    with Harness(conv) as dc:
        dc.slash("jobs", Person(777, "ada"))
        dc.slash("kb", Person(777, "ada"))
    assert_clean(debug_logs, DISCORD_TOKEN, DISCORD_TOKEN.split(".")[-1])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_llm_providers_log_no_key(debug_logs: Logs, stand_in: str, provider: str,
                                  settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_URL", stand_in)  # ChatAnthropic's own override
    chat = get_chat_model(settings.model_copy(update={
        "llm_provider": provider, "llm_base_url": f"{stand_in}/v1", "llm_model": "m",
        "llm_api_key": SecretStr(LLM_KEY)}))
    assert chat.model.invoke([HumanMessage("Say hello.")]).content == "hello"
    assert any(p.endswith(("/chat/completions", "/messages")) for p in StandIn.paths)
    text = assert_clean(debug_logs, LLM_KEY)
    assert "HTTP Request: POST" in text  # httpx at DEBUG did log the request
