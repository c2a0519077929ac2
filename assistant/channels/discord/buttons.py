"""Approval buttons that survive a restart, and the Revise notes form.

A button's ``custom_id`` carries everything needed to act on it — the action, the job, the
review stage it was made for — and an itsdangerous HMAC-SHA256 signature
(:func:`assistant.infra.signing.signer`), so a bot that restarted still knows what an old
message's button means, and a client cannot make up a button for someone else's job or
another stage. Discord allows 100 characters; ``approve`` at ``review_script`` takes 81::

    ai:approve:job-1a2b3c4d:review_script:<43 characters of signature>

:class:`ReviewButton` is a :class:`discord.ui.DynamicItem`: discord.py routes every pressed
component whose id starts with ``ai:`` to it, whichever process sent the message. Ids that
fail the check still reach it, so the presser is told the button is not valid instead of
seeing "This interaction failed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import discord

from assistant.config import Settings
from assistant.infra.signing import signer

PREFIX = "ai:"
ACTIONS = ("approve", "revise", "reject", "notes")  # notes: the Revise form's submission
MAX_ID = 100  # Discord's limit on a custom_id
SALT = "discord-button"
_ID = re.compile(r"ai:(?P<action>[a-z]{1,10}):(?P<job>job-[0-9a-f]{8}):(?P<stage>[a-z_]{1,29})"
                 r":(?P<tag>[A-Za-z0-9_-]{43})")
LABELS = {"approve": ("Approve", discord.ButtonStyle.success),
          "revise": ("Revise…", discord.ButtonStyle.primary),
          "reject": ("Reject", discord.ButtonStyle.danger)}


@runtime_checkable
class PressHandler(Protocol):
    """What a pressed button needs from the client it arrived at (the bot)."""

    async def on_press(self, interaction: discord.Interaction[Any], custom_id: str) -> None: ...


@dataclass(frozen=True)
class Press:
    """What a verified custom_id asks for."""

    action: str
    job_id: str
    stage: str


def make_id(settings: Settings, action: str, job_id: str, stage: str) -> str:
    body = f"{PREFIX}{action}:{job_id}:{stage}"
    custom_id = signer(settings, SALT, sep=":").sign(body).decode("ascii")
    if not _ID.fullmatch(custom_id) or action not in ACTIONS or len(custom_id) > MAX_ID:
        raise ValueError(f"cannot make a button for {action!r} {job_id!r} {stage!r}")
    return custom_id


def read_id(settings: Settings, custom_id: str) -> Press | None:
    """The press a custom_id stands for; None unless this app signed it."""
    found = _ID.fullmatch(custom_id)
    if found is None or found["action"] not in ACTIONS:
        return None
    if not signer(settings, SALT, sep=":").validate(custom_id):
        return None
    return Press(found["action"], found["job"], found["stage"])


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ai:.{1,97}"):
    """Approve / Revise… / Reject on an approval request; its id is the whole state."""

    def __init__(self, custom_id: str, action: str = "") -> None:
        label, style = LABELS.get(action, ("?", discord.ButtonStyle.secondary))
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.custom_id_value = custom_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> ReviewButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = interaction.client
        if not isinstance(bot, PressHandler):
            raise TypeError(f"{type(bot).__name__} cannot handle review buttons")
        await bot.on_press(interaction, self.custom_id_value)


def review_view(settings: Settings, job_id: str, stage: str,
                actions: tuple[str, ...]) -> discord.ui.View:
    """The buttons for one pending review (persistent: no timeout)."""
    view = discord.ui.View(timeout=None)
    for action in actions:
        if action in LABELS:
            view.add_item(ReviewButton(make_id(settings, action, job_id, stage), action))
    return view


class NotesModal(discord.ui.Modal):
    """The Revise form: what should change. Its custom_id is signed like a button's.

    The form only asks; its submission is handled by the bot's ``on_interaction`` from the
    custom_id and the submitted fields (:func:`modal_notes`), not by this object, so a form
    opened before a restart, or by two reviewers at once, is still answered."""

    notes: discord.ui.TextInput[NotesModal] = discord.ui.TextInput(
        label="What should change?", style=discord.TextStyle.paragraph, custom_id="notes",
        placeholder="e.g. make the hook punchier and cite the second source",
        min_length=1, max_length=2000)

    def __init__(self, settings: Settings, press: Press) -> None:
        super().__init__(title=f"Revise {press.job_id}"[:45], timeout=3600,
                         custom_id=make_id(settings, "notes", press.job_id, press.stage))


def modal_notes(components: list[dict[str, Any]]) -> str:
    """The ``notes`` field's value in a modal submission payload (a form from before a
    restart, which no live :class:`NotesModal` is waiting for)."""
    for component in components:
        inner = component.get("components") or (
            [component["component"]] if "component" in component else [])
        if component.get("custom_id") == "notes":
            return str(component.get("value") or "")
        if inner and (found := modal_notes(inner)):
            return found
    return ""
