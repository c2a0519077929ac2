"""The local outbox: files copied once per job, and an Atom feed with one entry per job."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from assistant.app.studio import Services
from assistant.content import Brief, Script, Section
from assistant.tools.publishing.base import PublishRequest
from assistant.tools.publishing.ledger import publish_once
from assistant.tools.publishing.outbox import ATOM, LocalOutbox


def _script(title: str, description: str = "") -> Script:
    return Script(format="blog", title=title, hook="Why?", description=description,
                  sections=[Section(heading="Moon", text="The Moon pulls the sea.")])


def _entries(feed: Path) -> list[tuple[str, str, str]]:
    root = ET.parse(feed).getroot()
    assert root.tag == f"{{{ATOM}}}feed" and root.findtext(f"{{{ATOM}}}updated")
    return [(e.findtext(f"{{{ATOM}}}id") or "", e.findtext(f"{{{ATOM}}}title") or "",
             e.findtext(f"{{{ATOM}}}summary") or "")
            for e in root.findall(f"{{{ATOM}}}entry")]


def test_the_feed_keeps_one_entry_per_job(svc: Services, tmp_path: Path) -> None:
    outbox = LocalOutbox(tmp_path / "outbox")
    post = tmp_path / "final.md"
    post.write_text("# Tides & <the Moon>\n", encoding="utf-8")
    brief = Brief.create("tides", "blog")
    for job_id in ("job-00000001", "job-00000002"):
        svc.repo.create_job(job_id, title="tides", content_type="blog")

    def request(job_id: str, script: Script) -> PublishRequest:
        return PublishRequest(job_id, brief, script, files={"markdown": post})

    first = publish_once(outbox, request("job-00000001", _script("Tides & <the Moon>", "Why.")),
                         svc.repo)
    assert Path(first.location).read_text(encoding="utf-8").startswith("# Tides")
    assert first.post_id == "urn:agenticai-lab:job:job-00000001"
    publish_once(outbox, request("job-00000002", _script("Second")), svc.repo)
    feed = tmp_path / "outbox" / "feed.xml"
    assert _entries(feed) == [("urn:agenticai-lab:job:job-00000001", "Tides & <the Moon>", "Why."),
                              ("urn:agenticai-lab:job:job-00000002", "Second", "")]
    # publishing a job again changes nothing (the publications table says it happened) ...
    again = publish_once(outbox, request("job-00000001", _script("Other")), svc.repo)
    assert again.location == first.location and len(_entries(feed)) == 2
    # ... and a feed entry written again replaces the old one, never duplicates it
    outbox._add_to_feed("job-00000001", brief, _script("Renamed"), first.location)
    assert [t for _, t, _ in _entries(feed)] == ["Second", "Renamed"]
    link = ET.parse(feed).getroot().findall(f"{{{ATOM}}}entry")[-1].find(f"{{{ATOM}}}link")
    assert link is not None and link.get("href") == Path(first.location).as_uri()
