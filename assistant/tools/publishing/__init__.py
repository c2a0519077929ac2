"""Publishing: the protocol (base.py), one module per platform, the ledger that makes each
(job, platform) happen once (ledger.py), connected accounts (accounts.py), and the factory.

A platform is one entry of :data:`PLATFORMS`: how to build its publisher from settings, and the
credentials settings give it when nobody connected an account (ASSISTANT_WORDPRESS_URL, ...).
Adding a platform is adding its module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.tools.publishing.base import (
    Limits,
    Publisher,
    PublishError,
    PublishRequest,
    SupportsMetrics,
)
from assistant.tools.publishing.outbox import LocalOutbox

__all__ = [
    "PLATFORMS",
    "Limits",
    "LocalOutbox",
    "Platform",
    "PublishError",
    "PublishRequest",
    "Publisher",
    "SupportsMetrics",
    "Target",
    "publishers_for",
]


def _no_credentials(settings: Settings) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Platform:
    build: Callable[[Settings], Publisher]
    settings_credentials: Callable[[Settings], dict[str, Any]] = _no_credentials


def _outbox(settings: Settings) -> Publisher:
    return LocalOutbox(settings.outbox_dir)


def _wordpress(settings: Settings) -> Publisher:
    from assistant.tools.publishing.wordpress import WordPressPublisher

    return WordPressPublisher(settings)


def _wordpress_credentials(settings: Settings) -> dict[str, Any]:
    from assistant.tools.publishing.wordpress import credentials_from_settings

    return credentials_from_settings(settings)


def _telegram(settings: Settings) -> Publisher:
    from assistant.tools.publishing.telegram import TelegramChannelPublisher

    return TelegramChannelPublisher(settings)


def _telegram_credentials(settings: Settings) -> dict[str, Any]:
    from assistant.tools.publishing.telegram import credentials_from_settings

    return credentials_from_settings(settings)


def _discord(settings: Settings) -> Publisher:
    from assistant.tools.publishing.discord import DiscordWebhookPublisher

    return DiscordWebhookPublisher(settings)


def _discord_credentials(settings: Settings) -> dict[str, Any]:
    from assistant.tools.publishing.discord import credentials_from_settings

    return credentials_from_settings(settings)


def _youtube(settings: Settings) -> Publisher:
    from assistant.tools.publishing.youtube import YouTubePublisher

    return YouTubePublisher(settings)


def _tiktok(settings: Settings) -> Publisher:
    from assistant.tools.publishing.tiktok import TikTokPublisher

    return TikTokPublisher(settings)


# name -> how to build it; modules are imported only when their platform is chosen
# (youtube and tiktok publish with a connected account only: /connect youtube|tiktok)
PLATFORMS: dict[str, Platform] = {
    "outbox": Platform(_outbox),
    "wordpress": Platform(_wordpress, _wordpress_credentials),
    "telegram": Platform(_telegram, _telegram_credentials),
    "discord": Platform(_discord, _discord_credentials),
    "youtube": Platform(_youtube),
    "tiktok": Platform(_tiktok),
}


@dataclass
class Target:
    """A publisher and the credentials it publishes with: a connected account's, the
    settings' filling what the account does not hold; missing ones are what check() reports."""

    publisher: Publisher
    credentials: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.publisher.name


def parse_platforms(text: str) -> list[str]:
    """'youtube, WordPress' -> ['youtube', 'wordpress'] (each once, in order)."""
    return list(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))


def unknown_platforms(names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in PLATFORMS]


def publishers_for(settings: Settings, accounts: Mapping[str, Mapping[str, Any]],
                   platforms: Sequence[str] | None = None) -> list[Target]:
    """One Target per platform (default: ASSISTANT_PUBLISH_TO). ``accounts`` maps a platform
    to the decrypted credentials of the account the job's owner connected for it."""
    names = list(platforms) if platforms else settings.publish_platforms
    unknown = unknown_platforms(names)
    if unknown:
        raise ConfigError(f"unknown platform {', '.join(map(repr, unknown))} in "
                          f"ASSISTANT_PUBLISH_TO or --to; available: {', '.join(PLATFORMS)}")
    targets = []
    for name in names:
        platform = PLATFORMS[name]
        # a connected account's values win; the settings fill in what it does not hold
        # (a connected Telegram channel is posted to by the configured bot's token)
        credentials = {**platform.settings_credentials(settings), **accounts.get(name, {})}
        targets.append(Target(platform.build(settings), credentials))
    return targets


# YouTube's and TikTok's token refreshers register with the accounts store on import, so an
# expired token is refreshed (and a rotated refresh token kept) wherever accounts are read
from assistant.tools.publishing import oauth as _oauth  # noqa: E402,F401
