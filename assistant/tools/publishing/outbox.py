"""The local outbox, the embedded default publisher: a folder per job under <data>/outbox
with the content files, plus an Atom feed of everything published (written by feedgen).
Publishing again writes the same files and replaces the job's feed entry, so a retry leaves
one copy; the ledger (ledger.py) makes sure it normally runs once per job.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from feedgen.feed import FeedGenerator

from assistant.content import Brief, Publication, Script
from assistant.tools.publishing.base import ROLES, Limits, PublishRequest, Role, check_limits

ATOM = "http://www.w3.org/2005/Atom"
# the folder's first file is the piece itself: the video or episode, else the text
MAIN_FIRST: tuple[Role, ...] = ("video", "audio", "markdown", "thumbnail", "captions", "qa")


class LocalOutbox:
    """Copies the files into <outbox>/<job>/ and adds an entry to <outbox>/feed.xml."""

    name = "outbox"
    limits = Limits(needs_any=ROLES)

    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self, request: PublishRequest) -> list[str]:
        return check_limits(self.name, self.limits, request)

    def publish(self, request: PublishRequest) -> Publication:
        folder = self.root / request.job_id
        folder.mkdir(parents=True, exist_ok=True)
        copied = []
        for role in MAIN_FIRST:
            path = request.file(role)
            if path is None:
                continue
            target = folder / _published_name(path, request.script)
            shutil.copyfile(path, target)
            copied.append(str(target))
        main = copied[0] if copied else str(folder)
        entry_id = self._add_to_feed(request.job_id, request.brief, request.script, main)
        return Publication(platform=self.name, location=main, files=copied,
                           url=Path(main).as_uri(), post_id=entry_id)

    def _add_to_feed(self, job_id: str, brief: Brief, script: Script, location: str) -> str:
        """The feed again (feedgen) with the entries it had, this job's replaced or added;
        the entry's id."""
        feed_path = self.root / "feed.xml"
        entry_id = f"urn:agenticai-lab:job:{job_id}"
        now = datetime.now(UTC).replace(microsecond=0)
        kept = [e for e in _read_entries(feed_path) if e["id"] != entry_id]  # never twice
        feed = FeedGenerator()
        feed.id(f"urn:agenticai-lab:outbox:{self.root}")
        feed.title("AgenticAI Lab outbox")
        feed.updated(now)
        for old in [*kept, {"id": entry_id, "title": script.title, "updated": now,
                            "summary": script.description, "category": brief.format,
                            "link": Path(location).as_uri()}]:
            entry = feed.add_entry(order="append")
            entry.id(old["id"])
            entry.title(old["title"])
            entry.updated(old["updated"])
            if old["summary"]:
                entry.summary(old["summary"])
            if old["category"]:
                entry.category(term=old["category"])
            if old["link"]:
                entry.link(href=old["link"])
        _atomic_write(feed_path, feed.atom_str(pretty=True))
        return entry_id


def _read_entries(feed_path: Path) -> list[dict[str, Any]]:
    """The entries of the feed written before, in order (none when there is no feed)."""
    if not feed_path.exists():
        return []
    entries = []
    for entry in ET.parse(feed_path).getroot().findall(f"{{{ATOM}}}entry"):
        category = entry.find(f"{{{ATOM}}}category")
        link = entry.find(f"{{{ATOM}}}link")
        entries.append({
            "id": entry.findtext(f"{{{ATOM}}}id") or "",
            "title": entry.findtext(f"{{{ATOM}}}title") or "",
            "updated": datetime.fromisoformat(entry.findtext(f"{{{ATOM}}}updated") or ""),
            "summary": entry.findtext(f"{{{ATOM}}}summary") or "",
            "category": category.get("term", "") if category is not None else "",
            "link": link.get("href", "") if link is not None else "",
        })
    return entries


def _published_name(path: Path, script: Script) -> str:
    names = {"blog": "post", "social": "posts", "podcast": "episode", "video": "video",
             "short": "short"}
    name = re.sub(r"\.v\d+(?=\.)", "", path.name)  # artifact versions: keep the plain name
    return f"{names[script.format]}{path.suffix}" if name.startswith("final") else name


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
