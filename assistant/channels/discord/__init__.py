"""The Discord bot: ``assistant discord`` runs :func:`run_bot`.

- :mod:`.bot` — the client: slash commands, approval buttons, progress, results
- :mod:`.buttons` — signed, restart-proof button ids and the Revise form
- :mod:`.render` — how events look in Discord
- :mod:`.routes` — which channel each job talks in (kept across restarts)
- :mod:`.workspaces` — a guild is a workspace; its reviewer role maps to reviewers
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from assistant.channels.discord.bot import StudioBot
from assistant.config import Settings
from assistant.errors import ConfigError

log = logging.getLogger(__name__)

NO_TOKEN = "no Discord bot token: set ASSISTANT_DISCORD_TOKEN to your bot's token"


def bot_token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(NO_TOKEN)
    return token


def run_bot(settings: Settings) -> int:
    """Connect and serve until stopped; a missing or refused token, or no way to reach
    Discord, is a ConfigError (one line)."""
    token = bot_token(settings)  # before anything is opened
    from assistant.app.conversation import Conversation
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services
    from storage.errors import StorageError

    try:
        svc = Services.create(settings)
    except StorageError as exc:
        raise ConfigError(f"the Discord bot cannot open its storage: {exc}") from None
    runner = JobRunner(svc)
    conv = Conversation(svc, runner)
    try:
        asyncio.run(_serve(StudioBot(conv), token))
    except discord.LoginFailure:
        raise ConfigError("Discord refused the bot token in ASSISTANT_DISCORD_TOKEN: reset it "
                          "in the developer portal and set it again") from None
    except (aiohttp.ClientError, OSError, discord.GatewayNotFound) as exc:
        raise ConfigError(f"cannot reach Discord ({type(exc).__name__}): check the "
                          "network") from None
    except KeyboardInterrupt:
        log.info("discord bot stopped")
    finally:
        conv.close(10.0)
        runner.close()
        svc.close()
    return 0


async def _serve(bot: StudioBot, token: str) -> None:
    async with bot:
        await bot.start(token)


__all__ = ["StudioBot", "bot_token", "run_bot"]
