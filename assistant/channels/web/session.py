"""One browser chat session: renders conversation events as Chainlit messages, steps,
buttons and media, and turns messages, uploads and button presses into conversation calls.

Events for the signed-in user (from jobs started here, in another tab, or in a linked chat
app) arrive on job threads; they are queued onto the server's event loop and rendered in
order by one task per session, so a step is never updated before it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.context import init_ws_context
from chainlit.session import WebsocketSession
from chainlit.utils import utc_now

from assistant.app import commands as cmd
from assistant.app.conversation import ACTIVE
from assistant.app.events import MEDIA_KINDS, ChannelUser, OutEvent, artifact
from assistant.channels.web.context import WebApp
from assistant.infra import signing
from assistant.infra.media_links import media_link

SECRET_MASK = "(a secret, not kept)"  # what stays of a message the conversation forgets
log = logging.getLogger(__name__)

STAGE_TITLES = {"review_script": "Review the script", "review_final": "Review the final cut"}
ACTION_LOOKS = {  # label, lucide icon, tooltip
    "approve": ("Approve", "check", "Go on to the next step"),
    "revise": ("Revise", "pencil", "Reply with what should change"),
    "reject": ("Reject", "x", "Stop this job; nothing is published"),
}
DECIDED = {"approve": "Approved", "revise": "Sent back with notes", "reject": "Rejected"}
BAR = 10
ACTION_SALT = "web-action"
_HEADING = re.compile(r"^(#{1,6})(?=\s)")


def pretty_step(step: str) -> str:
    return step.replace("_", " ").strip().capitalize() or "Working"


def demote_headings(markdown: str, by: int = 2) -> str:
    """A preview's headings two levels down, so a script's title does not dwarf the chat."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            line = "#" * min(6, len(match.group(1)) + by) + line[len(match.group(1)):]
        out.append(line)
    return "\n".join(out)


def bar(percent: float | None) -> str:
    if percent is None:
        return ""
    filled = max(0, min(BAR, round(percent / 100 * BAR)))
    return f"{'█' * filled}{'░' * (BAR - filled)} {percent:.0f}%"


def media_url(app: WebApp, job_id: str, path: str, viewer: str = "") -> str:
    """A signed URL for one of a job's files, for ``viewer`` (see
    :mod:`assistant.infra.media_links` and ``web.app.serve_media``)."""
    return media_link(app.settings, job_id, path, viewer)


def _payload_message(username: str, job_id: str, stage: str, action: str) -> str:
    return f"{username}|{job_id}|{stage}|{action}"


@dataclass
class _Approval:
    message: cl.Message
    actions: list[cl.Action]


@dataclass
class ChatSession:
    """What one Chainlit session shows, and the state between its messages."""

    app: WebApp
    session: WebsocketSession
    user: ChannelUser
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[OutEvent | None] = field(default_factory=asyncio.Queue)
    steps: dict[tuple[str, str], cl.Step] = field(default_factory=dict)
    media: dict[str, list[cl.Element]] = field(default_factory=dict)
    approvals: dict[str, _Approval] = field(default_factory=dict)
    revising: tuple[str, str] | None = None
    named: bool = False
    _unsubscribe: Callable[[], None] | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def username(self) -> str:
        return self.user.external_id

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to the user's events and start the task that renders them."""
        self._task = self.loop.create_task(self._consume())
        self._unsubscribe = self.app.conv.subscribe(self.user, self._on_event)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with contextlib.suppress(RuntimeError):  # a closed loop: the server is stopping
            self.loop.call_soon_threadsafe(self.queue.put_nowait, None)

    def _on_event(self, user: ChannelUser, event: OutEvent) -> None:
        """On a job's thread: hand the event to the session's loop."""
        if WebsocketSession.get_by_id(self.session.id) is None:
            self.stop()  # the browser session ended for good
            return
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)
        except RuntimeError:
            self.stop()

    async def _consume(self) -> None:
        init_ws_context(self.session)
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            for index, event in enumerate(batch):
                if event is None:
                    return
                if _superseded(event, batch[index + 1:]):
                    continue
                try:
                    await self.render(event)
                except Exception:
                    log.exception("could not show %s event of %s", event.kind, event.job_id)

    # --- greeting -----------------------------------------------------------------------------

    async def greet(self, resumed: bool = False) -> None:
        """Say hello, list the user's active jobs and show pending approvals again."""
        jobs, pending = await asyncio.to_thread(self._active_and_pending)
        if not resumed:
            await cl.Message(content=(
                f"Hi **{self.username}**. Ask me for a short, video, podcast or blog, e.g. "
                "*“a short about how tides work”*. I research it in your knowledge base, "
                "show each step, and ask you to approve the script and the final cut. "
                "Attach files with the paperclip to add them to the knowledge base; `/help` "
                "lists the commands.")).send()
        if jobs:
            lines = [f"- `{j.id}` · {cmd.STATUS_WORDS.get(j.status, j.status)} · "
                     f"{j.content_type} · {j.title[:60]}" for j in jobs]
            await cl.Message(content="**Your jobs in progress**\n\n" + "\n".join(lines)).send()
        for event in pending:
            if event.stage == "review_final":
                for media in await asyncio.to_thread(self._final_media, event.job_id or ""):
                    await self.render(media)
            await self.render(event)

    def _active_and_pending(self) -> tuple[list[Any], list[OutEvent]]:
        conv = self.app.conv
        jobs = conv.jobs_of(conv.username(self.user), ACTIVE)
        return jobs, conv.pending_approvals(self.user)

    def _final_media(self, job_id: str) -> list[OutEvent]:
        objects = self.app.svc.objects.list(job_id, latest_only=True)
        return [artifact(job_id, a.path, a.mime) for a in objects
                if a.mime.split("/", 1)[0] in MEDIA_KINDS]

    # --- what the user does -------------------------------------------------------------------

    async def _name_thread(self, name: str) -> None:
        from chainlit.data import get_data_layer

        layer = get_data_layer()
        if layer is not None and self.session.thread_id:
            await layer.update_thread(self.session.thread_id, name=name)

    async def on_message(self, message: cl.Message) -> None:
        self.named = True  # Chainlit names the chat after its first message
        files = [e for e in message.elements or [] if getattr(e, "path", None)]
        if files:
            await self.show(await asyncio.to_thread(self._add_files, files))
        text = (message.content or "").strip()
        if not text:
            return
        if self.revising is not None and not text.startswith("/"):
            job_id, stage = self.revising
            self.revising = None
            events = await asyncio.to_thread(self.app.conv.decide, self.user, job_id,
                                             "revise", text, stage)
            await self._after_decision(job_id, "revise", events)
            return
        self.revising = None
        events = await asyncio.to_thread(self.app.conv.handle, self.user, text)
        await self.show(events)
        if any(e.data.get("forget_message") for e in events):
            # a secret (an application password): masked in the page and in the kept history
            # (removing the message would take our reply, its run step's child, with it)
            message.content = SECRET_MASK
            await message.update()
            run = cl.context.current_run  # Chainlit's on_message step keeps the text as input
            if run is not None:
                run.input = SECRET_MASK

    def _add_files(self, files: list[cl.Element]) -> list[OutEvent]:
        """Copy uploads out of Chainlit's session folder under their own names, then add."""
        folder = self.app.settings.resolved_data_dir / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for element in files:
            name = Path(element.name or "upload").name or "upload"
            target = folder / name
            shutil.copyfile(str(element.path), target)
            paths.append(target)
        return self.app.conv.add_files(self.user, paths)

    async def on_action(self, action: cl.Action) -> None:
        job_id = str(action.payload.get("job", ""))
        if not self.named:  # a chat whose first act is a button: name it after the job
            self.named = True
            await self._name_thread(f"Review of {job_id}")
        stage = str(action.payload.get("stage", ""))
        tag = str(action.payload.get("tag", ""))
        message = _payload_message(self.username, job_id, stage, action.name)
        if not signing.signer(self.app.settings, ACTION_SALT).verify_signature(message, tag):
            await cl.ErrorMessage(content="that button is not valid for you: use /status "
                                          "to see what waits for your review").send()
            return
        if action.name == "revise":
            self.revising = (job_id, stage)
            await cl.Message(content=f"What should change in {job_id}? Reply with your "
                                     "notes and I will send them to the writer.").send()
            return
        events = await asyncio.to_thread(self.app.conv.decide, self.user, job_id,
                                         action.name, "", stage)
        await self._after_decision(job_id, action.name, events)

    async def _after_decision(self, job_id: str, action: str, events: list[OutEvent]) -> None:
        if not any(e.kind == "error" for e in events):
            await self._close_approval(job_id, DECIDED.get(action, action))
        await self.show(events)

    async def _close_approval(self, job_id: str, verdict: str) -> None:
        approval = self.approvals.pop(job_id, None)
        if approval is None:
            return
        for action in approval.actions:
            await action.remove()
        approval.message.actions = []
        approval.message.content += f"\n\n---\n**{verdict}** by {self.username}."
        await approval.message.update()

    # --- rendering ----------------------------------------------------------------------------

    async def show(self, events: list[OutEvent]) -> None:
        for event in events:
            await self.render(event)

    async def render(self, event: OutEvent) -> None:
        if event.kind == "progress":
            await self._progress(event)
        elif event.kind == "artifact":
            self._media(event)
        elif event.kind == "approval_request":
            await self._approval(event)
        elif event.kind == "error":
            await cl.ErrorMessage(content=event.text).send()
        else:
            if event.job_id and "published" in event.text:
                await self._close_steps(event.job_id)
            await cl.Message(content=event.text,
                             elements=self._take_media(event.job_id or "")).send()

    async def _progress(self, event: OutEvent) -> None:
        job_id, name = event.job_id or "", event.step or "working"
        key = (job_id, name)
        step = self.steps.get(key)
        done = event.percent == 100.0 and event.text == "done"
        if step is not None and step.end:
            if done:
                return  # told twice
            step = None  # the step runs again (a revision): a new entry
        if step is None:
            step = cl.Step(name=pretty_step(name), type="tool", show_input=False,
                           default_open=True, auto_collapse=True)
            step.start = utc_now()
            self.steps[key] = step
            if done:
                step.output = "✓ done"
                step.end = utc_now()
            else:
                step.output = f"{bar(event.percent)}  {event.text}".strip()
            await step.send()
            return
        if done:
            step.output = f"{step.output}\n✓ done" if step.output else "✓ done"
            step.end = utc_now()
        else:
            step.output = f"{bar(event.percent)}  {event.text}".strip()
        await step.update()

    async def _close_steps(self, job_id: str) -> None:
        for (job, _), step in list(self.steps.items()):
            if job == job_id and not step.end:
                step.end = utc_now()
                await step.update()

    def _media(self, event: OutEvent) -> None:
        path = Path(event.path)
        element: cl.Element
        if not path.is_file():
            return
        url = media_url(self.app, event.job_id or "", str(path.resolve()),
                        self.app.conv.username(self.user))
        name = path.name
        if not event.job_id and event.artifact_kind == "image":
            # a command's image (the /report chart) belongs to no job, so no job's signed link
            # may serve it: its bytes go with the message
            element = cl.Image(name=name, content=path.read_bytes(), display="inline",
                               size="large", mime=event.mime)
        elif event.artifact_kind == "video":
            element = cl.Video(name=name, url=url, display="inline", mime=event.mime)
        elif event.artifact_kind == "audio":
            element = cl.Audio(name=name, url=url, display="inline", mime=event.mime)
        elif event.artifact_kind == "image":
            element = cl.Image(name=name, url=url, display="inline", size="large",
                               mime=event.mime)
        else:
            element = cl.File(name=name, url=url, display="inline", mime=event.mime)
        self.media.setdefault(event.job_id or "", []).append(element)

    def _take_media(self, job_id: str) -> list[cl.Element]:
        """The job's media waiting for a message: the finished piece (its video, else its
        audio) and its thumbnail, not every intermediate scene still and voice track."""
        media = self.media.pop(job_id, [])
        main: list[cl.Element] = [e for e in media if isinstance(e, cl.Video)]
        main = main or [e for e in media if isinstance(e, cl.Audio)]
        if not main:
            return media
        thumbs = [e for e in media if isinstance(e, cl.Image) and "thumbnail" in e.name]
        return [*main, *thumbs]

    async def _approval(self, event: OutEvent) -> None:
        job_id = event.job_id or ""
        await self._close_steps(job_id)
        old = self.approvals.pop(job_id, None)
        if old is not None:  # an earlier review of this job, decided elsewhere
            for action in old.actions:
                await action.remove()
        title = STAGE_TITLES.get(event.stage, event.stage.replace("_", " ").capitalize())
        parts = [f"## {title} · `{job_id}`"]
        if event.text:
            parts.append(event.text)
        if event.preview:
            parts.append(demote_headings(event.preview))
        actions = [self._button(job_id, event.stage, name) for name in event.actions]
        message = cl.Message(content="\n\n".join(parts), actions=actions,
                             elements=self._take_media(job_id))
        await message.send()
        self.approvals[job_id] = _Approval(message, actions)

    def _button(self, job_id: str, stage: str, name: str) -> cl.Action:
        label, icon, tooltip = ACTION_LOOKS.get(name, (name.capitalize(), "", ""))
        tag = signing.signer(self.app.settings, ACTION_SALT).get_signature(
            _payload_message(self.username, job_id, stage, name)).decode("ascii")
        return cl.Action(name=name, label=label, icon=icon or None, tooltip=tooltip,
                         payload={"job": job_id, "stage": stage, "tag": tag})


def _superseded(event: OutEvent, later: list[OutEvent | None]) -> bool:
    """A progress update the next queued event replaces (same job and step, not done)."""
    if event.kind != "progress" or event.text == "done" or not later:
        return False
    following = later[0]
    return (following is not None and following.kind == "progress"
            and following.job_id == event.job_id and following.step == event.step)
