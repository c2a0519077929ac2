"""Sending what jobs say later: one task, in order, to the job's channel or the person's DMs.

Events arrive on a job's thread and are queued onto the bot's loop (:meth:`Courier.post`);
the courier sends them one at a time. Progress goes to one message per job, edited in place
at most once per ``edit_interval`` (Discord allows about five edits in five seconds per
channel): updates in between are folded into the next edit, which a timer brings forward.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import deque
from dataclasses import dataclass

import discord

from assistant.app.events import ChannelUser, OutEvent
from assistant.channels.discord.buttons import review_view
from assistant.channels.discord.render import (
    ProgressBoard,
    approval_text,
    deliver_artifact,
    event_text,
)
from assistant.channels.discord.routes import Routes
from assistant.config import Settings

log = logging.getLogger(__name__)

Delivery = tuple[ChannelUser, OutEvent] | tuple[None, str]  # an event, or a board to flush


@dataclass
class _Board:
    """A job's progress message in one channel."""

    board: ProgressBoard
    channel_id: int
    message_id: int | None = None
    last_edit: float = 0.0
    dirty: bool = False
    timer: asyncio.TimerHandle | None = None


class Courier:
    def __init__(self, client: discord.Client, settings: Settings, routes: Routes,
                 routing: asyncio.Lock, edit_interval: float) -> None:
        self.client, self.settings, self.routes = client, settings, routes
        self.routing = routing  # held by whoever is naming a job's channel right now
        self.edit_interval = edit_interval
        self._outbox: asyncio.Queue[Delivery] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._boards: dict[tuple[str, int], _Board] = {}
        self._recent: deque[tuple[int, OutEvent]] = deque(maxlen=500)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start sending (on the running loop)."""
        self._loop = asyncio.get_running_loop()
        self._outbox = asyncio.Queue()
        self._worker = asyncio.create_task(self._forever(self._outbox), name="discord-outbox")

    def post(self, user: ChannelUser, event: OutEvent) -> None:
        """Queue an event for ``user``; safe to call from any thread."""
        if self._loop is not None and self._outbox is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._outbox.put_nowait, (user, event))

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        for board in self._boards.values():
            if board.timer is not None:
                board.timer.cancel()

    async def drain(self) -> None:
        """Wait until everything queued so far has been sent."""
        if self._outbox is not None:
            await self._outbox.join()

    async def _forever(self, outbox: asyncio.Queue[Delivery]) -> None:
        while True:
            who, what = await outbox.get()
            try:
                if who is None:
                    assert isinstance(what, str)
                    await self._flush(what)
                else:
                    assert isinstance(what, OutEvent)
                    await self._deliver(who, what)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not deliver a discord message")
            finally:
                outbox.task_done()

    async def target(self, user: ChannelUser, job_id: str | None) -> int | None:
        """The job's channel, else the person's DMs; None when neither can be reached."""
        route = self.routes.get(job_id) if job_id else None
        if route is None and job_id:
            async with self.routing:  # a /create or a press may be naming it right now
                route = self.routes.get(job_id)
        if route is not None:
            return route.channel_id
        try:
            dm = await self.client.create_dm(discord.Object(id=int(user.external_id)))
        except (discord.HTTPException, ValueError):
            log.warning("cannot open a DM with discord user %s", user.external_id)
            return None
        return dm.id

    async def _deliver(self, user: ChannelUser, event: OutEvent) -> None:
        job_id = event.job_id or ""
        target = await self.target(user, event.job_id)
        if target is None:
            return
        if any(t == target and e is event for t, e in self._recent):
            return  # the same event for another identity of the same channel
        self._recent.append((target, event))
        if event.kind == "progress":
            await self._progress(job_id, target, event)
            return
        await self._flush(job_id, target, final=True)
        channel = self.client.get_partial_messageable(target)
        if event.kind == "approval_request":
            await self.send_approval(target, event)
        elif event.kind == "artifact":
            delivery = deliver_artifact(self.settings, event)
            if delivery.attach is not None:
                try:
                    await channel.send(content=delivery.text,
                                       file=discord.File(delivery.attach))
                    return
                except discord.HTTPException as exc:
                    if exc.status != 413:  # over this server's own upload limit
                        raise
                    delivery = deliver_artifact(self.settings, event, attach=False)
            await channel.send(content=delivery.text)
        else:
            await channel.send(content=event_text(event))

    async def send_approval(self, target: int, event: OutEvent) -> None:
        """The review message with its buttons (and the whole draft attached if too long)."""
        content, whole = approval_text(event)
        view = review_view(self.settings, event.job_id or "", event.stage, event.actions)
        channel = self.client.get_partial_messageable(target)
        if whole is None:
            await channel.send(content=content, view=view)
        else:
            name = f"{event.job_id}-{event.stage}.md"
            await channel.send(content=content, view=view,
                               file=discord.File(io.BytesIO(whole.encode()), filename=name))

    async def _progress(self, job_id: str, target: int, event: OutEvent) -> None:
        key = (job_id, target)
        state = self._boards.get(key)
        if state is None:
            state = self._boards[key] = _Board(ProgressBoard(job_id), target)
        state.board.update(event)
        now = time.monotonic()
        if state.message_id is None:
            message = await self.client.get_partial_messageable(target).send(
                content=state.board.render())
            state.message_id, state.last_edit = message.id, now
        elif now - state.last_edit >= self.edit_interval:
            await self._edit(state)
        else:
            state.dirty = True
            if state.timer is None and self._outbox is not None:
                outbox = self._outbox
                delay = self.edit_interval - (now - state.last_edit)
                state.timer = asyncio.get_running_loop().call_later(
                    delay, outbox.put_nowait, (None, job_id))

    async def _flush(self, job_id: str, target: int | None = None, *,
                     final: bool = False) -> None:
        """Show a job's latest progress now; ``final``: the next progress starts a new
        message (below the review or result that follows)."""
        for key in [k for k in self._boards if k[0] == job_id and target in (None, k[1])]:
            state = self._boards[key]
            if state.timer is not None:
                state.timer.cancel()
                state.timer = None
            if state.dirty and state.message_id is not None:
                await self._edit(state)
            if final:
                del self._boards[key]

    async def _edit(self, state: _Board) -> None:
        assert state.message_id is not None
        message = self.client.get_partial_messageable(state.channel_id).get_partial_message(
            state.message_id)
        await message.edit(content=state.board.render())
        state.last_edit, state.dirty = time.monotonic(), False


def reply_files(settings: Settings, events: list[OutEvent]) -> tuple[list[discord.File], list[str]]:
    """What a command's answer attaches (the /report chart), and a line for each file too
    big to (said with its link when there is one)."""
    files, lines = [], []
    for event in (e for e in events if e.kind == "artifact"):
        delivery = deliver_artifact(settings, event)
        if delivery.attach is not None:
            files.append(discord.File(delivery.attach))
        else:
            lines.append(delivery.text)
    return files, lines
