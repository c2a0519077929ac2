"""Drive the Discord bot offline, through discord.py's own dispatch, and record what it sends.

Nothing reaches Discord. Two seams of discord.py are replaced, and nothing else:
- ``discord.http.HTTPClient.request`` (every REST call the client makes: log in, command sync,
  channel messages, edits, DMs, roles) and ``get_from_cdn``: :class:`RecordingHTTP`
- the interaction webhook adapter (``discord.webhook.async_.async_context``: interaction
  callbacks, follow-ups): :class:`RecordingWebhooks`
Both record the route (method + path), the JSON payload and uploaded files, and answer with
canned JSON shaped like Discord's. Attachment downloads (``HTTPClient.get_from_cdn``, what
``Attachment.read`` and ``save`` call) are recorded too (``via="cdn"``) and served the bytes a
test uploaded with :meth:`DiscordHarness.upload`. Gateway events are fed to the client's
ConnectionState (``parse_ready``, ``parse_interaction_create``), which routes them to the
CommandTree, the dynamic (persistent) buttons and the modal store as a live gateway would.

Use (see tests/channels/test_discord.py)::

    with DiscordHarness(conv) as dc:            # logs in (setup_hook runs), then READY
        reply = dc.slash("create", ADA, topic="how tides work", format="blog")
        dc.settle(job_id)                        # the job stopped; its events were sent
        reply = dc.press(dc.button(job_id, "approve"), Person.of(ChannelUser("discord", "7")))
        assert reply.type == 7                   # the review message was updated
        assert reply.ephemeral                   # ... or: refused, to the presser only

A job started elsewhere (Telegram, the web) by someone whose Discord identity is linked
reaches that identity by DM: ``dc.button(job_id, "approve")`` finds its buttons there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, TypeVar

import discord
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.channels.discord import StudioBot

T = TypeVar("T")
APP_ID = 900_000_000_000_000_001
BOT_ID = 900_000_000_000_000_002
GUILD_ID = 910_000_000_000_000_001
CHANNEL_ID = 920_000_000_000_000_001  # the guild's #studio text channel
REVIEWER_ROLE_ID = 930_000_000_000_000_001
OTHER_ROLE_ID = 930_000_000_000_000_002
GUILD_ROLES = [(GUILD_ID, "@everyone"), (REVIEWER_ROLE_ID, "Reviewer"), (OTHER_ROLE_ID, "Fans")]
TIMEOUT_S = 60
NOT_FOUND = object()  # what Recorder.answer returns for a 404


@dataclass(frozen=True)
class Person:
    """A Discord user; ``roles``: role ids held in the guild."""

    id: int
    name: str
    roles: tuple[int, ...] = ()

    @classmethod
    def of(cls, user: ChannelUser, *roles: int) -> Person:
        """The Discord user behind a conversation identity (``ChannelUser("discord", id)``)."""
        assert user.channel == "discord", user
        return cls(int(user.external_id), user.display_name or f"user{user.external_id}", roles)

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "username": self.name, "global_name": self.name,
                "discriminator": "0", "avatar": None, "bot": False}


BOT = Person(BOT_ID, "studio-bot")


@dataclass
class Call:
    """One request the bot made."""

    via: str  # "http" (REST client), "webhook" (interaction callbacks, follow-ups), "cdn"
    method: str
    path: str
    json: dict[str, Any] | list[Any] | None
    files: list[str] = field(default_factory=list)  # uploaded file names
    sizes: list[int] = field(default_factory=list)

    @property
    def content(self) -> str:
        body = self.json if isinstance(self.json, dict) else {}
        data = body.get("data", body) if "type" in body and self.via == "webhook" else body
        return str((data or {}).get("content") or "")

    @property
    def custom_ids(self) -> list[str]:
        body = self.json if isinstance(self.json, dict) else {}
        data = body.get("data", body) if self.via == "webhook" and "type" in body else body
        return _custom_ids((data or {}).get("components") or [])


def _custom_ids(components: list[dict[str, Any]]) -> list[str]:
    found = []
    for component in components:
        if "custom_id" in component:
            found.append(component["custom_id"])
        found += _custom_ids(component.get("components") or [])
        if "component" in component:
            found += _custom_ids([component["component"]])
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Recorder:
    """Every call, and Discord's side of it: message ids, what each message now says."""

    def __init__(self, roles: list[tuple[int, str]] | None = None) -> None:
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}  # id -> the message as Discord has it
        self.roles = roles if roles is not None else list(GUILD_ROLES)
        self.cdn: dict[str, bytes] = {}  # url -> the bytes of a file a user uploaded
        # user id -> the role ids they hold in the guild now (as GET .../members/ID answers);
        # every guild interaction updates it, a test may demote someone in between
        self.members: dict[int, tuple[int, ...]] = {}
        self.lock = threading.Lock()
        self._ids = itertools.count(950_000_000_000_000_001)

    def new_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def record(self, call: Call) -> Any:
        with self.lock:
            self.calls.append(call)
        return self.answer(call)

    def since(self, mark: int) -> list[Call]:
        with self.lock:
            return list(self.calls[mark:])

    def mark(self) -> int:
        with self.lock:
            return len(self.calls)

    def answer(self, call: Call) -> Any:
        method, parts = call.method, call.path.strip("/").split("/")
        body = call.json if isinstance(call.json, dict) else {}
        if (method, call.path) == ("GET", "/users/@me"):
            return {**BOT.payload(), "bot": True}
        if (method, call.path) == ("GET", "/oauth2/applications/@me"):
            return {"id": str(APP_ID), "name": "studio", "description": "", "icon": None,
                    "bot_public": True, "bot_require_code_grant": False,
                    "owner": Person(1, "owner").payload(), "verify_key": "00", "flags": 0}
        if method == "PUT" and parts[0] == "applications":
            return []
        if (method, call.path) == ("POST", "/users/@me/channels"):
            recipient = int(body["recipient_id"])
            return {"id": str(dm_channel(recipient)), "type": 1, "last_message_id": None,
                    "recipients": [Person(recipient, f"user{recipient}").payload()]}
        if method == "GET" and parts[0] == "guilds" and parts[2:3] == ["members"]:
            roles = self.members.get(int(parts[3]))
            if roles is None:
                return NOT_FOUND
            return {"user": Person(int(parts[3]), f"user{parts[3]}").payload(),
                    "roles": [str(r) for r in roles], "joined_at": _now(), "deaf": False,
                    "mute": False, "flags": 0, "nick": None}
        if method == "GET" and parts[0] == "guilds" and parts[-1] == "roles":
            return [_role(role_id, name, i) for i, (role_id, name) in enumerate(self.roles)]
        if parts[0] == "channels" and parts[2:3] == ["messages"]:
            channel = int(parts[1])
            if method == "POST":
                return self._store(channel, self.new_id(), body, call.files)
            if method == "PATCH":
                return self._store(channel, int(parts[3]), body, None)
        if parts[0] == "interactions":
            return {"interaction": {"id": parts[1], "type": 3}}
        if parts[0] == "webhooks":
            return self._store(CHANNEL_ID, self.new_id(), body, call.files)
        return None

    def _store(self, channel: int, message_id: int, body: dict[str, Any],
               files: list[str] | None) -> dict[str, Any]:
        with self.lock:
            old = self.messages.get(message_id, {})
            message = {
                "id": str(message_id), "channel_id": str(channel), "type": 0,
                "author": {**BOT.payload(), "bot": True}, "timestamp": _now(),
                "edited_timestamp": _now() if old else None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [],
                "embeds": [], "pinned": False, "flags": int(body.get("flags") or 0),
                "content": body.get("content", old.get("content", "")),
                "components": body.get("components", old.get("components", [])),
                "attachments": old.get("attachments", []) + [
                    {"id": str(self.new_id_unlocked()), "filename": name, "size": 1,
                     "url": f"https://cdn.example/{name}", "proxy_url": ""}
                    for name in files or []],
            }
            self.messages[message_id] = message
            return message

    def new_id_unlocked(self) -> int:
        return next(self._ids)

    def download(self, url: str) -> bytes | None:
        """A CDN download: recorded; the file's bytes, or None where nothing was uploaded."""
        with self.lock:
            self.calls.append(Call("cdn", "GET", url, None))
            return self.cdn.get(url)

    def downloads(self) -> list[str]:
        with self.lock:
            return [c.path for c in self.calls if c.via == "cdn"]

    # --- looking things up ----------------------------------------------------------------

    def posts(self, channel: int | None = None) -> list[Call]:
        """Messages sent to channels (not interaction replies), in order."""
        return [c for c in self.calls if c.method == "POST" and c.path.startswith("/channels/")
                and (channel is None or c.path == f"/channels/{channel}/messages")]

    def edits(self, channel: int, message_id: int) -> list[Call]:
        return [c for c in self.calls
                if (c.method, c.path) == ("PATCH", f"/channels/{channel}/messages/{message_id}")]

    def message_with(self, custom_id: str) -> dict[str, Any] | None:
        """The newest message carrying a component with this custom_id."""
        with self.lock:
            for message in reversed(list(self.messages.values())):
                if custom_id in _custom_ids(message.get("components") or []):
                    return message
        return None


def dm_channel(user_id: int) -> int:
    """The DM channel Discord gives the bot with this user (stable, like Discord's)."""
    return 960_000_000_000_000_000 + user_id % 1_000_000_000


def _role(role_id: int, name: str, position: int) -> dict[str, Any]:
    return {"id": str(role_id), "name": name, "color": 0, "hoist": False, "position": position,
            "permissions": "0", "managed": False, "mentionable": False, "flags": 0}


def _files(files: Any) -> tuple[list[str], list[int]]:
    names, sizes = [], []
    for file in files or []:
        names.append(file.filename)
        fp = file.fp
        position = fp.tell()
        fp.seek(0, 2)
        sizes.append(fp.tell())
        fp.seek(position)
    return names, sizes


def _form_json(form: Any) -> dict[str, Any] | None:
    for part in form or []:
        if part.get("name") == "payload_json":
            value = json.loads(part["value"])
            return value if isinstance(value, dict) else None
    return None


class RecordingHTTP(discord.http.HTTPClient):
    """discord.py's REST client with the network replaced by :class:`Recorder`."""

    def __init__(self, recorder: Recorder, loop: Any) -> None:
        super().__init__(loop)
        self.recorder = recorder

    async def request(self, route: Route, *, files: Any = None, form: Any = None,
                      **kwargs: Any) -> Any:
        names, sizes = _files(files)
        payload = kwargs.get("json")
        if payload is None and form:
            payload = _form_json(form)
        answer = self.recorder.record(Call("http", route.method, route.url.removeprefix(
            Route.BASE), payload, names, sizes))
        if answer is NOT_FOUND:  # as discord.py raises Discord's 404 (Unknown Member)
            gone = SimpleNamespace(status=404, reason="Not Found")
            raise discord.NotFound(gone,  # type: ignore[arg-type]
                                   {"code": 10007, "message": "Unknown Member"})
        return answer

    async def get_from_cdn(self, url: str) -> bytes:
        data = self.recorder.download(url)
        if data is None:  # as discord.py answers Discord's 404 for a deleted attachment
            raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"),
                                   "asset not found")
        return data


class RecordingWebhooks(AsyncWebhookAdapter):
    """The interaction callback / follow-up transport, recording instead of sending."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    async def request(self, route: Route, session: Any, *, payload: Any = None,
                      multipart: Any = None, files: Any = None, **kwargs: Any) -> Any:
        names, sizes = _files(files)
        if payload is None and multipart:
            payload = _form_json(multipart)
        return self.recorder.record(Call("webhook", route.method, route.url.removeprefix(
            Route.BASE), payload, names, sizes))


@dataclass
class Reply:
    """What the bot did about one interaction: the calls it made while handling it."""

    calls: list[Call]

    @property
    def callback(self) -> Call:
        found = [c for c in self.calls if c.path.startswith("/interactions/")]
        assert len(found) == 1, self.calls
        return found[0]

    @property
    def type(self) -> int:  # 4 message, 7 update the pressed message, 9 modal
        body = self.callback.json
        assert isinstance(body, dict)
        return int(body["type"])

    @property
    def data(self) -> dict[str, Any]:
        body = self.callback.json
        assert isinstance(body, dict)
        return dict(body.get("data") or {})

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & 64)

    @property
    def followups(self) -> list[Call]:
        """Messages sent after the callback (the answer to a deferred, "thinking…" one)."""
        return [c for c in self.calls if c.via == "webhook" and c.path.startswith("/webhooks/")]

    @property
    def custom_ids(self) -> list[str]:
        return _custom_ids(self.data.get("components") or [])


class DiscordHarness:
    """A :class:`StudioBot` over ``conv`` on its own event loop thread, offline."""

    def __init__(self, conv: Conversation, *, edit_interval: float = 0.05,
                 recorder: Recorder | None = None) -> None:
        self.conv = conv
        self.recorder = recorder or Recorder()
        self.webhooks = RecordingWebhooks(self.recorder)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="discord-harness")
        self.thread.start()
        self.bot: StudioBot = self.run(self._build(edit_interval))
        self._ids = itertools.count(970_000_000_000_000_001)

    async def _build(self, edit_interval: float) -> StudioBot:
        return StudioBot(self.conv, edit_interval=edit_interval, application_id=APP_ID,
                         guild_ready_timeout=0.01, http=RecordingHTTP(self.recorder, None))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT_S) -> T:
        async def in_context() -> T:
            async_context.set(self.webhooks)  # tasks started from here inherit it
            return await coro

        return asyncio.run_coroutine_threadsafe(in_context(), self.loop).result(timeout)

    # --- life cycle -----------------------------------------------------------------------

    def start(self, *, ready: bool = True) -> DiscordHarness:
        """Log in (the bot's setup_hook runs: subscription, command sync), then READY."""
        self.run(self.bot.login("test-token"))
        if ready:
            self.ready()
        return self

    def ready(self) -> None:
        async def ready() -> None:
            payload: Any = {
                "v": 10, "shard": [0, 1], "user": {**BOT.payload(), "bot": True}, "guilds": [],
                "session_id": "s", "resume_gateway_url": "wss://gateway.invalid",
                "application": {"id": str(APP_ID), "flags": 0}}
            self.bot._connection.parse_ready(payload)
            await asyncio.wait_for(self.bot.pending_shown.wait(), TIMEOUT_S)

        self.run(ready())

    def close(self) -> None:
        async def cancel_the_rest() -> None:  # e.g. an ephemeral view's 15-minute timeout
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        try:
            self.run(self.bot.close())
            self.run(cancel_the_rest())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def __enter__(self) -> DiscordHarness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def settle(self, job_id: str | None = None, timeout: float = 120) -> None:
        """Wait for the job's background work (if given), then for the bot to send all it
        was told, including a throttled progress edit still pending."""
        if job_id is not None:
            assert self.conv.wait(job_id, timeout), f"{job_id} did not stop in {timeout}s"

        async def settle() -> None:
            for _ in range(3):
                await asyncio.sleep(min(self.bot.edit_interval, 0.5) + 0.05)
                await self.bot.drain()

        self.run(settle())

    # --- gateway events -------------------------------------------------------------------

    def _dispatch(self, payload: dict[str, Any]) -> Reply:
        mark = self.recorder.mark()
        interaction_id = int(payload["id"])

        async def dispatch() -> None:
            done = self.bot.handled.setdefault(interaction_id, asyncio.Event())
            self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
            await asyncio.wait_for(done.wait(), TIMEOUT_S)

        self.run(dispatch())
        return Reply(self.recorder.since(mark))

    def _base(self, kind: int, person: Person, guild: bool, channel: int | None,
              data: dict[str, Any]) -> dict[str, Any]:
        interaction_id = next(self._ids)
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind,
            "token": f"token-{interaction_id}", "version": 1, "data": data,
            "attachment_size_limit": 10 * 1024 * 1024, "locale": "en-US",
            "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
        }
        if guild:
            channel = channel or CHANNEL_ID
            self.recorder.members[person.id] = person.roles
            payload.update(
                guild_id=str(GUILD_ID), guild_locale="en-US", context=0,
                guild={"id": str(GUILD_ID), "locale": "en-US", "features": []},
                channel_id=str(channel),
                channel={"id": str(channel), "type": 0, "guild_id": str(GUILD_ID),
                         "name": "studio", "position": 0, "permission_overwrites": [],
                         "nsfw": False, "parent_id": None},
                member={"user": person.payload(), "roles": [str(r) for r in person.roles],
                        "joined_at": _now(), "deaf": False, "mute": False, "flags": 0,
                        "permissions": "0", "nick": None})
        else:
            channel = channel or dm_channel(person.id)
            payload.update(
                context=1, user=person.payload(), channel_id=str(channel),
                channel={"id": str(channel), "type": 1, "recipients": [person.payload()]})
        return payload

    def slash(self, name: str, person: Person, *, guild: bool = True,
              channel: int | None = None, **options: str | dict[str, Any]) -> Reply:
        """A slash command, as Discord sends it; an option given as an attachment
        (:meth:`upload`) goes by its id, the attachment itself in ``resolved``."""
        data: dict[str, Any] = {"id": str(next(self._ids)), "name": name, "type": 1,
                                "options": []}
        for key, value in options.items():
            if isinstance(value, dict):  # an attachment
                data["options"].append({"name": key, "type": 11, "value": value["id"]})
                data.setdefault("resolved", {}).setdefault("attachments", {})[
                    value["id"]] = value
            else:
                data["options"].append({"name": key, "type": 3, "value": value})
        return self._dispatch(self._base(2, person, guild, channel, data))

    def upload(self, name: str, data: bytes, *, size: int | None = None) -> dict[str, Any]:
        """A file a user attached (the payload Discord sends, for :meth:`slash` or
        :meth:`message`); its bytes are served at its CDN url. ``size``: the size Discord
        says it has (default: the real one)."""
        attachment_id = next(self._ids)
        url = f"https://cdn.discordapp.com/attachments/{attachment_id}/{name}"
        self.recorder.cdn[url] = data
        return {"id": str(attachment_id), "filename": name, "url": url, "proxy_url": url,
                "size": len(data) if size is None else size}

    def _message(self, custom_id: str, message: dict[str, Any] | None) -> dict[str, Any]:
        found = message or self.recorder.message_with(custom_id)
        if found is not None:
            return found
        # A button no message of ours carries (forged): Discord would still send it with the
        # message the client claims it was on.
        return {"id": str(self.recorder.new_id()), "channel_id": str(CHANNEL_ID), "type": 0,
                "author": {**BOT.payload(), "bot": True}, "timestamp": _now(),
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                "pinned": False, "flags": 0, "content": "a review",
                "components": [{"type": 1, "components": [
                    {"type": 2, "style": 3, "label": "Approve", "custom_id": custom_id}]}]}

    def press(self, custom_id: str, person: Person, *, guild: bool | None = None,
              message: dict[str, Any] | None = None) -> Reply:
        """Press the button with this custom_id on the message that carries it (the newest
        one the bot sent, unless ``message`` is given); ``guild``: pressed in the guild
        (default: when the message is in the guild's channel, else in a DM)."""
        found = self._message(custom_id, message)
        if guild is None:
            guild = int(found["channel_id"]) == CHANNEL_ID
        payload = self._base(3, person, guild, int(found["channel_id"]),
                             {"custom_id": custom_id, "component_type": 2})
        payload["message"] = found
        return self._dispatch(payload)

    def submit(self, custom_id: str, person: Person, notes: str, *, guild: bool = True,
               message: dict[str, Any] | None = None) -> Reply:
        """Send back a Revise form (opened from the button on ``message``)."""
        data = {"custom_id": custom_id, "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "notes", "value": notes}]}]}
        channel = int(message["channel_id"]) if message else None
        payload = self._base(5, person, guild, channel, data)
        if message is not None:
            payload["message"] = message
        return self._dispatch(payload)

    def message(self, person: Person, text: str, *,
                attachments: list[dict[str, Any]] | None = None) -> list[Call]:
        """A plain message from ``person`` in their DMs with the bot (MESSAGE_CREATE), with
        files attached (:meth:`upload`); returns the bot's first answer in that DM (as soon
        as there is one)."""
        payload: Any = {
            "id": str(next(self._ids)), "channel_id": str(dm_channel(person.id)), "type": 0,
            "author": person.payload(), "content": text, "timestamp": _now(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": attachments or [], "embeds": [],
            "pinned": False, "flags": 0}

        mark, path = self.recorder.mark(), f"/channels/{dm_channel(person.id)}/messages"

        async def send() -> list[Call]:
            self.bot._connection.parse_message_create(payload)
            for _ in range(int(TIMEOUT_S / 0.05)):  # on_message runs as its own task
                answers = [c for c in self.recorder.since(mark) if c.path == path]
                if answers:
                    return answers
                await asyncio.sleep(0.05)
            raise AssertionError(f"no answer to {text!r}")

        return self.run(send())

    # --- what the bot sent ----------------------------------------------------------------

    def approvals(self, job_id: str, channel: int | None = None) -> list[Call]:
        """The approval requests posted for a job, oldest first."""
        return [c for c in self.recorder.posts(channel)
                if any(f":{job_id}:" in i for i in c.custom_ids)]

    def button(self, job_id: str, action: str, channel: int | None = None,
               wait_s: float = 45.0) -> str:
        """The custom_id of the newest ``action`` button posted for the job (waiting up to
        ``wait_s`` for the bot to post it: a job's review event reaches the bot's loop from
        the job's thread, and may land just after the job's thread is seen to stop; behind a
        Telegram subscriber that holds an event up to its ASKING_WAIT_S, 30 s)."""
        deadline = time.monotonic() + wait_s
        while True:
            for call in reversed(self.approvals(job_id, channel)):
                for custom_id in call.custom_ids:
                    if custom_id.startswith(f"ai:{action}:{job_id}:"):
                        return custom_id
            if time.monotonic() > deadline:
                break
            self.settle()
        raise AssertionError(f"no {action} button for {job_id}: {self.recorder.calls}")

    def all_calls(self) -> Iterator[Call]:
        return iter(self.recorder.since(0))
