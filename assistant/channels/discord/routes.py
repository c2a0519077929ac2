"""Where each job's messages go, kept on disk so a restarted bot still knows.

``<data_dir>/discord_routes.json``: for each job, the channel it was started (or last decided)
in, its guild (None in DMs) and the progress message being edited in place. Small, written
atomically; the newest ``KEEP`` jobs are kept.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

KEEP = 2000


@dataclass(frozen=True)
class Route:
    channel_id: int
    guild_id: int | None = None
    progress_message_id: int | None = None


class Routes:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = self._load()

    def get(self, job_id: str) -> Route | None:
        with self._lock:
            return self._routes.get(job_id)

    def set(self, job_id: str, channel_id: int, guild_id: int | None) -> None:
        """Send the job's messages to this channel from now on."""
        with self._lock:
            old = self._routes.get(job_id)
            if old is not None and old.channel_id == channel_id:
                return
            self._routes.pop(job_id, None)
            self._routes[job_id] = Route(channel_id, guild_id)
            self._save()

    def set_progress(self, job_id: str, message_id: int | None) -> None:
        with self._lock:
            old = self._routes.get(job_id)
            if old is None or old.progress_message_id == message_id:
                return
            self._routes[job_id] = replace(old, progress_message_id=message_id)
            self._save()

    def _load(self) -> dict[str, Route]:
        try:
            raw: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:  # damaged: start afresh (messages go to the user's DMs)
            return {}
        routes = {}
        for job_id, entry in raw.get("jobs", {}).items():
            try:
                routes[job_id] = Route(int(entry["channel_id"]),
                                       _int(entry.get("guild_id")),
                                       _int(entry.get("progress_message_id")))
            except (KeyError, TypeError, ValueError):
                continue
        return routes

    def _save(self) -> None:
        for job_id in list(self._routes)[:-KEEP]:
            del self._routes[job_id]
        body = json.dumps({"jobs": {k: asdict(v) for k, v in self._routes.items()}}, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".discord-routes-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
