"""The user's knowledge base as a research provider (``kb``).

It wraps :meth:`assistant.tools.knowledge.KnowledgeBase.search` (chunks nearest to the query
in Qdrant) and answers per document: one hit per source, its best chunk as the snippet, and
``fetch`` returns the whole document so research judges all of it, not one chunk.

A hit's url is what the user knows the document by: the file name they added (or the URL
they added it from), never the path of our stored copy (``file:///srv/...`` tells a reader
nothing and leaks the server's layout).

A retriever made for a job is given the job's ``scopes`` (:func:`assistant.tools.knowledge.
scopes.job_scopes`: shared, the owner's own, the job's workspace's) and searches, fetches and
fingerprints only those: another person's upload can never reach the job's script, not even
through the research cache (the scopes and their sources are in the fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from assistant.config import Settings
from assistant.errors import FetchRefused
from assistant.tools.knowledge import KnowledgeBase
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.research.base import Document, Hit

NAME = "kb"


def _citation_name(entry: dict[str, object], fallback: str) -> str:
    for key in ("url", "source_url", "name"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return fallback


def document_text(sections: list[tuple[str, str]]) -> str:
    """Sections as text, each heading a paragraph of its own before its text (the shape the
    passage splitter reads headings from)."""
    return "\n\n".join(part for heading, text in sections for part in (heading, text) if part)


class KnowledgeBaseRetriever:
    """Searches the user's own documents; ``fetch`` reads the stored copy again."""

    name = NAME

    def __init__(self, kb: KnowledgeBase, *, min_score: float | None = None,
                 scopes: Sequence[str] | None = None) -> None:  # fmt: skip
        self.kb = kb
        self.min_score = min_score
        # None: every source (the operator's `assistant kb search`); a job passes its own
        self.scopes: list[str] | None = None if scopes is None else sorted(set(scopes))

    @classmethod
    def from_settings(
        cls, settings: Settings, *, kb: KnowledgeBase | None = None,
        embedder: Embedder | None = None, scopes: Sequence[str] | None = None,
    ) -> KnowledgeBaseRetriever:  # fmt: skip
        return cls(kb or KnowledgeBase(settings, embedder), scopes=scopes)

    def fingerprint(self, language: str = "en") -> str:
        """Changes whenever a source is added, replaced or removed (ids are content hashes),
        so a resume after ``assistant kb add`` misses the research cache."""
        body = json.dumps({
            "sources": sorted(s.id for s in self.kb.sources(self.scopes)),
            "scopes": self.scopes,
            "embedder": str(getattr(self.kb.embedder, "name", type(self.kb.embedder).__name__)),
            "collection": self.kb.collection,
            "store": self.kb.settings.qdrant_url or str(self.kb.settings.resolved_data_dir),
        }, sort_keys=True)  # fmt: skip
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        # Several chunks of one document are usually among the nearest: ask for more
        # chunks than documents wanted, keep each document's best.
        findings = self.kb.search(query, k=max(limit * 4, 8), min_score=self.min_score,
                                  scopes=self.scopes)
        hits: list[Hit] = []
        seen: set[str] = set()
        for finding in findings:
            if finding.source_id in seen:
                continue
            entry = self.kb.entry(finding.source_id)
            if entry is None:  # removed while we searched
                continue
            seen.add(finding.source_id)
            title = str(entry.get("title") or finding.source_id)
            hits.append(Hit(
                url=_citation_name(entry, title), title=title, snippet=finding.text,
                provider=NAME, rank=len(hits), language=language,
                extra={"source_id": finding.source_id, "heading": finding.heading},
            ))  # fmt: skip
            if len(hits) >= limit:
                break
        return hits

    def fetch(self, hit: Hit) -> Document:
        source_id = hit.extra.get("source_id", "")
        visible = source_id and (self.scopes is None or source_id in {
            s.id for s in self.kb.sources(self.scopes)})
        doc = self.kb.document(source_id) if visible else None
        if doc is None:
            raise FetchRefused(
                f"'{hit.title}' is no longer in the knowledge base: `assistant kb list` shows "
                "what is"
            )
        text = document_text(doc.sections)
        return Document(
            url=hit.url, title=doc.title, text=text, language=hit.language or "en",
            provider=NAME, content_type=_MIME.get(doc.kind, "text/plain"), raw=text,
        )  # fmt: skip


_MIME = {"markdown": "text/markdown", "text": "text/plain", "html": "text/html",
         "pdf": "application/pdf"}  # fmt: skip


def from_settings(settings: Settings) -> KnowledgeBaseRetriever:
    return KnowledgeBaseRetriever.from_settings(settings)
