"""Server paths never reach users: a knowledge-base source is stored at a path under the
data dir (Source.uri, internal), and the published Markdown names it by title (and a web
source by its public URL), never by that path."""

from __future__ import annotations

import pytest

from assistant.app.conversation import Conversation
from assistant.app.events import ChannelUser
from assistant.content import Brief, Format, Script, Section, Source
from assistant.tools.writing.templates import render_markdown
from tests.app.conftest import conv

__all__ = ["conv"]  # the fixture: a conversation over the tides pages, scripted framing

STORED = "file:///srv/assistant/data/kb/files/src-1a2b3c.md"
SOURCES = [
    Source(id="s1", title="Coordinator notes", uri=STORED, provider="kb"),
    Source(id="s2", title="Tide", uri="https://en.wikipedia.org/wiki/Tide",
           url="https://en.wikipedia.org/wiki/Tide", license="CC BY-SA 4.0 (Wikipedia)"),
]


@pytest.mark.parametrize("fmt", ["blog", "short", "video", "podcast", "social"])
def test_rendered_sources_show_titles_and_urls_never_stored_paths(fmt: Format) -> None:
    script = Script(format=fmt, title="How tides work", hook="The sea breathes twice a day.",
                    sections=[Section(heading="Why", text="The moon pulls.",
                                      citations=["s1", "s2"])],
                    citations=SOURCES)
    text = render_markdown(script, Brief.create("how tides work", fmt))
    assert "file://" not in text and "/srv/assistant/data" not in text, text
    assert "src-1a2b3c" not in text
    if "## Sources" in text:
        assert "Coordinator notes" in text
        assert "Tide <https://en.wikipedia.org/wiki/Tide>, CC BY-SA 4.0 (Wikipedia)" in text


def test_a_job_from_the_knowledge_base_never_shows_its_paths(conv: Conversation) -> None:
    """A blog written from the knowledge base's pages (stored under the data dir): the review
    preview, the script and every published text file name them without a server path."""
    settings = conv.svc.settings
    root = str(settings.resolved_data_dir)
    user = ChannelUser("web", "ada")
    started = conv.handle(user, "write a blog post about how tides work")
    job_id = next(e.job_id for e in started if e.job_id)
    assert job_id and conv.wait(job_id, 300)
    seen: list[str] = []
    for _ in range(4):  # script review, then the final review
        pending = conv.pending_approvals(user)
        if not pending:
            break
        seen.append(pending[0].preview)
        conv.decide(user, job_id, "approve", "", pending[0].stage)
        assert conv.wait(job_id, 300)
    job = conv.svc.repo.get_job(job_id)
    assert job is not None and job.status == "published", (job, seen)
    assert seen and all(p.strip() for p in seen)
    texts = [a.path.read_text(encoding="utf-8", errors="replace")
             for a in conv.svc.objects.list(job_id) if a.path.suffix in (".md", ".txt", ".srt")]
    assert any(a.name.endswith("script.md") for a in conv.svc.objects.list(job_id))
    for text in [*seen, *texts]:
        assert root not in text and "file://" not in text, text[:2000]
    # the pages are named by their titles instead
    assert any("Tides" in p or "tides" in p for p in seen)
