"""The Telegram channel (python-telegram-bot v22): commands, free text and voice notes in;
progress, approval buttons and results out. See :mod:`.bot` for the handlers, :mod:`.render`
for how events look, :mod:`.payloads` for the signed button data.

``build_application`` makes the bot over a given conversation (tests pass their own
``telegram.request.BaseRequest``); ``run_bot`` is ``assistant telegram``.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest

from assistant.app.conversation import Conversation
from assistant.channels.telegram.bot import TelegramBot
from assistant.config import Settings
from assistant.errors import ConfigError

log = logging.getLogger(__name__)
UPDATES_AT_ONCE = 32
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


def bot_token(settings: Settings) -> str:
    """The configured token; a ConfigError (one line) when it is missing or malformed."""
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ConfigError("no Telegram bot token: set ASSISTANT_TELEGRAM_TOKEN (from @BotFather)")
    token = settings.telegram_token.get_secret_value().strip()
    if not _TOKEN.match(token):
        raise ConfigError("ASSISTANT_TELEGRAM_TOKEN does not look like a bot token "
                          "(123456:ABC-...): copy it again from @BotFather")
    return token


def build_application(
    conv: Conversation, settings: Settings, *, request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None, edit_interval_s: float = 3.0,
    bot: TelegramBot | None = None,
) -> tuple[Application, TelegramBot]:
    """The bot's Application over ``conv``; start-up and shut-down are its post_init and
    post_stop hooks. ``request`` replaces the HTTP layer (the library's seam). Updates are
    processed concurrently (a slow transcription or model call does not hold up other users);
    each user's own updates stay in order."""
    handlers = bot or TelegramBot(conv, settings, edit_interval_s=edit_interval_s)
    builder = (ApplicationBuilder().token(bot_token(settings)).concurrent_updates(UPDATES_AT_ONCE)
               .post_init(handlers.start).post_stop(handlers.stop))
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()
    handlers.install(app)
    return app, handlers


def _redact(text: str, token: str) -> str:
    return text.replace(token, "<token>")


def _rejected_token() -> ConfigError:
    return ConfigError("Telegram rejected ASSISTANT_TELEGRAM_TOKEN: check it with @BotFather",
                       detail="getMe: 401 Unauthorized")


async def check_telegram(token: str, request: BaseRequest | None = None) -> str:
    """Preflight: the bot's @username from getMe; a ConfigError (one line) when Telegram
    cannot be reached or rejects the token."""
    try:
        async with Bot(token, request=request) as bot:
            return bot.username
    except InvalidToken:
        raise _rejected_token() from None
    except NetworkError as exc:
        raise ConfigError("cannot reach Telegram (api.telegram.org): is this machine online?",
                          detail=_redact(str(exc), token)) from None


def run_bot(settings: Settings) -> int:
    """``assistant telegram``: check the token and Telegram, open storage, poll until stopped
    (Ctrl-C). Updates sent while the bot was down are processed when it starts."""
    token = bot_token(settings)
    name = asyncio.run(check_telegram(token))
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services

    svc = Services.create(settings)
    runner = JobRunner(svc)
    conv = Conversation(svc, runner)
    try:
        app, _ = build_application(conv, settings)
        log.info("Telegram bot @%s polling (data in %s)", name, settings.resolved_data_dir)
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        raise _rejected_token() from None
    except NetworkError as exc:
        raise ConfigError("lost Telegram (api.telegram.org) while starting: try again",
                          detail=_redact(str(exc), token)) from None
    finally:
        conv.close(timeout=5.0)
        runner.close()
        svc.close()
    return 0


__all__ = ["TelegramBot", "bot_token", "build_application", "check_telegram", "run_bot"]
