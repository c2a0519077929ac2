"""Where each job's messages go, kept in the database so a restarted bot still knows.

For each job: the channel it was started (or last decided) in, its guild (None in DMs) and
the progress message being edited in place (table ``discord_routes``, see
:class:`storage.channels.ChannelStore`). Routes this process set or read are remembered, so
delivering a job's events does not ask the database each time.

Older versions kept ``<data_dir>/discord_routes.json``; it is imported once at start and
renamed ``discord_routes.json.imported``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from storage.channels import ChannelStore, import_json_once
from storage.channels import RouteRecord as Route
from storage.db import Database

log = logging.getLogger(__name__)

__all__ = ["Route", "Routes", "parse_legacy_routes"]


class Routes:
    def __init__(self, db: Database, legacy: Path | None = None) -> None:
        self._store = ChannelStore(db)
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        if legacy is not None:
            self._import(legacy)

    def get(self, job_id: str) -> Route | None:
        with self._lock:
            route = self._routes.get(job_id)
        if route is None:
            route = self._store.discord_route(job_id)
            if route is not None:
                with self._lock:
                    self._routes.setdefault(job_id, route)
        return route

    def set(self, job_id: str, channel_id: int, guild_id: int | None) -> None:
        """Send the job's messages to this channel from now on."""
        with self._lock:
            old = self._routes.get(job_id)
            if old is not None and old.channel_id == channel_id:
                return
            self._routes[job_id] = self._store.set_discord_route(job_id, channel_id, guild_id)

    def set_progress(self, job_id: str, message_id: int | None) -> None:
        with self._lock:
            old = self._routes.get(job_id) or self._store.discord_route(job_id)
            if old is None or old.progress_message_id == message_id:
                return
            self._store.set_discord_progress(job_id, message_id)
            self._routes[job_id] = Route(old.channel_id, old.guild_id, message_id)

    def _import(self, path: Path) -> None:
        """The old JSON file's routes into the database, once; then the file is renamed."""
        import_json_once(path, parse_legacy_routes, self._store.import_discord_routes,
                         "discord routes")


def parse_legacy_routes(raw: Any) -> dict[str, Route]:
    """The routes in an old ``discord_routes.json`` (an entry that is not a route is skipped;
    its job's messages then go to the users' DMs, as before)."""
    routes = {}
    for job_id, entry in dict(raw).get("jobs", {}).items():
        try:
            routes[job_id] = Route(int(entry["channel_id"]), _int(entry.get("guild_id")),
                                   _int(entry.get("progress_message_id")))
        except (KeyError, TypeError, ValueError):
            continue
    return routes


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
