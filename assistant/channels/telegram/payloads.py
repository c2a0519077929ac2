"""What the bot's buttons and prompts carry, and how it checks them when they come back.

An inline button's ``callback_data`` (at most 64 bytes) is ``action|job|stage|tag``: the tag
is an itsdangerous signature of the rest with the app secret, cut to 96 bits to fit
(:func:`assistant.infra.signing.signer` with ``compact``; ``a|job-1a2b3c4d|review_script|``
plus 16 characters is 45 bytes), so a client cannot forge a press for another job, action or
review stage. The stage goes to
``Conversation.decide`` so a button left over from an earlier review decides nothing later.

A revise prompt is a ForceReply message naming the job and stage; the user's reply to it is
the notes. The prompt is parsed back from the bot's own message, so nothing is held in memory
and a prompt still works after a restart (who may revise is the conversation's check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.app.events import REVIEW_ACTIONS
from assistant.config import Settings
from assistant.infra.signing import signer

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
SALT = "telegram-button"
_CODES = {"approve": "a", "revise": "v", "reject": "r"}
_ACTIONS = {code: action for action, code in _CODES.items()}
_JOB = re.compile(r"^job-[0-9a-f]{8}$")
_STAGE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PROMPT = re.compile(r"^✏️ Revise (job-[0-9a-f]{8}) \(([a-z][a-z0-9_]{0,31})\)")


@dataclass(frozen=True)
class Press:
    """A verified button press: what to do to which job at which review stage."""

    action: str
    job_id: str
    stage: str


def _message(action_code: str, job_id: str, stage: str) -> str:
    return f"{action_code}|{job_id}|{stage}"


def button_data(settings: Settings, action: str, job_id: str, stage: str) -> str:
    """The signed callback_data of one review button."""
    code = _CODES[action]
    if not _JOB.match(job_id) or not _STAGE.match(stage):
        raise ValueError(f"cannot make a button for {job_id!r} at {stage!r}")
    data = signer(settings, SALT, sep="|", compact=True).sign(
        _message(code, job_id, stage)).decode("ascii")
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:  # only a very long stage name
        raise ValueError(f"callback data for {job_id} at {stage} is over 64 bytes")
    return data


def read_button(settings: Settings, data: str | None) -> Press | None:
    """The press a callback_data stands for; None if it is malformed or its tag is wrong."""
    parts = (data or "").split("|")
    if len(parts) != 4:
        return None
    code, job_id, stage, tag = parts
    if code not in _ACTIONS or not _JOB.match(job_id) or not _STAGE.match(stage):
        return None
    if not tag or not signer(settings, SALT, sep="|", compact=True).validate(data or ""):
        return None
    return Press(_ACTIONS[code], job_id, stage)


def revise_prompt(job_id: str, stage: str) -> str:
    return (f"✏️ Revise {job_id} ({stage}): reply to this message with what should change.")


def read_revise_prompt(text: str | None) -> tuple[str, str] | None:
    """(job, stage) named by one of our revise prompts; None for any other text."""
    found = _PROMPT.match(text or "")
    return (found.group(1), found.group(2)) if found else None


__all__ = ["REVIEW_ACTIONS", "Press", "button_data", "read_button", "read_revise_prompt",
           "revise_prompt"]
