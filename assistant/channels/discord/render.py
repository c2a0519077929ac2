"""How conversation events look in Discord: message text, the progress board, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.app.events import OutEvent
from assistant.config import Settings
from assistant.infra.media_links import public_media_url

MESSAGE_LIMIT = 2000  # characters in one Discord message
STAGE_NAMES = {"review_script": "script review", "review_final": "final review"}
DONE_WORDS = {"approve": "✅ Approved", "revise": "✏️ Revision requested",
              "reject": "⛔ Rejected"}


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def approval_text(event: OutEvent) -> tuple[str, str | None]:
    """The approval message and, when the preview does not fit, the whole preview to attach."""
    stage = STAGE_NAMES.get(event.stage, event.stage)
    head = f"**{event.text or 'Ready for review'}** — {event.job_id} waits for your {stage}."
    preview = event.preview.strip()
    room = MESSAGE_LIMIT - len(head) - 40
    if len(preview) <= room:
        return (f"{head}\n\n{preview}" if preview else head), None
    cut = preview[:room].rsplit("\n", 1)[0]
    return f"{head}\n\n{cut}\n…\n*(the whole draft is attached)*", preview


def decided_text(original: str, action: str, who: str) -> str:
    note = f"\n\n{DONE_WORDS.get(action, action)} by {who}."
    return clip(original, MESSAGE_LIMIT - len(note)) + note


def event_text(event: OutEvent) -> str:
    if event.kind == "error":
        return clip(f"⚠️ {event.text}")
    return clip(event.text)


@dataclass
class ProgressBoard:
    """One job's progress message: a line per step, the running one with its last words."""

    job_id: str
    steps: dict[str, str] = field(default_factory=dict)

    def update(self, event: OutEvent) -> None:
        if event.percent == 100.0 and event.text == "done":
            self.steps[event.step] = f"✓ {event.step}"
            return
        percent = f" {event.percent:.0f}%" if event.percent is not None else ""
        words = f" — {event.text}" if event.text else ""
        self.steps[event.step] = clip(f"… {event.step}{percent}{words}", 200)

    def render(self) -> str:
        return clip("\n".join([f"⏳ **{self.job_id}**", *self.steps.values()]))


@dataclass(frozen=True)
class Delivery:
    """How to hand over a result: attach the file, or say where it is."""

    attach: Path | None
    text: str


def deliver_artifact(settings: Settings, event: OutEvent, *, attach: bool = True) -> Delivery:
    """Attach the file when it is under ``discord_upload_limit_mb`` (and ``attach``); else a
    signed link under ``public_base_url`` (:mod:`assistant.infra.media_links`), else
    its name only (a server path never reaches a reader)."""
    path = Path(event.path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError:  # where it was is the server's business, not the reader's
        return Delivery(None, f"{event.job_id}: {name} is no longer there")
    limit = int(settings.discord_upload_limit_mb * 1024 * 1024)
    if attach and size <= limit:
        return Delivery(path, f"{event.job_id}: {name}" if event.job_id else name)
    megabytes = f"{size / 1024 / 1024:.1f} MB"
    url = public_media_url(settings, event.job_id or "", path)
    if url is not None:  # signed, expiring, served only while the job exists
        return Delivery(None, f"{event.job_id}: {name} ({megabytes}, too big to attach): {url}")
    return Delivery(None, f"{event.job_id}: {name} ({megabytes}) is too big to attach: "
                          f"`assistant show {event.job_id}` on the server lists it")
