"""The retriever contract: every research provider answers in these two shapes.

A provider normalises its service's answer at the edge (gpt-researcher's ``retrievers/``,
STORM's ``{url, title, description, snippets}``), so nothing past it knows which service
answered. ``search`` returns ranked :class:`Hit` s; ``fetch`` turns one into the
:class:`Document` the research step reads, cites and stores as an artifact.

Everything a provider returns is untrusted text: material to quote, never instructions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable
from urllib.parse import quote

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


# MediaWiki's wfUrlencode() leaves these unescaped in article URLs: keep them, so our URL for
# a title is the one Wikipedia itself links to.
_WIKI_TITLE_SAFE = ";@$!*(),/~:"


def wiki_article_url(site: str, title: str) -> str:
    """The canonical article URL, ``<site>/wiki/Title_With_Underscores``: the online Wikipedia
    retriever and the offline encyclopedia cite one article by this one URL (so a source found
    by both is one source)."""
    path = quote(title.strip().replace(" ", "_"), safe=_WIKI_TITLE_SAFE)
    return f"{site.rstrip('/')}/wiki/{path}"


class Hit(BaseModel):
    """One search result, as every provider reports it."""

    url: str = Field(description="The page's own public URL: what a citation links to.")
    title: str
    snippet: str = Field("", description="The service's summary or extract; may be empty.")
    provider: str = Field(description="The provider's registry name (kb, encyclopedia, ...).")
    rank: int = Field(0, description="0 = the service's best answer.")
    language: str = ""
    # Provider-specific keys a later fetch needs (an arXiv id, a knowledge-base source id).
    extra: dict[str, str] = Field(default_factory=dict)


class Document(BaseModel):
    """A fetched page or entry: its text is what research splits into passages."""

    url: str
    title: str
    text: str
    language: str = "en"
    retrieved_at: datetime = Field(default_factory=utcnow)
    provider: str
    license: str = Field("", description="Attribution the content must carry, if any.")
    content_type: str = "text/plain"
    # The bytes as received (HTML, Atom, JSON), stored as the job's research/ artifact.
    raw: str = ""


@runtime_checkable
class Retriever(Protocol):
    """A research provider. ``name`` is its key in ``ASSISTANT_RESEARCH_PROVIDERS``."""

    name: str

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        """Ranked hits for ``query`` (best first, at most ``limit``); [] when none.

        Raises :class:`assistant.errors.ResearchUnavailable` when the service cannot be
        reached or answers with an error: one line naming the setting and the URL."""
        ...

    def fetch(self, hit: Hit) -> Document:
        """The text behind ``hit``. Raises ResearchUnavailable (service down) or
        :class:`assistant.errors.FetchRefused` (a page we must not or cannot read)."""
        ...
