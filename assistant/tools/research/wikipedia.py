"""Live Wikipedia through the MediaWiki action API: full-text search, then the page text.

Two documented calls, both with ``formatversion=2`` (pages as a list, booleans as true):

- search: ``action=query&list=search&srsearch=..&srlimit=..`` (API:Search); its snippets
  carry ``<span class="searchmatch">`` highlighting, stripped here;
- text: ``action=query&prop=extracts&explaintext=1&titles=..&redirects=1`` (TextExtracts),
  one title per call, because a whole-article extract is limited to one page.

The base URL is a template with ``{lang}`` (``https://{lang}.wikipedia.org``), so the brief's
language picks the edition; a hit's URL is built from the same base, so a local MediaWiki
yields its own URLs. MediaWiki reports errors as HTTP 200 with an ``error`` object, handled
here too. Wikimedia's policy asks for a User-Agent that identifies the client: sent.
"""

from __future__ import annotations

import html
import re
from typing import Any, Unpack

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.tools.research._http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_USER_AGENT,
    HttpOptions,
    OnlineProvider,
)
from assistant.tools.research.base import Document, Hit, wiki_article_url

DEFAULT_URL = "https://{lang}.wikipedia.org"
LICENSE = "CC BY-SA 4.0 (Wikipedia)"
SETTING = "ASSISTANT_WIKIPEDIA_URL"

_TAG = re.compile(r"<[^>]+>")
_MAX_SRLIMIT = 500  # API:Search's upper bound for srlimit


def site_url(base_url: str, language: str) -> str:
    """The wiki's root for ``language``: the template filled in, no trailing slash."""
    return base_url.replace("{lang}", language or "en").rstrip("/")


def article_url(site: str, title: str) -> str:
    """The canonical article URL, ``<site>/wiki/Title_With_Underscores`` (the encyclopedia's
    too: :func:`~assistant.tools.research.base.wiki_article_url`)."""
    return wiki_article_url(site, title)


def strip_markup(snippet: str) -> str:
    """A search snippet as plain text: highlighting spans and entities removed."""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub("", snippet))).strip()


class WikipediaRetriever(OnlineProvider):
    """The ``wikipedia`` provider. See the module docstring for the calls it makes."""

    name = "wikipedia"
    service = "Wikipedia"
    setting = SETTING

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_URL,
        **http: Unpack[HttpOptions],
    ) -> None:
        self.base_url = base_url
        super().__init__(**http)

    def _query(self, site: str, params: dict[str, str]) -> tuple[dict[str, Any], str]:
        endpoint = f"{site}/w/api.php"
        data, raw = self._api.get_json(endpoint, params)
        if not isinstance(data, dict):
            raise self._api.unavailable(endpoint, "unexpected answer (not a JSON object)")
        error = data.get("error")
        if isinstance(error, dict):
            info = str(error.get("info") or "").strip().splitlines()
            reason = f"API error {error.get('code', 'unknown')}"
            raise self._api.unavailable(endpoint, f"{reason}: {info[0]}" if info else reason)
        return data, raw

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        site = site_url(self.base_url, language)
        data, _ = self._query(
            site,
            {
                "action": "query",
                "list": "search",
                "srsearch": query,
                "srlimit": str(min(limit, _MAX_SRLIMIT)),
                "format": "json",
                "formatversion": "2",
            },
        )
        results = (data.get("query") or {}).get("search") or []
        hits: list[Hit] = []
        for item in results:
            title = str(item.get("title", "")).strip() if isinstance(item, dict) else ""
            if not title:
                continue
            hits.append(
                Hit(
                    url=article_url(site, title),
                    title=title,
                    snippet=strip_markup(str(item.get("snippet", ""))),
                    provider=self.name,
                    rank=len(hits),
                    language=language,
                    extra={"title": title, "pageid": str(item.get("pageid", ""))},
                )
            )
        return hits[:limit]

    def fetch(self, hit: Hit) -> Document:
        language = hit.language or "en"
        site = site_url(self.base_url, language)
        title = hit.extra.get("title") or hit.title
        data, raw = self._query(
            site,
            {
                "action": "query",
                "prop": "extracts",
                "explaintext": "1",
                "titles": title,
                "format": "json",
                "formatversion": "2",
                "redirects": "1",
            },
        )
        pages = (data.get("query") or {}).get("pages")
        if not isinstance(pages, list) or not pages or not isinstance(pages[0], dict):
            raise ResearchUnavailable(
                f"Wikipedia answered without a page for '{title}' at {site} ({SETTING})"
            )
        page = pages[0]
        if page.get("missing") or page.get("invalid"):
            raise FetchRefused(f"Wikipedia ({language}) has no article titled '{title}'")
        text = str(page.get("extract") or "").strip()
        if not text:
            raise FetchRefused(f"Wikipedia's article '{title}' has no readable text")
        return Document(
            url=hit.url,
            title=str(page.get("title") or title),
            text=text,
            language=language,
            provider=self.name,
            license=LICENSE,
            content_type="text/plain",
            raw=raw,
        )


def from_settings(settings: object) -> WikipediaRetriever:
    """The provider as the settings configure it (fields read with defaults)."""
    return WikipediaRetriever(
        base_url=getattr(settings, "wikipedia_url", None) or DEFAULT_URL,
        user_agent=getattr(settings, "research_user_agent", None) or DEFAULT_USER_AGENT,
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
        max_bytes=int(getattr(settings, "fetch_max_bytes", DEFAULT_MAX_BYTES)),
    )
