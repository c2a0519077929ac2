"""Server paths never reach users: a knowledge-base source is stored at a path under the
data dir (Source.uri, internal), and the published Markdown names it by title (and a web
source by its public URL), never by that path."""

from __future__ import annotations

import pytest

from assistant.content import Brief, Format, Script, Section, Source
from assistant.tools.writing.templates import render_markdown

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
