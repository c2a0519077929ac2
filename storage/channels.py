"""What the chat bots keep between restarts (tables discord_routes, telegram_chats).

- a Discord route: the channel a job talks in (where it was started or last decided), its
  guild (None in DMs) and the progress message edited in place; it goes with its job;
- a Telegram chat: the chat a user last wrote from.

Both were JSON files in the data dir before; :meth:`ChannelStore.import_discord_routes` and
:meth:`ChannelStore.import_telegram_chats` take such a file's entries in once (rows already
in the table win: they are newer).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from storage._base import RepositoryBase
from storage.models import DiscordRoute, Job, TelegramChat

log = logging.getLogger(__name__)
T = TypeVar("T")


def import_json_once(path: Path, parse: Callable[[Any], Mapping[Any, T]],
                     store: Callable[[Mapping[Any, T]], int], what: str) -> int | None:
    """An old JSON file's entries into the database, once, then the file renamed
    ``*.imported``; returns how many rows were added (None when there is no such file).

    ``parse`` turns the file's JSON into entries; a damaged file (bad JSON, or ``parse``
    raising ValueError/TypeError/KeyError) imports nothing, with a warning, and is renamed too
    so it is not read at every start. Two processes starting at once may both import: the
    loser's IntegrityError is answered by importing again, which adds only what is missing.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        entries = parse(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        log.warning("ignoring damaged %s: %s", path, err)
        entries = {}
    try:
        added = store(entries) if entries else 0
    except exc.IntegrityError:  # another process imported the same file just now
        added = store(entries)
    with contextlib.suppress(FileNotFoundError):
        path.replace(path.with_name(path.name + ".imported"))
    log.info("imported %d %s from %s", added, what, path)
    return added


@dataclass(frozen=True)
class RouteRecord:
    channel_id: int
    guild_id: int | None = None
    progress_message_id: int | None = None


class ChannelStore(RepositoryBase):
    # --- discord ---------------------------------------------------------------------------

    def discord_route(self, job_id: str) -> RouteRecord | None:
        with self._db.session() as s:
            row = s.get(DiscordRoute, job_id)
            return None if row is None else _route(row)

    def set_discord_route(self, job_id: str, channel_id: int,
                          guild_id: int | None) -> RouteRecord:
        """The job talks in ``channel_id`` from now on (a new channel forgets the progress
        message of the old one); returns the route now stored."""
        stored: list[RouteRecord] = []

        def write(s: Session) -> None:
            row = s.get(DiscordRoute, job_id, with_for_update=True)
            if row is None:
                row = DiscordRoute(job_id=job_id, channel_id=channel_id, guild_id=guild_id)
                s.add(row)
            elif row.channel_id != channel_id:
                row.channel_id, row.guild_id, row.progress_message_id = (
                    channel_id, guild_id, None)
            stored[:] = [_route(row)]

        self._upsert(write)
        return stored[0]

    def set_discord_progress(self, job_id: str, message_id: int | None) -> None:
        """The job's progress message; nothing when the job has no route."""
        with self._db.session() as s:
            row = s.get(DiscordRoute, job_id, with_for_update=True)
            if row is not None and row.progress_message_id != message_id:
                row.progress_message_id = message_id

    def import_discord_routes(self, routes: Mapping[str, RouteRecord]) -> int:
        """Routes from the old JSON file, for jobs that still exist and have no row yet;
        returns how many were added."""
        if not routes:
            return 0
        with self._db.session() as s:
            wanted = list(routes)
            jobs = set(s.scalars(select(Job.id).where(Job.id.in_(wanted))))
            known = set(s.scalars(select(DiscordRoute.job_id)
                                  .where(DiscordRoute.job_id.in_(wanted))))
            added = [DiscordRoute(job_id=job_id, channel_id=r.channel_id, guild_id=r.guild_id,
                                  progress_message_id=r.progress_message_id)
                     for job_id, r in routes.items() if job_id in jobs - known]
            s.add_all(added)
            return len(added)

    # --- telegram --------------------------------------------------------------------------

    def telegram_chat(self, user_id: int) -> int | None:
        with self._db.session() as s:
            row = s.get(TelegramChat, user_id)
            return None if row is None else row.chat_id

    def set_telegram_chat(self, user_id: int, chat_id: int) -> None:
        def write(s: Session) -> None:
            row = s.get(TelegramChat, user_id, with_for_update=True)
            if row is None:
                s.add(TelegramChat(user_id=user_id, chat_id=chat_id))
            elif row.chat_id != chat_id:
                row.chat_id = chat_id

        self._upsert(write)

    def import_telegram_chats(self, chats: Mapping[int, int]) -> int:
        """Chats from the old JSON file for users with no row yet; returns how many."""
        if not chats:
            return 0
        with self._db.session() as s:
            known = set(s.scalars(select(TelegramChat.user_id)
                                  .where(TelegramChat.user_id.in_(list(chats)))))
            added = [TelegramChat(user_id=u, chat_id=c) for u, c in chats.items()
                     if u not in known]
            s.add_all(added)
            return len(added)

    def _upsert(self, write: Callable[[Session], None]) -> None:
        """``write`` in a session; when another writer inserted the same key first, once
        more (it then finds the row and updates it). Any other IntegrityError (no such
        job) is raised by the second try."""
        try:
            with self._db.session() as s:
                write(s)
        except exc.IntegrityError:
            with self._db.session() as s:
                write(s)


def _route(row: DiscordRoute) -> RouteRecord:
    return RouteRecord(row.channel_id, row.guild_id, row.progress_message_id)
