"""Web search through a SearXNG instance, then each result page read by the PageFetcher.

``GET {searxng_url}/search?q=..&format=json&language=..`` (SearXNG's Search API) answers
``{"query", "number_of_results", "results": [{"url", "title", "content", "engine", ...}],
"answers", "infoboxes", "suggestions", "unresponsive_engines"}``, best result first. The
JSON format must be enabled in the instance's ``settings.yml`` (``search.formats``); when it
is not, SearXNG answers 403, which is reported as exactly that. SearXNG has no result-count
parameter, so the list is cut to ``limit`` here.

The instance is the operator's own (often on localhost), so its API is called directly; the
pages it points to are the open web and go through the fetcher's address and robots checks.
"""

from __future__ import annotations

from typing import Any, Unpack

from assistant.errors import ConfigError
from assistant.tools.research import fetch as fetching
from assistant.tools.research._http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_USER_AGENT,
    HttpOptions,
    OnlineProvider,
)
from assistant.tools.research.base import Document, Hit
from assistant.tools.research.fetch import PageFetcher

SETTING = "ASSISTANT_SEARXNG_URL"


def results_to_hits(data: Any, *, provider: str, language: str, limit: int) -> list[Hit]:
    """SearXNG's ``results`` as hits: http(s) URLs only, in SearXNG's order."""
    results = data.get("results") if isinstance(data, dict) else None
    hits: list[Hit] = []
    for item in results or []:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        if not url.startswith(("http://", "https://")):
            continue
        hits.append(
            Hit(
                url=url,
                title=str(item.get("title") or url).strip(),
                snippet=str(item.get("content") or "").strip(),
                provider=provider,
                rank=len(hits),
                language=language,
                extra={"engine": str(item.get("engine") or "")},
            )
        )
        if len(hits) >= limit:
            break
    return hits


class SearxngRetriever(OnlineProvider):
    """The ``searxng`` provider."""

    name = "searxng"
    service = "SearXNG"
    setting = SETTING

    def __init__(
        self,
        *,
        base_url: str,
        fetcher: PageFetcher,
        **http: Unpack[HttpOptions],
    ) -> None:
        if not base_url.strip():
            raise ConfigError(
                f"{SETTING} is not set: point it at your SearXNG instance "
                "(e.g. http://localhost:8080), or drop searxng from ASSISTANT_RESEARCH_PROVIDERS"
            )
        self.base_url = base_url.rstrip("/")
        self.fetcher = fetcher
        super().__init__(**http)

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        endpoint = f"{self.base_url}/search"
        params = {"q": query, "format": "json"}
        if language:
            params["language"] = language
        response, body = self._api.request("GET", endpoint, params=params, check_status=False)
        if response.status_code == 403:
            raise self._api.unavailable(
                endpoint,
                "HTTP 403: the instance does not serve format=json "
                "(add json to search.formats in its settings.yml)",
            )
        if response.status_code >= 400:
            raise self._api.unavailable(endpoint, f"HTTP {response.status_code}")
        data, _ = self._api.decode_json(endpoint, body)
        return results_to_hits(data, provider=self.name, language=language, limit=limit)

    def fetch(self, hit: Hit) -> Document:
        return self.fetcher.fetch(
            hit.url, provider=self.name, title=hit.title, language=hit.language or "und"
        )


def from_settings(settings: object, *, fetcher: PageFetcher | None = None) -> SearxngRetriever:
    """The provider as the settings configure it; ``fetcher`` shares one robots cache
    between providers (default: a new one from the same settings)."""
    return SearxngRetriever(
        base_url=getattr(settings, "searxng_url", None) or "",
        fetcher=fetcher or fetching.from_settings(settings),
        user_agent=getattr(settings, "research_user_agent", None) or DEFAULT_USER_AGENT,
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
        max_bytes=int(getattr(settings, "fetch_max_bytes", DEFAULT_MAX_BYTES)),
    )
