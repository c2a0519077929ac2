"""The Telegram bot's handlers: commands, free text, voice notes, files and button presses,
all handed to :class:`~assistant.app.conversation.Conversation` as
``ChannelUser("telegram", str(from_user.id))``.

A voice note is a request: it is transcribed with the media library's ASR and then handled
like typed text. A job's later events arrive on its own thread (``Conversation.subscribe``)
and are marshalled onto the bot's event loop. At start-up every approval still waiting is
shown again, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import BotCommand, ForceReply, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from assistant.app.command_registry import REGISTRY as GROUP_COMMANDS
from assistant.app.commands import COMMANDS
from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent
from assistant.channels.telegram.chats import CHANNEL, ChatDirectory
from assistant.channels.telegram.payloads import (
    Press,
    read_button,
    read_revise_prompt,
    revise_prompt,
)
from assistant.channels.telegram.render import Renderer
from assistant.config import Settings
from assistant.errors import AssistantError
from media.asr import Transcriber, get_transcriber
from media.errors import MediaError

log = logging.getLogger(__name__)
# Telegram's command names are [a-z0-9_]{1,32}: /delete-my-data is offered as /delete_my_data
# (the conversation's parser reads both)
TELEGRAM_GROUP_NAMES = [name.replace("-", "_") for name in GROUP_COMMANDS]

DOWNLOAD_LIMIT = 20 * 1000 * 1000  # the largest file a bot may download (20 MB)
ALERT_LIMIT = 200  # characters in a callback query answer
ASKING_WAIT_S = 30.0  # a job event waits this long at most for its chat to be recorded
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


class TelegramBot:
    """The handlers of one bot over one conversation; ``install`` adds them to an app."""

    def __init__(self, conv: Conversation, settings: Settings, *,
                 transcriber: Transcriber | None = None, edit_interval_s: float = 3.0) -> None:
        self.conv, self.settings = conv, settings
        self.chats = ChatDirectory(conv.svc.db, settings.resolved_data_dir / "telegram_chats.json")
        self.edit_interval_s = edit_interval_s
        self._transcriber = transcriber
        self._asr_lock = asyncio.Lock()
        self._renderer: Renderer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._user_locks: dict[int, asyncio.Lock] = {}
        self._asking = threading.RLock()  # held while a request and the chat it came from

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            raise RuntimeError("the Telegram bot is not installed in an application")
        return self._renderer

    def install(self, app: Application) -> None:
        self._renderer = Renderer(app.bot, self.settings, edit_interval_s=self.edit_interval_s)
        new = filters.UpdateType.MESSAGE  # not edits: an edited request is not a new one
        app.add_handler(CommandHandler([*COMMANDS, *TELEGRAM_GROUP_NAMES, "start"],
                                       self.in_order(self.on_command), filters=new))
        app.add_handler(MessageHandler(new & filters.COMMAND,  # unknown commands
                                       self.in_order(self.on_command)))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND,
                                       self.in_order(self.on_text)))
        app.add_handler(MessageHandler(new & (filters.VOICE | filters.AUDIO),
                                       self.in_order(self.on_voice)))
        app.add_handler(MessageHandler(new & filters.Document.ALL,
                                       self.in_order(self.on_document)))
        app.add_handler(CallbackQueryHandler(self.in_order(self.on_button)))
        app.add_error_handler(self.on_error)

    def in_order(self, handler: Handler) -> Handler:
        """``handler`` run after the same user's earlier updates (updates are processed
        concurrently, so one user's slow voice note does not hold up another user)."""

        async def ordered(update: Update, context: Context) -> None:
            user = update.effective_user
            if user is None:
                await handler(update, context)
                return
            async with self._user_locks.setdefault(user.id, asyncio.Lock()):
                await handler(update, context)

        return ordered

    # --- start-up and shut-down (Application.post_init / post_stop) ------------------------

    async def start(self, app: Application) -> None:
        """Listen for job events, publish the command menu, show pending approvals again."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.conv.subscribe(CHANNEL, self._from_job)
        try:
            await self.renderer.call(app.bot.set_my_commands, [
                BotCommand(name, text.split("—", 1)[-1].strip()[:256])
                for name, text in [*COMMANDS.items(), *zip(
                    TELEGRAM_GROUP_NAMES, (c.usage for c in GROUP_COMMANDS.values()),
                    strict=True)]])
        except TelegramError as exc:
            log.warning("could not set the Telegram command menu: %s", exc)
        await self.show_pending()

    async def show_pending(self) -> None:
        pending = await asyncio.to_thread(self.conv.pending_by_channel, CHANNEL)
        shown: set[tuple[int, str | None]] = set()
        for user, event in pending:
            chat_id = await asyncio.to_thread(self.chats.chat_for_job, user, event.job_id)
            if chat_id is None or (chat_id, event.job_id) in shown:
                continue
            shown.add((chat_id, event.job_id))
            try:
                await self.renderer.show(chat_id, event)
            except TelegramError as exc:  # blocked the bot, left the chat, ...
                log.warning("could not show %s's pending review to %s: %s",
                            event.job_id, user.external_id, exc)

    async def stop(self, app: Application) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.drain()
        self.renderer.cancel_timers()

    async def drain(self) -> None:
        """Wait until every job event received so far has been sent."""
        await self.renderer.drain()

    def _from_job(self, user: ChannelUser, event: OutEvent) -> None:
        """A job's event, on the job's thread: hand it to the bot's loop."""
        if self._asking.acquire(timeout=ASKING_WAIT_S):  # the job's chat is recorded by now
            self._asking.release()
        chat_id = self.chats.chat_for_job(user, event.job_id)
        if chat_id is None or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self.renderer.spawn_show, chat_id, event)
        except RuntimeError:  # the loop is closed: the bot is shutting down
            log.info("bot stopped: %s event for %s not sent", event.kind, event.job_id)

    # --- messages --------------------------------------------------------------------------

    def _who(self, update: Update) -> tuple[ChannelUser, int] | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        self.chats.learn(user.id, chat.id)
        return ChannelUser(CHANNEL, str(user.id), user.full_name), chat.id

    async def converse(self, update: Update, text: str) -> None:
        who = self._who(update)
        if who is not None:
            events = await asyncio.to_thread(self._ask, who[0], who[1], text)
            message = update.effective_message
            if message is not None and any(e.data.get("forget_message") for e in events):
                # a secret (an application password): gone from the chat before we answer
                with contextlib.suppress(TelegramError):
                    await message.delete()
            await self.renderer.show_all(who[1], events)

    def _ask(self, user: ChannelUser, chat_id: int, text: str) -> list[OutEvent]:
        """The conversation's answer; a job it starts is recorded as asked in ``chat_id``
        before the job's first event is routed (``_from_job`` waits for the lock)."""
        with self._asking:
            events = self.conv.handle(user, text)
            for event in events:
                if event.job_id and event.kind == "text" and event.text.startswith("Started"):
                    self.chats.asked(event.job_id, int(user.external_id), chat_id)
            return events

    async def on_command(self, update: Update, context: Context) -> None:
        if update.effective_message and update.effective_message.text:
            await self.converse(update, update.effective_message.text)

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        text = self._addressed(message, context) if message else None
        if message is None or not text:
            return
        prompt = self._revise_prompt(message, context)
        who = self._who(update)
        if prompt is None or who is None:
            await self.converse(update, text)
            return
        events = await asyncio.to_thread(self.conv.decide, who[0], prompt[0], "revise",
                                         text, prompt[1])
        await self.renderer.show_all(who[1], events)

    @staticmethod
    def _replies_to_bot(message: Message, context: Context) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)

    def _addressed(self, message: Message, context: Context) -> str | None:
        """The text meant for the bot: all of a private message; in a group only a reply to
        the bot or a message that mentions it (without the mention)."""
        text = message.text or ""
        if message.chat.type == "private" or self._replies_to_bot(message, context):
            return text
        mention = f"@{context.bot.username}"
        if mention.lower() in text.lower():
            start = text.lower().index(mention.lower())
            return (text[:start] + text[start + len(mention):]).strip()
        return None

    def _revise_prompt(self, message: Message, context: Context) -> tuple[str, str] | None:
        """(job, stage) when ``message`` replies to one of this bot's revise prompts."""
        if not self._replies_to_bot(message, context):
            return None
        assert message.reply_to_message is not None
        return read_revise_prompt(message.reply_to_message.text)

    async def on_voice(self, update: Update, context: Context) -> None:
        message, who = update.effective_message, self._who(update)
        media = (message.voice or message.audio) if message else None
        if message is None or media is None or who is None:
            return
        if message.chat.type != "private" and not self._replies_to_bot(message, context):
            return  # in a group, only a voice note that answers the bot is a request
        if (media.file_size or 0) > DOWNLOAD_LIMIT:
            await self.renderer.send_text(who[1], "⚠️ that voice note is too long for me "
                                                  "(over 20 MB): send a shorter one or type it")
            return
        with tempfile.TemporaryDirectory(prefix="tg-voice-") as tmp:
            path = Path(tmp) / "voice.ogg"
            tg_file = await self.renderer.call(context.bot.get_file, media.file_id)
            await tg_file.download_to_drive(path)
            try:
                text = await self._transcribe(path)
            except (MediaError, AssistantError) as exc:
                await self.renderer.send_text(who[1], f"⚠️ I could not listen to that voice "
                                                      f"note: {exc.user_message}")
                return
        if not text:
            await self.renderer.send_text(who[1], "⚠️ I could not make out any words in that "
                                                  "voice note: try again, or type it")
            return
        await self.renderer.send_text(who[1], f"🎙 I heard: “{text}”")
        await self.converse(update, text)

    async def _transcribe(self, path: Path) -> str:
        async with self._asr_lock:  # one model, one transcription at a time
            if self._transcriber is None:
                self._transcriber = await asyncio.to_thread(
                    get_transcriber, "faster_whisper", model=self.settings.asr_model)
            transcript = await asyncio.to_thread(self._transcriber.transcribe, path)
        return " ".join(transcript.text.split())

    async def on_document(self, update: Update, context: Context) -> None:
        """A file sent to the bot goes into the knowledge base."""
        message, who = update.effective_message, self._who(update)
        document = message.document if message else None
        if document is None or who is None:
            return
        if (document.file_size or 0) > DOWNLOAD_LIMIT:
            await self.renderer.send_text(who[1], "⚠️ that file is over 20 MB, the most a bot "
                                                  "can fetch: add it with `assistant kb add`")
            return
        name = Path(document.file_name or f"{document.file_unique_id}.txt").name
        with tempfile.TemporaryDirectory(prefix="tg-file-") as tmp:
            path = Path(tmp) / name
            tg_file = await self.renderer.call(context.bot.get_file, document.file_id)
            await tg_file.download_to_drive(path)
            events = await asyncio.to_thread(self.conv.add_files, who[0], [path])
        await self.renderer.show_all(who[1], events)

    # --- buttons ---------------------------------------------------------------------------

    async def on_button(self, update: Update, context: Context) -> None:
        query, who = update.callback_query, self._who(update)
        if query is None or who is None:
            return
        press = read_button(self.settings, query.data)
        if press is None:
            await query.answer("This button is not valid (forged or from an old message).",
                               show_alert=True)
            return
        refusal = await asyncio.to_thread(self._refusal, who[0], press)
        if refusal is not None:
            await query.answer(refusal[:ALERT_LIMIT], show_alert=True)
            return
        if press.action == "revise":
            await query.answer()
            await self.renderer.call(
                context.bot.send_message, chat_id=who[1],
                text=revise_prompt(press.job_id, press.stage),
                reply_markup=ForceReply(input_field_placeholder="what should change?"))
            return
        events = await asyncio.to_thread(self.conv.decide, who[0], press.job_id, press.action,
                                         "", press.stage)
        if events and events[0].kind == "error":  # refused: tell the presser only
            await query.answer(events[0].text[:ALERT_LIMIT], show_alert=True)
            return
        await query.answer(events[0].text[:ALERT_LIMIT] if events else None)
        try:  # the review is decided: its buttons go
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as exc:
            log.info("could not remove the buttons of %s: %s", press.job_id, exc)
        await self.renderer.show_all(who[1], events)

    def _refusal(self, user: ChannelUser, press: Press) -> str | None:
        """Why ``user`` may not press this button now (not theirs, review already done)."""
        try:
            job = self.conv.job(press.job_id)
            self.conv.check_reviewer(self.conv.username(user), job)
        except AssistantError as exc:
            return exc.user_message
        review = self.conv.runner.pending_review(press.job_id) if job.status == "review" else None
        waiting = review["action_request"]["action"] if review else None
        if waiting != press.stage:
            return f"{press.job_id} is no longer waiting at {press.stage}: /status {press.job_id}"
        return None

    async def on_error(self, update: object, context: Context) -> None:
        log.error("Telegram update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(update.effective_chat.id,
                                               "⚠️ something went wrong on our side (it is "
                                               "logged): try again")
