"""Conversation events as Telegram messages: text, an edited progress message per job, an
approval request with signed inline buttons, and results as video / audio / photo / document.

Rate limits: progress is the chatty part, so each job's progress message is edited at most
once every ``edit_interval_s`` (Telegram allows about one message a second per chat; the
latest state is shown when the interval is up), an edit that changes nothing is skipped, and
a ``RetryAfter`` answer is waited out and retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from assistant.app.events import OutEvent
from assistant.channels.telegram.payloads import button_data
from assistant.config import Settings
from assistant.infra.media_links import public_media_url

log = logging.getLogger(__name__)
T = TypeVar("T")

TEXT_LIMIT = 4096  # characters in one message
CAPTION_LIMIT = 1024
UPLOAD_LIMIT = 50 * 1000 * 1000  # bytes a bot may upload (50 MB)
PHOTO_LIMIT = 10 * 1000 * 1000  # sendPhoto's own limit; bigger images go as documents
UPLOAD_TIMEOUT_S = 300.0
RETRIES = 3
LABELS = {"approve": "✅ Approve", "revise": "✏️ Revise", "reject": "❌ Reject"}
SENDERS = {"video": ("send_video", "video"), "audio": ("send_audio", "audio"),
           "image": ("send_photo", "photo"), "file": ("send_document", "document")}


def _seconds(delay: int | float | timedelta) -> float:
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces Telegram accepts, split at line ends where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


def progress_line(event: OutEvent) -> str:
    if event.percent is not None and event.percent >= 100 and event.text == "done":
        return f"✓ {event.step}"
    percent = f" {event.percent:.0f}%" if event.percent is not None else ""
    return f"… {event.step}{percent}" + (f" — {event.text}" if event.text else "")


@dataclass
class _Progress:
    """One job's progress message in one chat."""

    message_id: int | None = None
    steps: dict[str, str] = field(default_factory=dict)
    shown: str = ""
    last_edit: float = 0.0
    timer: asyncio.TimerHandle | None = None

    def text(self, job_id: str) -> str:
        return "\n".join([f"⏳ {job_id}", *list(self.steps.values())[-12:]])


class Renderer:
    def __init__(self, bot: Bot, settings: Settings, *, edit_interval_s: float = 3.0) -> None:
        self.bot, self.settings = bot, settings
        self.edit_interval_s = edit_interval_s
        self._progress: dict[tuple[int, str], _Progress] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """A Bot API call; a flood-control answer (RetryAfter) is waited out and retried."""
        for _ in range(RETRIES):
            try:
                return await method(*args, **kwargs)
            except RetryAfter as exc:
                log.warning("Telegram flood control: waiting %ss", exc.retry_after)
                await asyncio.sleep(_seconds(exc.retry_after) + 0.1)
        return await method(*args, **kwargs)

    # --- events ----------------------------------------------------------------------------

    async def show_all(self, chat_id: int, events: list[OutEvent]) -> None:
        for event in events:
            await self.show(chat_id, event)

    async def show(self, chat_id: int, event: OutEvent) -> None:
        """Show one event; a job's events are shown one at a time, in order."""
        if event.job_id is None:
            await self._show(chat_id, event)
            return
        key = (chat_id, event.job_id)
        async with self._locks.setdefault(key, asyncio.Lock()):
            if event.kind == "progress":
                await self._progress_event(key, event)
                return
            await self._finish_progress(key)
            await self._show(chat_id, event)

    async def _show(self, chat_id: int, event: OutEvent) -> None:
        if event.kind == "approval_request":
            await self.send_approval(chat_id, event)
        elif event.kind == "artifact":
            await self.send_file(chat_id, event)
        elif event.kind == "progress":  # a progress line with no job: rare, just say it
            await self.send_text(chat_id, progress_line(event))
        else:
            await self.send_text(chat_id, ("⚠️ " if event.kind == "error" else "") + event.text)

    async def send_text(self, chat_id: int, text: str, **kwargs: Any) -> Message | None:
        sent = None
        for piece in chunks(text) or ["…"]:
            sent = await self.call(self.bot.send_message, chat_id=chat_id, text=piece, **kwargs)
        return sent

    # --- approval --------------------------------------------------------------------------

    def keyboard(self, event: OutEvent) -> InlineKeyboardMarkup:
        assert event.job_id is not None
        buttons = [InlineKeyboardButton(LABELS.get(action, action),
                                        callback_data=button_data(self.settings, action,
                                                                  event.job_id, event.stage))
                   for action in event.actions]
        return InlineKeyboardMarkup([buttons])

    async def send_approval(self, chat_id: int, event: OutEvent) -> None:
        head = (f"📝 {event.text}\n" if event.text else "") + (
            f"{event.job_id} is waiting for your review ({event.stage}).")
        room = TEXT_LIMIT - len(head) - 4
        preview = event.preview if len(event.preview) <= room else event.preview[:room - 1] + "…"
        text = f"{head}\n\n{preview}" if preview else head
        await self.call(self.bot.send_message, chat_id=chat_id, text=text,
                        reply_markup=self.keyboard(event))

    # --- progress --------------------------------------------------------------------------

    async def _progress_event(self, key: tuple[int, str], event: OutEvent) -> None:
        state = self._progress.setdefault(key, _Progress())
        state.steps[event.step] = progress_line(event)
        if state.message_id is None:
            text = state.text(key[1])
            sent = await self.call(self.bot.send_message, chat_id=key[0], text=text)
            state.message_id, state.shown = sent.message_id, text
            state.last_edit = asyncio.get_running_loop().time()
            return
        await self._edit(key, state, force=False)

    async def _edit(self, key: tuple[int, str], state: _Progress, *, force: bool) -> None:
        text = state.text(key[1])
        if text == state.shown or state.message_id is None:
            return
        loop = asyncio.get_running_loop()
        wait = state.last_edit + self.edit_interval_s - loop.time()
        if wait > 0 and not force:
            if state.timer is None:
                state.timer = loop.call_later(wait, lambda: self._spawn(self._timer_edit(key)))
            return
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        state.last_edit, state.shown = loop.time(), text
        try:
            await self.call(self.bot.edit_message_text, chat_id=key[0],
                            message_id=state.message_id, text=text)
        except BadRequest as exc:  # "message is not modified", or it was deleted
            if "not modified" not in str(exc).lower():
                log.info("progress message for %s gone (%s): sending a new one", key[1], exc)
                sent = await self.call(self.bot.send_message, chat_id=key[0], text=text)
                state.message_id = sent.message_id

    async def _timer_edit(self, key: tuple[int, str]) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            state = self._progress.get(key)
            if state is not None:
                state.timer = None
                await self._edit(key, state, force=False)

    async def _finish_progress(self, key: tuple[int, str]) -> None:
        """Before another message about the job: show the latest progress now; the job's
        next progress starts a new message below it."""
        state = self._progress.pop(key, None)
        if state is not None:
            await self._edit(key, state, force=True)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a Telegram update failed", exc_info=task.exception())

    def spawn_show(self, chat_id: int, event: OutEvent) -> None:
        """Schedule ``show`` on the running loop (from a callback the loop runs)."""
        self._spawn(self._show_logged(chat_id, event))

    async def _show_logged(self, chat_id: int, event: OutEvent) -> None:
        try:
            await self.show(chat_id, event)
        except Forbidden as exc:  # never started the bot, or blocked it
            log.warning("cannot message chat %s about %s: %s", chat_id, event.job_id, exc)
        except TelegramError as exc:
            log.error("sending %s of %s to chat %s failed: %s", event.kind, event.job_id,
                      chat_id, exc)

    async def drain(self) -> None:
        """Wait for every scheduled message, including throttled progress edits."""
        while self._tasks or any(s.timer for s in self._progress.values()):
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            else:
                await asyncio.sleep(0.05)

    def cancel_timers(self) -> None:
        for state in self._progress.values():
            if state.timer is not None:
                state.timer.cancel()
                state.timer = None

    # --- results ---------------------------------------------------------------------------

    async def send_file(self, chat_id: int, event: OutEvent) -> None:
        path = Path(event.path)
        files = sorted(p for p in path.iterdir() if p.is_file())[:10] if path.is_dir() else [path]
        for file in files:
            await self._send_one(chat_id, event, file)

    async def _send_one(self, chat_id: int, event: OutEvent, path: Path) -> None:
        kind = event.artifact_kind if path == Path(event.path) else "file"
        caption = (f"{event.job_id}: {path.name}" if event.job_id else path.name)[:CAPTION_LIMIT]
        try:
            size = path.stat().st_size
        except OSError:
            await self.send_text(chat_id, f"⚠️ {event.job_id}: the result {path.name} is "
                                          "no longer there")
            return
        if kind == "image" and size > PHOTO_LIMIT:
            kind = "file"
        if size > UPLOAD_LIMIT:
            await self.send_text(chat_id, self._too_big(event, path, size))
            return
        method_name, field_name = SENDERS.get(kind, SENDERS["file"])
        data = await asyncio.to_thread(path.read_bytes)
        await self.call(getattr(self.bot, method_name), chat_id=chat_id,
                        **{field_name: data}, filename=path.name, caption=caption,
                        read_timeout=UPLOAD_TIMEOUT_S, write_timeout=UPLOAD_TIMEOUT_S)

    def _too_big(self, event: OutEvent, path: Path, size: int) -> str:
        """A signed, expiring link (:mod:`assistant.infra.media_links`) when there is a public
        base URL, else the file's name only: a server path never reaches a reader."""
        mb = f"{size / 1e6:.0f} MB"
        url = public_media_url(self.settings, event.job_id or "", path)
        if url is not None:
            return (f"{event.job_id}: {path.name} ({mb}) is over Telegram's 50 MB limit "
                    f"for bots; download it here: {url}")
        return (f"{event.job_id}: {path.name} ({mb}) is over Telegram's 50 MB limit for "
                f"bots: `assistant show {event.job_id}` on the server lists it")
