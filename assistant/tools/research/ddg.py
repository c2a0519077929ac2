"""DuckDuckGo (and the other engines ``ddgs`` fronts), then each result page fetched.

``ddgs`` (formerly ``duckduckgo_search``) scrapes search pages, so it has no API contract
and its result keys have moved between releases: ``href`` / ``url`` / ``link`` for the URL,
``body`` / ``snippet`` / ``description`` for the text. :func:`normalise_result` accepts all
of them, so a version bump cannot silently turn every hit into an empty one. The client is
injectable (``client``): tests pass a stand-in and never reach the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from assistant.errors import ConfigError, ResearchUnavailable
from assistant.tools.research import fetch as fetching
from assistant.tools.research._http import DEFAULT_TIMEOUT_S
from assistant.tools.research.base import Document, Hit
from assistant.tools.research.fetch import PageFetcher

_URL_KEYS = ("href", "url", "link")
_SNIPPET_KEYS = ("body", "snippet", "description", "abstract")
_TITLE_KEYS = ("title", "heading")

# ddgs regions are country-language; "wt-wt" is "no region". Only languages whose usual
# region is unambiguous are mapped; any other language searches without a region.
_REGIONS = {
    "en": "us-en", "es": "es-es", "fr": "fr-fr", "de": "de-de", "it": "it-it",
    "pt": "pt-pt", "nl": "nl-nl", "pl": "pl-pl", "ru": "ru-ru", "ja": "jp-jp",
}


class TextSearchClient(Protocol):
    """The part of ``ddgs.DDGS`` used here."""

    def text(self, query: str, **kwargs: Any) -> Iterable[Mapping[str, Any]]: ...


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def normalise_result(item: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """``(url, title, snippet)`` from one ddgs result of any release; None without a
    usable http(s) URL."""
    url = _first(item, _URL_KEYS)
    if not url.startswith(("http://", "https://")):
        return None
    return url, _first(item, _TITLE_KEYS) or url, _first(item, _SNIPPET_KEYS)


def default_client(timeout_s: float) -> TextSearchClient:
    """A real ``ddgs.DDGS``; ConfigError naming the package when it is not installed."""
    try:
        from ddgs import DDGS
    except ImportError as exc:
        raise ConfigError(
            "the ddg research provider needs the ddgs package: pip install ddgs, "
            "or drop ddg from ASSISTANT_RESEARCH_PROVIDERS"
        ) from exc
    client: TextSearchClient = DDGS(timeout=max(1, round(timeout_s)))
    return client


class DdgRetriever:
    """The ``ddg`` provider."""

    name = "ddg"

    def __init__(
        self,
        *,
        fetcher: PageFetcher,
        client: TextSearchClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.fetcher = fetcher
        # Made now, so a missing ddgs fails at configuration time, not mid-research.
        self._client = client if client is not None else default_client(timeout_s)

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        region = _REGIONS.get(language, "wt-wt")
        try:
            results = list(self._client.text(query, region=region, max_results=limit))
        except Exception as exc:  # ddgs raises its own and its HTTP stack's errors
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
            raise ResearchUnavailable(
                f"DuckDuckGo search (ddgs) failed: {type(exc).__name__}"
                + (f": {reason}" if reason else ""),
                detail=repr(exc),
            ) from exc
        hits: list[Hit] = []
        for item in results:
            normalised = normalise_result(item) if isinstance(item, Mapping) else None
            if normalised is None:
                continue
            url, title, snippet = normalised
            hits.append(
                Hit(url=url, title=title, snippet=snippet, provider=self.name,
                    rank=len(hits), language=language)
            )
            if len(hits) >= limit:
                break
        return hits

    def fetch(self, hit: Hit) -> Document:
        return self.fetcher.fetch(
            hit.url, provider=self.name, title=hit.title, language=hit.language or "und"
        )


def from_settings(settings: object, *, fetcher: PageFetcher | None = None) -> DdgRetriever:
    """The provider as the settings configure it; ConfigError when ddgs is missing."""
    return DdgRetriever(
        fetcher=fetcher or fetching.from_settings(settings),
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
    )
