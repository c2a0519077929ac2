"""Files sent to the Discord bot, into the knowledge base: checked, fetched, handed over.

``/kb FILE`` or attachments sent in DMs are checked (size, a kind the loaders read) before
anything is fetched, saved from Discord's CDN into a temporary folder and handed to the
conversation like the other channels' uploads.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import discord

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser, OutEvent, refuse
from assistant.channels.discord.render import clip, event_text
from assistant.errors import InputError
from assistant.tools.knowledge.loaders import kind_of

log = logging.getLogger(__name__)

OOPS = "something went wrong on our side (it is logged): try again"
# The biggest attachment fetched: discord.py reads a download whole into memory, and a
# bigger file is better added on the server itself.
DOWNLOAD_LIMIT_MB = 25


async def add_attachments(conv: Conversation, user: ChannelUser,
                          attachments: list[discord.Attachment]) -> list[OutEvent]:
    """Fetch the attachments and add them to the knowledge base; one that is too big,
    of a kind the loaders refuse or that cannot be fetched becomes an error line (and
    is not fetched when that can be told beforehand), the rest still go in."""
    refused: list[OutEvent] = []
    with tempfile.TemporaryDirectory(prefix="discord-file-") as tmp:
        paths: list[Path] = []
        for i, attachment in enumerate(attachments):
            why = unfit_attachment(attachment)
            if why is None:
                folder = Path(tmp) / str(i)  # two attachments may share a name
                try:
                    paths.append(await _fetch(attachment, folder))
                    continue
                except discord.HTTPException as exc:
                    log.warning("could not fetch attachment %s: %s", attachment.id, exc)
                    why = (f"I could not fetch {attachment.filename} from Discord "
                           f"({exc.status}): send it again")
                except OSError:  # no room for it here, ...: ours to look into
                    log.exception("could not save attachment %s", attachment.id)
                    why = f"{attachment.filename}: {OOPS}"
            refused.append(refuse(None, why))
        added = await asyncio.to_thread(conv.add_files, user, paths) if paths else []
    return [*refused, *added]


def unfit_attachment(attachment: discord.Attachment) -> str | None:
    """Why an attachment is not fetched at all: too big, or a kind the loaders refuse."""
    if attachment.size > DOWNLOAD_LIMIT_MB * 1000 * 1000:
        return (f"{attachment.filename} is over {DOWNLOAD_LIMIT_MB} MB, the most this bot "
                "fetches: add it with `assistant kb add`")
    try:
        kind_of(attachment.filename)
    except InputError as exc:
        return exc.user_message
    return None


async def _fetch(attachment: discord.Attachment, folder: Path) -> Path:
    """The attachment, saved in ``folder`` under its own file name (never a path: the name
    is the uploader's to choose)."""
    name = Path(attachment.filename).name
    if name in ("", ".", ".."):
        name = f"{attachment.id}.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    await attachment.save(path)
    return path


def lines(events: list[OutEvent]) -> str:
    return clip("\n".join(event_text(e) for e in events) or "no files given")
