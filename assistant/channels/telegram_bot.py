"""``assistant telegram``: the Telegram bot. The code is in :mod:`assistant.channels.telegram`."""

from __future__ import annotations

from assistant.channels.telegram import TelegramBot, bot_token, build_application, run_bot

__all__ = ["TelegramBot", "bot_token", "build_application", "run_bot"]
