"""Chat channels (web, Discord, Telegram) and their contract with the conversation service.

A channel never touches the graph: it hands messages, commands and button presses to
:class:`assistant.app.conversation.Conversation` as a :class:`ChannelUser`, and renders the
:class:`OutEvent` s it gets back (or later, through a subscription) in its own idiom:
buttons for an approval request, an edited message for progress, an upload for an artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from storage.objects import guess_mime

if TYPE_CHECKING:
    from assistant.app.runner import Event

EventKind = Literal["text", "progress", "approval_request", "artifact", "error"]
REVIEW_ACTIONS = ("approve", "revise", "reject")
MEDIA_KINDS = ("video", "audio", "image")


@dataclass(frozen=True)
class ChannelUser:
    """Someone in a channel: ``ChannelUser("telegram", "42")``. The display name is for show
    only; two values with the same channel and id are the same identity."""

    channel: str
    external_id: str
    display_name: str = field(default="", compare=False)


@dataclass(frozen=True)
class OutEvent:
    """Something to show. ``job_id`` names the job (None only for replies about no job).

    kinds and their fields:
    - text / error: ``text`` (an error is one line a person can act on)
    - progress: ``step``, ``percent`` (within the step, 0-100 or None), ``text``
    - approval_request: ``stage``, ``text`` (title), ``preview`` (markdown), ``actions``
      (approve / revise / reject) and ``config``, the LangGraph Agent Inbox flags
      (allow_accept, allow_edit, allow_respond, allow_ignore); ``data`` is the whole request
    - artifact: ``artifact_kind`` (video | audio | image | file), ``path``, ``mime``
    """

    kind: EventKind
    job_id: str | None
    text: str = ""
    step: str = ""
    percent: float | None = None
    stage: str = ""
    preview: str = ""
    actions: tuple[str, ...] = ()
    config: dict[str, bool] = field(default_factory=dict)
    artifact_kind: str = ""
    path: str = ""
    mime: str = ""
    data: dict[str, Any] = field(default_factory=dict)


# Called on a job's thread with the identity to show the event to.
Callback = Callable[[ChannelUser, OutEvent], None]


def say(job_id: str | None, text: str) -> OutEvent:
    return OutEvent("text", job_id, text)


def refuse(job_id: str | None, text: str) -> OutEvent:
    return OutEvent("error", job_id, text)


def progress(job_id: str, step: str, percent: float | None, text: str,
             data: dict[str, Any] | None = None) -> OutEvent:
    return OutEvent("progress", job_id, text, step=step, percent=percent, data=data or {})


def approval_request(job_id: str, review: dict[str, Any]) -> OutEvent:
    """The event for a pending review, from the graph's Agent Inbox request."""
    request = review["action_request"]
    return OutEvent(
        "approval_request", job_id, review.get("description", ""), stage=request["action"],
        preview=request["args"].get("markdown", ""), actions=REVIEW_ACTIONS,
        config=dict(review.get("config", {})), data=review)


def artifact(job_id: str | None, path: Path | str, mime: str | None = None) -> OutEvent:
    mime = mime or guess_mime(str(path))
    kind = mime.split("/", 1)[0]
    return OutEvent("artifact", job_id, Path(path).name,
                    artifact_kind=kind if kind in MEDIA_KINDS else "file",
                    path=str(path), mime=mime)


def from_runner(event: Event, media: list[OutEvent] | None = None) -> list[OutEvent]:
    """What to show for a runner event; ``media`` goes before a final approval request."""
    job_id = event.job_id
    if event.kind == "progress":
        return [progress(job_id, event.step, event.percent, event.message, event.data)]
    if event.kind == "step":
        return [progress(job_id, event.step, 100.0, "done")]
    if event.kind == "error":
        return [refuse(job_id, f"{job_id} stopped: {event.message}")]
    if event.kind == "review":
        return [*(media or []), approval_request(job_id, event.data)]
    if event.kind == "done":
        location = event.data.get("location")
        if event.message == "published" and location:
            return [artifact(job_id, location), say(job_id, f"{job_id} is published.")]
        return [say(job_id, f"{job_id} ended: {event.message}; nothing was published.")]
    return []
