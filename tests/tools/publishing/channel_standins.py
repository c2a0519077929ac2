"""Local stand-ins for the Telegram Bot API and Discord's channel webhooks, on 127.0.0.1,
answering as their documentation says (paths, status codes, JSON shapes, limits):

Telegram (https://core.telegram.org/bots/api): ``POST /bot<token>/<method>`` with
form-data or JSON; ``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code": N,
"description": "..."}``; 401 Unauthorized for a wrong token, 400 "chat not found", 403 "bot is
not a member of the channel chat", 413 over the 50 MB a bot may upload; captions over 1,024
and texts over 4,096 characters refused.

Discord (https://discord.com/developers/docs/resources/webhook): ``GET /api/webhooks/<id>/
<token>`` gives the webhook object; ``POST`` executes it (JSON, or multipart with
``payload_json`` and ``files[n]``), answering 204 or, with ``?wait=true``, the created message;
404 Unknown Webhook (10015), 400 Invalid Form Body (50035) over 2,000 characters, 50006 for an
empty message, 413 Request entity too large (40005) over the upload limit.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

TG_UPLOAD_LIMIT = 50 * 1024 * 1024
CHANNEL_ID = -1001234567890


@dataclass
class Upload:
    field: str
    filename: str
    size: int
    content_type: str


@dataclass
class Received:
    """One request the stand-in answered."""

    method: str
    path: str
    fields: dict[str, str]
    files: list[Upload]
    status: int


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], list[Upload]]:
    """Form fields and files of a JSON, urlencoded or multipart/form-data body."""
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}, []
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}, []
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, str] = {}
        files: list[Upload] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if filename is not None:
                files.append(Upload(str(name), filename, len(payload),
                                    part.get_content_type()))
            else:
                fields[str(name)] = payload.decode("utf-8")
        return fields, files
    return {}, []


class StandIn:
    """A threaded HTTP server; subclasses answer ``handle``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._ids = itertools.count(101)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = stand_in.answer(self.command, self.path,
                                                 self.headers.get("Content-Type", ""), body)
                raw = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                if answer is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, method: str, path: str, content_type: str, body: bytes
               ) -> tuple[int, dict[str, Any] | None]:
        try:
            fields, files = parse_body(content_type, body)
        except (ValueError, UnicodeDecodeError):
            fields, files = {}, []
        status, answer = self.handle(method, path, fields, files, len(body))
        self.received.append(Received(method, path, fields, files, status))
        return status, answer

    def handle(self, method: str, path: str, fields: dict[str, str], files: list[Upload],
               size: int) -> tuple[int, dict[str, Any] | None]:
        raise NotImplementedError

    def next_id(self) -> int:
        return next(self._ids)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Posted:
    id: int | str
    fields: dict[str, str]
    files: list[Upload] = field(default_factory=list)


class TelegramStandIn(StandIn):
    TOKEN = "7000001:AAstand-in-token_for_channel_posts"

    def __init__(self, channel: str = "@studio_channel", bot_is_admin: bool = True) -> None:
        super().__init__()
        self.channel = channel
        self.bot_is_admin = bot_is_admin
        self.posts: list[Posted] = []

    @staticmethod
    def error(code: int, description: str) -> tuple[int, dict[str, Any]]:
        return code, {"ok": False, "error_code": code, "description": description}

    def handle(self, method: str, path: str, fields: dict[str, str], files: list[Upload],
               size: int) -> tuple[int, dict[str, Any] | None]:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", urlsplit(path).path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, api_method = match.groups()
        if token != self.TOKEN:
            return self.error(401, "Unauthorized")
        if size > TG_UPLOAD_LIMIT:
            return self.error(413, "Request Entity Too Large")
        chat = fields.get("chat_id", "")
        if chat not in (self.channel, str(CHANNEL_ID)):
            return self.error(400, "Bad Request: chat not found")
        if not self.bot_is_admin:
            return self.error(403, "Forbidden: bot is not a member of the channel chat")
        if api_method == "getChat":
            return 200, {"ok": True, "result": {**self._chat(), "description": ""}}
        if api_method == "getChatMember":
            bot_id = int(self.TOKEN.split(":")[0])
            if str(fields.get("user_id")) != str(bot_id):
                return self.error(400, "Bad Request: user not found")
            return 200, {"ok": True, "result": {
                "status": "administrator", "can_post_messages": True, "can_edit_messages": True,
                "can_be_edited": False, "can_manage_chat": True, "can_delete_messages": True,
                "user": {"id": bot_id, "is_bot": True, "first_name": "Studio",
                         "username": "studio_test_bot"}}}
        message: dict[str, Any] = {
            "message_id": self.next_id(), "date": int(time.time()),
            "sender_chat": self._chat(), "chat": self._chat()}
        if api_method == "sendMessage":
            text = fields.get("text", "")
            if not text.strip():
                return self.error(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                return self.error(400, "Bad Request: message is too long")
            message["text"] = text
        elif api_method in ("sendVideo", "sendAudio"):
            kind = "video" if api_method == "sendVideo" else "audio"
            upload = next((f for f in files if f.field == kind), None)
            if upload is None:
                return self.error(400, f"Bad Request: there is no {kind} in the request")
            if len(fields.get("caption", "")) > 1024:
                return self.error(400, "Bad Request: message caption is too long")
            message[kind] = {"file_id": f"F{message['message_id']}",
                             "file_unique_id": f"U{message['message_id']}",
                             "duration": int(fields.get("duration", "0") or 0),
                             "mime_type": upload.content_type, "file_size": upload.size}
            if fields.get("caption"):
                message["caption"] = fields["caption"]
        else:
            return self.error(400, f"Bad Request: method {api_method} is not served here")
        self.posts.append(Posted(message["message_id"], fields, files))
        return 200, {"ok": True, "result": message}

    def _chat(self) -> dict[str, Any]:
        return {"id": CHANNEL_ID, "title": "Studio channel",
                "username": self.channel.lstrip("@"), "type": "channel"}


class DiscordStandIn(StandIn):
    WEBHOOK_ID = "1180000000000000001"
    TOKEN = "stand-in_webhook-token"
    GUILD_ID = "1170000000000000001"
    CHANNEL_ID = "1170000000000000002"

    def __init__(self, upload_limit: int = 10 * 1024 * 1024) -> None:
        super().__init__()
        self.upload_limit = upload_limit
        self.posts: list[Posted] = []

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{self.WEBHOOK_ID}/{self.TOKEN}"

    def handle(self, method: str, path: str, fields: dict[str, str], files: list[Upload],
               size: int) -> tuple[int, dict[str, Any] | None]:
        parts = urlsplit(path)
        match = re.fullmatch(r"/api(?:/v\d+)?/webhooks/(\d+)/([\w-]+)", parts.path)
        if match is None or match.groups() != (self.WEBHOOK_ID, self.TOKEN):
            return 404, {"message": "Unknown Webhook", "code": 10015}
        if method == "GET":
            return 200, {"type": 1, "id": self.WEBHOOK_ID, "name": "Studio",
                         "avatar": None, "channel_id": self.CHANNEL_ID,
                         "guild_id": self.GUILD_ID, "application_id": None,
                         "token": self.TOKEN}
        if any(f.size > self.upload_limit for f in files):
            return 413, {"message": "Request entity too large", "code": 40005}
        payload = json.loads(fields["payload_json"]) if "payload_json" in fields else {
            k: (json.loads(v) if k in ("allowed_mentions", "embeds") else v)
            for k, v in fields.items()}
        content = str(payload.get("content", ""))
        if len(content) > 2000:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {
                "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                         "message": "Must be 2000 or fewer in length."}]}}}
        if not content.strip() and not files and not payload.get("embeds"):
            return 400, {"message": "Cannot send an empty message", "code": 50006}
        message_id = str(1190000000000000000 + self.next_id())
        self.posts.append(Posted(message_id, {"content": content}, files))
        if parse_qs(parts.query).get("wait") != ["true"]:
            return 204, None
        attachments = [{"id": str(1200000000000000000 + i), "filename": f.filename,
                        "size": f.size, "content_type": f.content_type,
                        "url": f"https://cdn.discordapp.com/attachments/{self.CHANNEL_ID}/"
                               f"{i}/{f.filename}", "proxy_url": ""}
                       for i, f in enumerate(files)]
        return 200, {"id": message_id, "type": 0, "content": content,
                     "channel_id": self.CHANNEL_ID, "webhook_id": self.WEBHOOK_ID,
                     "author": {"bot": True, "id": self.WEBHOOK_ID, "username": "Studio",
                                "avatar": None, "discriminator": "0000"},
                     "attachments": attachments, "embeds": [], "mentions": [],
                     "mention_roles": [], "pinned": False, "mention_everyone": False,
                     "tts": False, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                              time.gmtime()),
                     "edited_timestamp": None, "flags": 0, "components": []}
