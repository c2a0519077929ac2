"""Gathering: every planned sub-query through every provider, in priority order, cached.

Searches go through the research cache (assistant/infra/cache.py: Redis when configured,
else in-process), keyed by everything the answer depends on: provider, query, language,
limit and the provider's *fingerprint* (the knowledge base's source ids, the encyclopedia
data's hash), so adding a document to the knowledge base misses the cache and a resumed job
finds it. Pages fetched from online providers are cached the same way by URL; local
providers are read directly (cheaper than the cache).

A provider that is down is skipped with a note (one line, the provider's own message);
research goes on with the others. Near-duplicate documents (the same article from Wikipedia
and a mirror) keep their first copy, i.e. the higher-priority provider's.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.infra.cache import Cache
from assistant.tools.research.base import Document, Hit, Retriever
from assistant.tools.research.extract import drop_near_duplicates
from assistant.tools.research.planning import Plan

log = logging.getLogger(__name__)

CACHE_VERSION = 1
LOCAL_PROVIDERS = frozenset({"kb", "encyclopedia"})  # fetch reads local files: never cached
_HITS = TypeAdapter(list[Hit])
Progress = Callable[[str, float], None]


@dataclass
class Fetched:
    """A document research read, and the sub-query that first found it."""

    document: Document
    facet: str
    query: str
    source_id: str = ""  # the knowledge base's id for its own documents

    @property
    def text(self) -> str:  # what drop_near_duplicates compares
        return self.document.text


@dataclass
class Gathered:
    fetched: list[Fetched] = field(default_factory=list)
    searches: int = 0
    notes: list[str] = field(default_factory=list)


def fingerprint(retriever: Retriever, language: str) -> str:
    """What changes a provider's answers besides the query (optional per provider)."""
    method = getattr(retriever, "fingerprint", None)
    return str(method(language)) if callable(method) else ""


def cache_key(kind: str, provider: str, body: dict[str, object]) -> str:
    text = json.dumps({"v": CACHE_VERSION, "kind": kind, "provider": provider, **body},
                      sort_keys=True, ensure_ascii=False)  # fmt: skip
    return f"{kind}:{provider}:" + hashlib.sha256(text.encode()).hexdigest()


def search(
    retriever: Retriever, query: str, limit: int, language: str, cache: Cache, print_: str = ""
) -> list[Hit]:
    """``retriever.search`` through the cache; ``print_`` is the provider's fingerprint."""
    key = cache_key("search", retriever.name, {"query": " ".join(query.split()).lower(),
                                               "language": language, "limit": limit,
                                               "fingerprint": print_})  # fmt: skip
    cached = cache.get(key)
    if cached is not None:
        try:
            return _HITS.validate_json(cached)
        except ValidationError:  # written by another version: search again
            pass
    hits = retriever.search(query, limit, language=language)
    cache.set(key, _HITS.dump_json(hits).decode())
    return hits


def fetch(retriever: Retriever, hit: Hit, cache: Cache) -> Document:
    """``retriever.fetch`` through the cache for online providers."""
    if retriever.name in LOCAL_PROVIDERS:
        return retriever.fetch(hit)
    key = cache_key("fetch", retriever.name, {"url": hit.url, "extra": hit.extra})
    cached = cache.get(key)
    if cached is not None:
        try:
            return Document.model_validate_json(cached)
        except ValidationError:
            pass
    document = retriever.fetch(hit)
    cache.set(key, document.model_dump_json())
    return document


def gather(
    retrievers: list[Retriever], plan: Plan, language: str, cache: Cache,
    progress: Progress | None = None,
) -> Gathered:  # fmt: skip
    """Search every sub-query with every provider, fetch each new hit once."""
    out = Gathered()
    seen: set[tuple[str, str]] = set()
    total = max(1, len(retrievers) * len(plan.queries))
    for p_index, retriever in enumerate(retrievers):
        print_ = fingerprint(retriever, language)
        for q_index, sub in enumerate(plan.queries):
            if progress:
                done = (p_index * len(plan.queries) + q_index) / total
                progress(f"searching {_label(retriever.name)} for '{sub.query}'", done)
            try:
                hits = search(retriever, sub.query, plan.hits, language, cache, print_)
            except ResearchUnavailable as exc:
                out.notes.append(f"{retriever.name} skipped: {exc.user_message}")
                break  # the service is down: the other sub-queries would fail the same way
            out.searches += 1
            for hit in hits:
                key = (retriever.name, hit.url)
                if key in seen:
                    continue
                seen.add(key)
                try:
                    document = fetch(retriever, hit, cache)
                except (FetchRefused, ResearchUnavailable) as exc:
                    out.notes.append(f"not read: {hit.url} ({exc.user_message})")
                    continue
                if document.text.strip():
                    out.fetched.append(Fetched(document, sub.facet, sub.query,
                                               hit.extra.get("source_id", "")))  # fmt: skip
    before = len(out.fetched)
    out.fetched = drop_near_duplicates(out.fetched)
    if len(out.fetched) < before:
        out.notes.append(f"{before - len(out.fetched)} near-duplicate documents dropped")
    return out


def _label(provider: str) -> str:
    return {"kb": "your knowledge base", "encyclopedia": "the offline encyclopedia"}.get(
        provider, provider
    )
