"""Drive the real Telegram bot without a network: the library's own HTTP seam.

``FakeTelegram`` is a ``telegram.request.BaseRequest`` (passed through
``ApplicationBuilder().request(...)``): it records every Bot API call the bot makes and
answers as Telegram would, and serves file downloads (getFile + the file URL) from bytes the
test registers. ``TgBot`` builds the bot's Application over a given Conversation with it, and
feeds ``telegram.Update.de_json`` updates through ``Application.process_update``.

    ada = tg_user(42, "Ada")  # ChannelUser("telegram", "42") to the conversation
    async with TgBot(conv, settings) as tg:
        await tg.voice(ada, make_voice_note("Make a blog post about how tides work.", tmp))
        job_id = tg.api.started_job(42)
        await tg.settle(job_id)                      # the job's events are sent
        review = tg.api.approvals(42, job_id)[-1]    # the sendMessage with the buttons
        await tg.press(ada, review.button("approve"), review)
        assert tg.api.find("answerCallbackQuery")

(Tests are plain functions that ``asyncio.run`` such a scenario.)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from assistant.app.conversation import Conversation
from assistant.channels.telegram import TelegramBot, build_application
from assistant.config import Settings

BOT_ID = 7000001
TOKEN = f"{BOT_ID}:AAtest-token-for-the-offline-harness_x"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Studio", "username": "studio_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
FILE_URL = f"https://api.telegram.org/file/bot{TOKEN}/"


def settings_with_token(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_token": SecretStr(TOKEN)})


@dataclass
class Call:
    """One Bot API call: its method name, its parameters and any uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    result: Any = None  # what the fake answered

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button(self, action: str) -> str:
        """The callback_data of the button whose data starts with the action's code."""
        code = {"approve": "a|", "revise": "v|", "reject": "r|"}[action]
        return next(b["callback_data"] for b in self.buttons if b["callback_data"].startswith(code))


class FakeTelegram(BaseRequest):
    """Answers Bot API calls like Telegram and records them (``calls``)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file_id -> content
        self.paths: dict[str, str] = {}  # file_id -> its file_path on the Bot API server
        self.downloads: list[str] = []  # file URLs fetched
        self._ids = itertools.count(1000)
        self.token_rejected = False  # answer like Telegram does to a revoked token

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        """Serve ``content`` for getFile(file_id) and the download that follows."""
        self.files[file_id] = content
        self.paths[file_id] = file_path or f"voice/{file_id}.oga"

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if unquote(url).startswith(FILE_URL):  # File.download_to_drive
            url = unquote(url)
            wanted = url.removeprefix(FILE_URL)
            file_id = next((f for f, p in self.paths.items() if p == wanted), "")
            self.downloads.append(url)
            if file_id not in self.files:
                return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
            return 200, self.files[file_id]
        api = url.rsplit("/", 1)[-1]
        if self.token_rejected:
            return 401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'
        params = dict(request_data.parameters) if request_data else {}
        files = dict(request_data.multipart_data) if request_data and \
            request_data.contains_files else {}
        result = self._answer(api, params, files)
        self.calls.append(Call(api, params, files, result))  # type: ignore[arg-type]
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {"message_id": params.get("message_id") or next(self._ids),
                "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                **extra}

    def _answer(self, api: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if api == "getMe":
            return BOT_USER
        if api in ("sendMessage", "editMessageText"):
            return self._message(params, text=params.get("text", ""))
        if api in ("sendVideo", "sendAudio", "sendPhoto", "sendDocument", "sendVoice",
                   "editMessageReplyMarkup"):
            return self._message(params, caption=params.get("caption", ""))
        if api == "getFile":
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files.get(file_id, b"")),
                    "file_path": self.paths.get(file_id, f"missing/{file_id}")}
        return True  # answerCallbackQuery, setMyCommands, sendChatAction, ...

    # --- asserting ---------------------------------------------------------------------------

    def find(self, method: str, **params: Any) -> list[Call]:
        """Calls to ``method`` whose parameters include ``params`` (text= matches a part)."""
        found = []
        for call in self.calls:
            if call.method != method:
                continue
            ok = True
            for key, want in params.items():
                got = call.params.get(key)
                if key in ("text", "caption") and isinstance(want, str):
                    ok = ok and isinstance(got, str) and want in got
                elif key == "chat_id":
                    ok = ok and got is not None and int(got) == int(want)
                else:
                    ok = ok and got == want
            if ok:
                found.append(call)
        return found

    def approvals(self, chat_id: int, job_id: str, stage: str | None = None) -> list[Call]:
        """The approval requests (messages with buttons) sent about the job, oldest first."""
        return [c for c in self.find("sendMessage", chat_id=chat_id, text=job_id)
                if c.buttons and (stage is None or f"({stage})" in c.params["text"])]

    def started_job(self, chat_id: int) -> str | None:
        """The job id of the first "Started job-..." reply in the chat."""
        for call in self.find("sendMessage", chat_id=chat_id, text="Started job-"):
            return str(call.params["text"]).split()[1].rstrip(":")
        return None


def make_voice_note(text: str, directory: Path) -> bytes:
    """``text`` spoken by the real piper voice, encoded as Telegram sends voice notes
    (OGG/Opus, mono, 48 kHz)."""
    from media.tts import get_tts

    wav, ogg = directory / "voice-note.wav", directory / "voice-note.ogg"
    get_tts("piper").synthesize(text, wav)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus",
                    "-b:a", "24k", "-ac", "1", "-ar", "48000", str(ogg)], check=True)
    return ogg.read_bytes()


# --- updates as Telegram sends them --------------------------------------------------------

_update_ids = itertools.count(1)


def tg_user(user_id: int, name: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name}


def message(user: dict[str, Any], text: str | None = None, *, chat_id: int | None = None,
            reply_to: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user["id"]
    body: dict[str, Any] = {
        "message_id": next(_update_ids) + 500_000, "date": int(time.time()), "from": user,
        "chat": {"id": chat, "type": "private" if chat > 0 else "group",
                 "first_name": user["first_name"]}, **extra}
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0,
                                 "length": len(text.split()[0])}]
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    return {"update_id": next(_update_ids), "message": body}


def voice(user: dict[str, Any], file_id: str, size: int, duration: int = 3) -> dict[str, Any]:
    return message(user, voice={"file_id": file_id, "file_unique_id": f"u{file_id}",
                                "duration": duration, "mime_type": "audio/ogg",
                                "file_size": size})


def document(user: dict[str, Any], file_id: str, name: str, size: int) -> dict[str, Any]:
    return message(user, document={"file_id": file_id, "file_unique_id": f"u{file_id}",
                                   "file_name": name, "file_size": size})


def press(user: dict[str, Any], data: str, on: Call | None = None) -> dict[str, Any]:
    """A callback query: ``user`` pressed the button with ``data`` on the message ``on``."""
    chat = int(on.params["chat_id"]) if on else user["id"]
    shown = {"message_id": 999, "date": int(time.time()), "from": BOT_USER,
             "chat": {"id": chat, "type": "private"}, "text": (on.params.get("text") if on
                                                              else "") or "…"}
    return {"update_id": next(_update_ids),
            "callback_query": {"id": str(next(_update_ids)), "from": user, "chat_instance": "ci",
                               "data": data, "message": shown}}


# --- the bot ---------------------------------------------------------------------------------


class TgBot:
    """The real bot Application over ``conv``, its HTTP layer replaced by ``FakeTelegram``."""

    def __init__(self, conv: Conversation, settings: Settings, *,
                 api: FakeTelegram | None = None, edit_interval_s: float = 0.0) -> None:
        self.conv = conv
        self.settings = settings_with_token(settings)
        self.api = api or FakeTelegram()
        self.app: Application | None = None
        self.bot: TelegramBot | None = None
        self.edit_interval_s = edit_interval_s

    async def __aenter__(self) -> TgBot:
        self.app, self.bot = build_application(
            self.conv, self.settings, request=self.api, get_updates_request=FakeTelegram(),
            edit_interval_s=self.edit_interval_s)
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)  # what run_polling does after initialize
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self.app is not None
        if self.app.post_stop is not None:
            await self.app.post_stop(self.app)  # what run_polling does before shutdown
        await self.app.shutdown()

    async def feed(self, payload: dict[str, Any]) -> None:
        assert self.app is not None
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    async def text(self, user: dict[str, Any], text: str, **kw: Any) -> None:
        await self.feed(message(user, text, **kw))

    async def voice(self, user: dict[str, Any], ogg: bytes, file_id: str = "voice1") -> None:
        """``user`` sends a voice note (OGG/Opus bytes), served when the bot downloads it."""
        self.api.add_file(file_id, ogg)
        await self.feed(voice(user, file_id, len(ogg)))

    async def document(self, user: dict[str, Any], name: str, content: bytes,
                       file_id: str = "doc1") -> None:
        """``user`` sends a file (a document) to the bot."""
        self.api.add_file(file_id, content, f"documents/{name}")
        await self.feed(document(user, file_id, name, len(content)))

    async def press(self, user: dict[str, Any], data: str, on: Call | None = None) -> None:
        await self.feed(press(user, data, on))

    async def until(self, condition: Callable[[], Any], timeout: float = 120.0) -> Any:
        """Let the bot run until ``condition()`` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                methods = [c.method for c in self.api.calls]
                raise AssertionError(f"timed out; Bot API calls: {methods}")
            await asyncio.sleep(0.05)

    async def settle(self, job_id: str, timeout: float = 120.0) -> None:
        """Wait for the job's background work to stop and its events to be sent."""
        assert await asyncio.to_thread(self.conv.wait, job_id, timeout)
        assert self.bot is not None
        await asyncio.sleep(0.05)  # events the job thread handed over just before it ended
        await self.bot.drain()
