"""A Telegram channel, through the Bot API with the bot as the channel's administrator
(Channel > Administrators > Add: the bot, with 'Post messages').

- a video: ``sendVideo`` (multipart), the caption its title, description and hashtags;
- an episode: ``sendAudio``;
- a text piece: ``sendMessage`` (the whole text when it fits Telegram's 4,096 characters,
  else its title and description with a link to the full piece).

Bots upload at most 50 MB (https://core.telegram.org/bots/api#sending-files): a bigger file
is never tried; the post carries its signed link (assistant/infra/media_links.py, under
ASSISTANT_PUBLIC_BASE_URL) instead, and without one check() says so before anything is sent.

Idempotent per (job, platform) through the ledger; the Bot API has no idempotency key and no
way to list a channel's posts, so the message id is saved the moment Telegram answers, and only
a kill in between (milliseconds) could post twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from assistant.config import Settings
from assistant.content import Publication
from assistant.infra.media_links import public_media_url
from assistant.tools.publishing.base import Limits, PublishError, PublishRequest, check_limits

UPLOAD_LIMIT = 50 * 1024 * 1024  # Bot API: "up to 50 MB for other files" sent by bots
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
CONNECT_HINT = ("/connect telegram @channel (with the bot as the channel's admin), or set "
                "ASSISTANT_TELEGRAM_TOKEN and ASSISTANT_TELEGRAM_CHANNEL")


def credentials_from_settings(settings: Settings) -> dict[str, Any]:
    """The bot's token (a connected channel is posted to by this bot) and the channel."""
    found: dict[str, Any] = {}
    if settings.telegram_token and settings.telegram_token.get_secret_value():
        found["token"] = settings.telegram_token.get_secret_value()
    if settings.telegram_channel:
        found["chat_id"] = settings.telegram_channel
    return found


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to fit ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip()
    return cut + "…"


class TelegramChannelPublisher:
    name = "telegram"
    limits = Limits(text="telegram", needs_any=("video", "audio", "markdown"),
                    credentials=("token", "chat_id"), connect_hint=CONNECT_HINT)

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.api = settings.telegram_api_url.rstrip("/")
        self.timeout = settings.publish_timeout_s
        self.transport = transport

    def verify(self, credentials: Mapping[str, Any]) -> str:
        """The channel's title, once the bot is found to be its admin allowed to post."""
        if not credentials.get("token"):
            raise PublishError("telegram", "the bot has no token: set ASSISTANT_TELEGRAM_TOKEN")
        bot_id = str(credentials["token"]).split(":", 1)[0]
        with self._client(credentials) as client:
            chat = _call(client, "getChat", json={"chat_id": credentials["chat_id"]})
            member = _call(client, "getChatMember",
                           json={"chat_id": credentials["chat_id"], "user_id": int(bot_id)})
        if member.get("status") not in ("administrator", "creator") \
                or member.get("can_post_messages") is False:
            raise PublishError("telegram", "the bot is not an admin of that channel allowed to "
                               "post: add it under Channel > Administrators")
        return str(chat.get("title") or credentials["chat_id"])

    def check(self, request: PublishRequest) -> list[str]:
        problems = check_limits(self.name, self.limits, request)
        media = _media(request)
        if media is not None and media[1].stat().st_size > UPLOAD_LIMIT \
                and not self.settings.public_base_url:
            size = media[1].stat().st_size / 1_000_000
            problems.append(f"telegram: the {media[0]} is {size:.1f} MB, over the 50 MB a bot "
                            "may upload, and ASSISTANT_PUBLIC_BASE_URL is not set to link it")
        chat = str(request.credentials.get("chat_id", ""))
        if chat and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?\d+", chat):
            problems.append(f"telegram: {chat!r} is not a channel (@name or its numeric id)")
        return problems

    def publish(self, request: PublishRequest) -> Publication:
        if request.resume.get("message_id"):  # it went out; only our record was lost
            return self._publication(request.resume, request)
        script = request.script
        caption = clip("\n\n".join(p for p in (f"<b>{html.escape(script.title)}</b>",
                                               html.escape(script.description),
                                               " ".join(script.hashtags)) if p), CAPTION_LIMIT)
        chat_id = str(request.credentials["chat_id"])
        media = _media(request)
        with self._client(request.credentials) as client:
            if media is not None and media[1].stat().st_size <= UPLOAD_LIMIT:
                role, path = media
                method = "sendVideo" if role == "video" else "sendAudio"
                fields: dict[str, Any] = {"chat_id": chat_id, "caption": caption,
                                          "parse_mode": "HTML"}
                if role == "video":
                    fields["supports_streaming"] = "true"
                    if request.frame:
                        fields["width"], fields["height"] = map(str, request.frame)
                else:
                    fields["title"] = script.title
                if request.duration_s:
                    fields["duration"] = str(round(request.duration_s))
                with path.open("rb") as handle:
                    message = _call(client, method, data=fields,
                                    files={role: (path.name, handle, _mime(path))})
            else:
                text = self._text(request, caption, media)
                message = _call(client, "sendMessage", json={
                    "chat_id": chat_id, "text": text, "parse_mode": "HTML"})
        saved = {"message_id": message["message_id"],
                 "chat": {k: message.get("chat", {}).get(k) for k in ("id", "username")}}
        request.progress(**saved)
        return self._publication(saved, request)

    def _text(self, request: PublishRequest, caption: str,
              media: tuple[str, Path] | None) -> str:
        """The post for a text piece, or for media too big to upload (with its link)."""
        link_of = media[1] if media is not None else request.file("markdown")
        link = public_media_url(self.settings, request.job_id, link_of) if link_of else None
        if media is None:
            body = html.escape(request.markdown().strip())
            if body and len(body) <= TEXT_LIMIT:
                return body
        suffix = f'\n\n<a href="{html.escape(link, quote=True)}">{"Watch" if media else "Read"}' \
            f"</a>" if link else ""
        return clip(caption, TEXT_LIMIT - len(suffix)) + suffix

    def _publication(self, saved: Mapping[str, Any], request: PublishRequest) -> Publication:
        chat = saved.get("chat") or {}
        message_id = saved["message_id"]
        username = chat.get("username") or str(request.credentials.get("chat_id", "")
                                                ).lstrip("@")
        if username and not username.lstrip("-").isdigit():
            url = f"https://t.me/{username}/{message_id}"
        else:  # a private channel: its -100... id without the prefix
            url = f"https://t.me/c/{str(chat.get('id') or username).removeprefix('-100')}/" \
                  f"{message_id}"
        return Publication(platform=self.name, location=url, url=url,
                           post_id=f"{chat.get('id') or username}:{message_id}",
                           meta={"message_id": message_id})

    def _client(self, credentials: Mapping[str, Any]) -> httpx.Client:
        return httpx.Client(base_url=f"{self.api}/bot{credentials['token']}",
                            timeout=self.timeout, transport=self.transport)


def _media(request: PublishRequest) -> tuple[str, Path] | None:
    for role in ("video", "audio"):
        path = request.file(role)
        if path is not None:
            return role, path
    return None


def _mime(path: Path) -> str:
    return {".mp4": "video/mp4", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
            ".ogg": "audio/ogg", ".wav": "audio/wav"}.get(path.suffix.lower(),
                                                          "application/octet-stream")


def _call(client: httpx.Client, method: str, **kwargs: Any) -> dict[str, Any]:
    """One Bot API method; its ``result``, or one line with Telegram's description. The token
    is part of the URL, so no error message ever includes the URL."""
    try:
        answer = client.post(f"/{method}", **kwargs)
    except httpx.HTTPError as err:
        raise PublishError("telegram", f"the Bot API cannot be reached ({type(err).__name__})"
                           ) from None
    try:
        data = answer.json()
    except ValueError:
        data = {"ok": False, "description": answer.reason_phrase}
    if answer.status_code == 413:
        raise PublishError("telegram", "the file is too big for the Bot API (413)")
    if not data.get("ok"):
        description = str(data.get("description", "no description"))[:200]
        hint = " (is the bot an admin of the channel?)" \
            if answer.status_code in (400, 403) and "chat" in description.lower() else ""
        raise PublishError("telegram", f"{method} refused: {description}{hint}")
    return dict(data["result"])
