"""A Discord channel through a channel webhook (Server Settings > Integrations > Webhooks;
no bot needed).

``POST <webhook>?wait=true`` (Discord then answers with the message it created): the text as
``content`` (2,000 characters at most) and the piece's file as a multipart attachment
(``payload_json`` + ``files[0]``) when it is under the server's upload limit
(ASSISTANT_DISCORD_UPLOAD_LIMIT_MB, 10 MB: what a server without boosts takes), else the
file's signed link (assistant/infra/media_links.py) in the text. ``GET <webhook>`` first gives
the guild and channel the message's URL needs, and proves the webhook still exists.

Like Telegram, a webhook has no idempotency key and no search: the message id is saved the
moment Discord answers (see telegram.py's note).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from assistant.config import Settings
from assistant.content import Publication
from assistant.infra.media_links import public_media_url
from assistant.infra.netguard import public_transport
from assistant.tools.publishing.base import (
    Limits,
    PublishError,
    PublishRequest,
    check_limits,
    private_address_refusal,
)
from assistant.tools.publishing.telegram import clip

CONTENT_LIMIT = 2000
CONNECT_HINT = "/connect discord WEBHOOK_URL, or set ASSISTANT_DISCORD_WEBHOOK_URL"
# https://discord.com/api/webhooks/<id>/<token> (discordapp.com and api/v10 are the same)
WEBHOOK = re.compile(r"^https?://[^/\s]+(/api(?:/v\d+)?/webhooks/(\d+)/[\w-]+)/?$")


def credentials_from_settings(settings: Settings) -> dict[str, Any]:
    url = settings.discord_webhook_url
    return {"webhook_url": url.get_secret_value()} if url else {}


class DiscordWebhookPublisher:
    name = "discord"
    limits = Limits(text="discord", needs_any=("video", "audio", "markdown"),
                    credentials=("webhook_url",), connect_hint=CONNECT_HINT)

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.upload_limit = int(settings.discord_upload_limit_mb * 1024 * 1024)
        self.timeout = settings.publish_timeout_s
        # the person chose this address (/connect): connect only to a public address, checked
        # at each connection, unless the operator allows private ones (a LAN site, the tests)
        self.transport = transport or (None if settings.publish_allow_private
                                       else public_transport())

    def verify(self, credentials: Mapping[str, Any]) -> str:
        """The webhook's name, once Discord says it exists."""
        url = str(credentials.get("webhook_url", ""))
        if not WEBHOOK.match(url):
            raise PublishError("discord", "that is not a webhook URL (https://discord.com/api/"
                               "webhooks/ID/TOKEN)")
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            hook = _call(client, "GET", url.rstrip("/"))
        return f"webhook {hook.get('name') or hook.get('id')}"

    def check(self, request: PublishRequest) -> list[str]:
        problems = check_limits(self.name, self.limits, request)
        url = str(request.credentials.get("webhook_url", ""))
        if url and not WEBHOOK.match(url):
            problems.append("discord: that is not a webhook URL (https://discord.com/api/"
                            "webhooks/ID/TOKEN)")
        attachment = _attachment(request)
        if attachment is not None and attachment.stat().st_size > self.upload_limit \
                and not self.settings.public_base_url:
            problems.append(f"discord: the file is {attachment.stat().st_size / 1e6:.1f} MB, "
                            f"over the {self.settings.discord_upload_limit_mb:g} MB upload limit,"
                            " and ASSISTANT_PUBLIC_BASE_URL is not set to link it")
        return problems

    def publish(self, request: PublishRequest) -> Publication:
        if request.resume.get("message_id"):
            return _publication(request.resume)
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            url = str(request.credentials["webhook_url"]).rstrip("/")
            hook = _call(client, "GET", url)
            attachment = _attachment(request)
            upload = attachment is not None and attachment.stat().st_size <= self.upload_limit
            text = self._content(request, None if upload else attachment)
            payload: dict[str, Any] = {"content": text, "allowed_mentions": {"parse": []}}
            if upload and attachment is not None:
                payload["attachments"] = [{"id": 0, "filename": attachment.name}]
                with attachment.open("rb") as handle:
                    message = _call(client, "POST", url, params={"wait": "true"},
                                    data={"payload_json": json.dumps(payload)},
                                    files={"files[0]": (attachment.name, handle)})
            else:
                message = _call(client, "POST", url, params={"wait": "true"}, json=payload)
        saved = {"message_id": message["id"], "channel_id": message.get("channel_id"),
                 "guild_id": hook.get("guild_id")}
        request.progress(**saved)
        return _publication(saved)

    def _content(self, request: PublishRequest, linked: Path | None) -> str:
        script = request.script
        link = public_media_url(self.settings, request.job_id, linked) if linked else None
        tail = f"\n{link}" if link else ""
        head = "\n\n".join(p for p in (f"**{script.title}**", script.description,
                                       " ".join(script.hashtags)) if p)
        if request.file("video") is None and request.file("audio") is None:
            body = request.markdown().strip()
            if body and len(body) <= CONTENT_LIMIT - len(tail):
                head = body
        return clip(head, CONTENT_LIMIT - len(tail)) + tail


def _attachment(request: PublishRequest) -> Path | None:
    """The file a channel should see: the video or episode, else the text piece itself."""
    return request.file("video") or request.file("audio") or request.file("markdown")


def _publication(saved: Mapping[str, Any]) -> Publication:
    guild = saved.get("guild_id") or "@me"
    url = f"https://discord.com/channels/{guild}/{saved.get('channel_id')}/{saved['message_id']}"
    return Publication(platform="discord", location=url, url=url,
                       post_id=str(saved["message_id"]), meta=dict(saved))


def _call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """One webhook request; Discord's error in one line. The URL holds the webhook's token,
    so it never appears in a message."""
    try:
        answer = client.request(method, url, **kwargs)
    except httpx.HTTPError as err:
        refused = private_address_refusal("discord", err)
        if refused is not None:
            raise refused from None
        raise PublishError("discord", f"Discord cannot be reached ({type(err).__name__})"
                           ) from None
    if answer.status_code < 400:
        return dict(answer.json())
    try:
        data = answer.json()
    except ValueError:
        data = {}
    message = str(data.get("message", answer.reason_phrase))[:200]
    if answer.status_code == 404:
        raise PublishError("discord", "the webhook no longer exists (deleted in the channel's "
                           "settings?): connect a new one with /connect discord WEBHOOK_URL")
    if answer.status_code == 429:
        raise PublishError("discord", f"rate limited: try again in "
                           f"{data.get('retry_after', '?')} s")
    raise PublishError("discord", f"the webhook refused the message ({answer.status_code} "
                       f"{message}, code {data.get('code', '?')})")
