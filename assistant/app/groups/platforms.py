"""/connect, /platforms and /disconnect: the accounts a person publishes to.

- ``/connect wordpress URL USER`` — the application password is asked for in the next
  message (send it privately); it is checked against the site, stored encrypted, never shown;
- ``/connect telegram @channel`` — the bot must be the channel's admin; checked first;
- ``/connect discord WEBHOOK_URL`` — checked with Discord first;
- ``/platforms`` lists what is connected (and what the server's settings provide);
- ``/disconnect PLATFORM`` forgets an account.

Each platform's connect function is one entry of :data:`CONNECTORS` (platform -> function
taking the context and the words after the platform), so another platform (YouTube, TikTok:
OAuth) is one function and one line there. Accounts belong to the person (their profile), or,
with ``--workspace SLUG`` on any of the three commands, to a workspace the person owns (a
workspace's jobs publish with its accounts first); credentials go through
:class:`assistant.tools.publishing.accounts.AccountStore`, which refuses
to store anything without ASSISTANT_SECRET_KEY.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import select

from assistant.app.command_registry import CommandContext, ask_secret, register
from assistant.app.events import OutEvent, say
from assistant.app.quotas import check_platforms
from assistant.errors import AssistantError, InputError
from assistant.infra import logmask
from assistant.infra.netguard import PrivateAddress, public_addresses
from assistant.tools.publishing import PLATFORMS
from assistant.tools.publishing.accounts import AccountStore, Owner, fernet_for
from assistant.tools.publishing.discord import DiscordWebhookPublisher
from assistant.tools.publishing.telegram import TelegramChannelPublisher
from assistant.tools.publishing.wordpress import WordPressPublisher
from storage.models import Organization

Connector = Callable[[CommandContext, list[str]], list[OutEvent]]
CONNECT_USAGE = ("/connect PLATFORM ... [--workspace SLUG] — connect an account to publish to: "
                 "youtube, tiktok, wordpress URL USER, telegram @channel, discord WEBHOOK_URL")


def _owner(ctx: CommandContext) -> Owner:
    chosen = ctx.extras.get("owner")  # --workspace SLUG, read by _take_workspace
    if isinstance(chosen, Owner):
        return chosen
    return Owner.profile(ctx.svc.repo.ensure_user(ctx.username))


def _take_workspace(ctx: CommandContext, words: list[str]) -> list[str]:
    """``words`` without ``--workspace SLUG``; with it, the accounts are that workspace's
    (which only its owner may connect, list or disconnect)."""
    if "--workspace" not in words:
        return words
    at = words.index("--workspace")
    if at + 1 >= len(words):
        raise InputError("--workspace needs the workspace's name (its slug)")
    slug = words[at + 1].lower()
    profile = uuid.UUID(str(ctx.svc.repo.ensure_user(ctx.username)))
    with ctx.svc.db.session() as s:
        org = s.scalar(select(Organization).where(Organization.slug == slug))
        found = None if org is None else (org.id, org.owner_id)
    if found is None or found[1] != profile:
        raise InputError(f"you own no workspace {slug!r}: only a workspace's owner connects "
                         "its accounts")
    ctx.extras["owner"] = Owner.organization(found[0])
    ctx.extras["workspace"] = slug
    return words[:at] + words[at + 2:]


def _store(ctx: CommandContext) -> AccountStore:
    return AccountStore.from_settings(ctx.svc.settings, ctx.svc.db)


def _public(ctx: CommandContext, url: str) -> None:
    """Refuse a URL on a private, loopback or link-local address: anyone in a chat may
    /connect, and the server would call it (SSRF), unless the operator allows such addresses
    (ASSISTANT_PUBLISH_ALLOW_PRIVATE: a self-hosted WordPress on the LAN, the tests)."""
    if ctx.svc.settings.publish_allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        public_addresses(host, parts.port or 443)
    except (OSError, UnicodeError, ValueError):
        raise InputError(f"cannot find {host or url!r}: check the address") from None
    except PrivateAddress:
        raise InputError(f"{host} is a private or local address: only public sites can be "
                         "connected (the operator may allow others with "
                         "ASSISTANT_PUBLISH_ALLOW_PRIVATE=true)") from None


def _connected(ctx: CommandContext, platform: str, display: str,
               credentials: dict[str, str]) -> str:
    _store(ctx).store(_owner(ctx), platform, display, credentials)
    whose = (f"Workspace {ctx.extras['workspace']}'s jobs" if "workspace" in ctx.extras
             else "Jobs you make")
    return f"{PLATFORM_TITLES.get(platform, platform)} connected: {display}. {whose} " \
           f"can go there now (--to {platform}, or ASSISTANT_PUBLISH_TO)."


def connect_wordpress(ctx: CommandContext, args: list[str]) -> list[OutEvent]:
    if len(args) != 2:
        raise InputError("send /connect wordpress URL USER (the site's address and your "
                         "WordPress user name); I will then ask for an application password")
    url, user = args[0].rstrip("/"), args[1]
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", url):
        raise InputError(f"{url!r} is not a site address: give it as https://blog.example.com")
    fernet_for(ctx.svc.settings.secret_key)  # no key: say so now, not after the password
    _public(ctx, url)

    def answer(text: str) -> list[OutEvent]:
        password = text.strip()
        logmask.register([password])  # whatever logs this message from now on masks it
        if not password:
            raise InputError("that was empty: send /connect wordpress again to retry")
        credentials = {"url": url, "user": user, "app_password": password}
        try:
            display = WordPressPublisher(ctx.svc.settings).verify(credentials)
            reply = OutEvent("text", None, _connected(ctx, "wordpress", display, credentials),
                             data={"forget_message": True})
        except AssistantError as err:  # the password was wrong: still never kept
            reply = OutEvent("error", None, f"{err.user_message}: send /connect wordpress "
                             "again to retry", data={"forget_message": True})
        return [reply]

    ask_secret(ctx.user, answer)
    return [say(None, f"Now send me an application password for {user} on {url} (WordPress: "
                      "Users > Profile > Application Passwords), in a private message. It is "
                      "checked with the site, stored encrypted, and never shown again.")]


def connect_telegram(ctx: CommandContext, args: list[str]) -> list[OutEvent]:
    if len(args) != 1 or not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-100\d+", args[0]):
        raise InputError("send /connect telegram @channel (add this bot to the channel as an "
                         "admin allowed to post first)")
    fernet_for(ctx.svc.settings.secret_key)
    publisher = TelegramChannelPublisher(ctx.svc.settings)
    token = ctx.svc.settings.telegram_token
    credentials = {"chat_id": args[0]}
    title = publisher.verify({**credentials, "token": token.get_secret_value() if token else ""})
    return [say(None, _connected(ctx, "telegram", f"{title} ({args[0]})", credentials))]


def connect_discord(ctx: CommandContext, args: list[str]) -> list[OutEvent]:
    if len(args) != 1:
        raise InputError("send /connect discord WEBHOOK_URL (the channel's Edit Channel > "
                         "Integrations > Webhooks > Copy Webhook URL)")
    fernet_for(ctx.svc.settings.secret_key)
    _public(ctx, args[0])
    credentials = {"webhook_url": args[0]}
    display = DiscordWebhookPublisher(ctx.svc.settings).verify(credentials)
    return [OutEvent("text", None, _connected(ctx, "discord", display, credentials),
                     data={"forget_message": True})]  # the URL is a secret too


def connect_oauth(platform: str) -> Connector:
    """YouTube, TikTok: the answer is a consent link (assistant/tools/publishing/oauth.py);
    the web app's /oauth/<platform>/callback stores the account once the person approves."""

    def connect_by_oauth(ctx: CommandContext, args: list[str]) -> list[OutEvent]:
        from assistant.tools.publishing import oauth

        if args:
            raise InputError(f"send /connect {platform} on its own: you sign in on "
                             f"{PLATFORM_TITLES[platform]}'s own page")
        return [say(None, oauth.connect_line(ctx.svc.settings, platform, _owner(ctx)))]

    return connect_by_oauth


# platform -> how it is connected; add a platform with one line
CONNECTORS: dict[str, Connector] = {
    "wordpress": connect_wordpress,
    "telegram": connect_telegram,
    "discord": connect_discord,
    "youtube": connect_oauth("youtube"),
    "tiktok": connect_oauth("tiktok"),
}
PLATFORM_TITLES = {"wordpress": "WordPress", "telegram": "Telegram channel",
                   "discord": "Discord webhook", "youtube": "YouTube", "tiktok": "TikTok",
                   "outbox": "the local outbox"}


@register("connect", CONNECT_USAGE, secret_args=True)
def connect(ctx: CommandContext, text: str) -> list[OutEvent]:
    words = _take_workspace(ctx, text.split())
    if not words:
        raise InputError(f"connect what? {', '.join(CONNECTORS)}: e.g. /connect telegram "
                         "@channel")
    platform = words[0].lower()
    connector = CONNECTORS.get(platform)
    if connector is None:
        raise InputError(f"I cannot connect {words[0]!r}: choose one of "
                         f"{', '.join(CONNECTORS)}")
    connected = {a.platform for a in _store(ctx).list(_owner(ctx))}
    if platform not in connected:  # reconnecting one replaces it: no new platform
        check_platforms(ctx.svc.db, ctx.svc.settings,  # on the person's plan
                        ctx.svc.repo.ensure_user(ctx.username), len(connected))
    return connector(ctx, words[1:])


@register("platforms", "/platforms [--workspace SLUG] — the accounts your jobs can publish to")
def platforms(ctx: CommandContext, text: str) -> list[OutEvent]:
    _take_workspace(ctx, text.split())
    settings = ctx.svc.settings
    lines = []
    if settings.secret_key is not None:
        for info in _store(ctx).list(_owner(ctx)):
            expiry = f", token renews {info.expires_at:%Y-%m-%d %H:%M} UTC" \
                if info.expires_at else ""
            lines.append(f"• {PLATFORM_TITLES.get(info.platform, info.platform)}: "
                         f"{info.display_name} (connected {info.connected_at:%Y-%m-%d}{expiry})")
    configured = [name for name in PLATFORMS if name != "outbox" and _set_up(ctx, name)]
    if configured:
        lines.append("• set up on the server: " + ", ".join(
            PLATFORM_TITLES.get(n, n) for n in configured))
    default = ", ".join(settings.publish_platforms)
    if not lines:
        return [say(None, f"Nothing connected yet; jobs go to {default}. {CONNECT_USAGE}")]
    return [say(None, "Your platforms:\n" + "\n".join(lines) + f"\nJobs go to {default} "
                      "unless you say otherwise.")]


@register("disconnect", "/disconnect PLATFORM [--workspace SLUG] — forget a connected account")
def disconnect(ctx: CommandContext, text: str) -> list[OutEvent]:
    platform = " ".join(_take_workspace(ctx, text.split())).lower()
    if not platform:
        raise InputError("disconnect which? /platforms lists yours")
    if settings_key_missing(ctx) or not _store(ctx).delete(_owner(ctx), platform):
        raise InputError(f"you have no {platform} account connected: /platforms lists yours")
    return [say(None, f"{PLATFORM_TITLES.get(platform, platform)} disconnected: its "
                      "credentials are deleted (revoke them on the platform too if they leaked).")]


def _set_up(ctx: CommandContext, name: str) -> bool:
    """Whether the server's settings alone let ``name`` publish (every credential it needs)."""
    platform = PLATFORMS[name]
    given = platform.settings_credentials(ctx.svc.settings)
    needed = platform.build(ctx.svc.settings).limits.credentials
    return bool(needed) and all(given.get(key) for key in needed)


def settings_key_missing(ctx: CommandContext) -> bool:
    return ctx.svc.settings.secret_key is None
