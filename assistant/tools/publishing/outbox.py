"""The local outbox, the embedded default publisher: a folder per job under <data>/outbox
with the content files, plus an Atom feed of everything published. Publishing is
idempotent per (job, platform): the publications table says whether it already happened.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from assistant.content import Brief, Publication, Script
from storage.jobs import JobRepository

ATOM = "http://www.w3.org/2005/Atom"


class LocalOutbox:
    """Copies the files into <outbox>/<job>/ and adds an entry to <outbox>/feed.xml."""

    name = "outbox"

    def __init__(self, root: Path, repo: JobRepository) -> None:
        self.root = root
        self.repo = repo

    def publish(self, job_id: str, brief: Brief, script: Script, files: list[Path]) -> Publication:
        existing = [p for p in self.repo.publications(job_id) if p.platform == self.name]
        if existing:
            row = existing[0]
            meta = row.meta or {}
            return Publication(platform=self.name, location=row.post_url or "",
                               files=list(meta.get("files", [])), url=row.post_url or "")
        folder = self.root / job_id
        folder.mkdir(parents=True, exist_ok=True)
        copied = []
        for path in files:
            target = folder / _published_name(path, script)
            shutil.copyfile(path, target)
            copied.append(str(target))
        main = copied[0] if copied else str(folder)
        self._add_to_feed(job_id, brief, script, main)
        self.repo.record_publication(job_id, self.name, location=main,
                                     meta={"files": copied, "title": script.title})
        return Publication(platform=self.name, location=main, files=copied, url=Path(main).as_uri())

    def _add_to_feed(self, job_id: str, brief: Brief, script: Script, location: str) -> None:
        ET.register_namespace("", ATOM)
        feed_path = self.root / "feed.xml"
        if feed_path.exists():
            feed = ET.parse(feed_path).getroot()
        else:
            feed = ET.Element(f"{{{ATOM}}}feed")
            ET.SubElement(feed, f"{{{ATOM}}}title").text = "AgenticAI Lab outbox"
            ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:agenticai-lab:outbox:{self.root}"
            ET.SubElement(feed, f"{{{ATOM}}}updated")
        entry_id = f"urn:agenticai-lab:job:{job_id}"
        for entry in feed.findall(f"{{{ATOM}}}entry"):
            if entry.findtext(f"{{{ATOM}}}id") == entry_id:
                feed.remove(entry)  # re-publishing replaces, never duplicates
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = entry_id
        ET.SubElement(entry, f"{{{ATOM}}}title").text = script.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = now
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = script.description
        ET.SubElement(entry, f"{{{ATOM}}}category", term=brief.format)
        ET.SubElement(entry, f"{{{ATOM}}}link", href=Path(location).as_uri())
        updated = feed.find(f"{{{ATOM}}}updated")
        if updated is not None:
            updated.text = now
        _atomic_write(feed_path, ET.tostring(feed, encoding="utf-8", xml_declaration=True))


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
