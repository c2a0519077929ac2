"""Google results through Serper, then each result page read by the PageFetcher.

``POST {serper_url}/search`` with the key in ``X-API-KEY`` and a JSON body
``{"q": .., "num": .., "hl": ..}`` answers ``{"searchParameters": {..}, "organic": [{"title",
"link", "snippet", "position", ...}], "peopleAlsoAsk", "relatedSearches", "credits"}``. Only
``organic`` results are used (knowledge panels and "people also ask" have no page to cite),
ordered by ``position``. The key never appears in a message or a log line.
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

DEFAULT_URL = "https://google.serper.dev"
SETTING = "ASSISTANT_SERPER_URL"
KEY_SETTING = "ASSISTANT_SERPER_API_KEY"
_MISSING_KEY = (
    f"{KEY_SETTING} is not set: the serper research provider needs an API key "
    "(serper.dev), or drop serper from ASSISTANT_RESEARCH_PROVIDERS"
)


def _position(item: dict[str, Any]) -> int:
    position = item.get("position")
    return position if isinstance(position, int) else 10_000


def organic_to_hits(data: Any, *, provider: str, language: str, limit: int) -> list[Hit]:
    """Serper's ``organic`` results as hits, best position first, http(s) links only."""
    organic = data.get("organic") if isinstance(data, dict) else None
    items = sorted((i for i in organic or [] if isinstance(i, dict)), key=_position)
    hits: list[Hit] = []
    for item in items:
        url = str(item.get("link") or "")
        if not url.startswith(("http://", "https://")):
            continue
        hits.append(
            Hit(
                url=url,
                title=str(item.get("title") or url).strip(),
                snippet=str(item.get("snippet") or "").strip(),
                provider=provider,
                rank=len(hits),
                language=language,
                extra={"position": str(item.get("position", ""))},
            )
        )
        if len(hits) >= limit:
            break
    return hits


class SerperRetriever(OnlineProvider):
    """The ``serper`` provider."""

    name = "serper"
    service = "Serper"
    setting = SETTING

    def __init__(
        self,
        *,
        api_key: str,
        fetcher: PageFetcher,
        base_url: str = DEFAULT_URL,
        **http: Unpack[HttpOptions],
    ) -> None:
        if not api_key.strip():
            raise ConfigError(_MISSING_KEY)
        self._key = api_key.strip()
        self.base_url = base_url.rstrip("/")
        self.fetcher = fetcher
        super().__init__(**http)

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        if not query.strip() or limit <= 0:
            return []
        endpoint = f"{self.base_url}/search"
        body: dict[str, Any] = {"q": query, "num": limit}
        if language:
            body["hl"] = language
        response, raw = self._api.request(
            "POST", endpoint, json_body=body, headers={"X-API-KEY": self._key},
            check_status=False,
        )
        if response.status_code in (401, 403):
            raise self._api.unavailable(
                endpoint, f"HTTP {response.status_code}: the key was refused (check {KEY_SETTING})"
            )
        if response.status_code >= 400:
            raise self._api.unavailable(endpoint, f"HTTP {response.status_code}")
        data, _ = self._api.decode_json(endpoint, raw)
        return organic_to_hits(data, provider=self.name, language=language, limit=limit)

    def fetch(self, hit: Hit) -> Document:
        return self.fetcher.fetch(
            hit.url, provider=self.name, title=hit.title, language=hit.language or "und"
        )


def _secret(value: object) -> str:
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal()) if callable(reveal) else str(value or "")


def from_settings(settings: object, *, fetcher: PageFetcher | None = None) -> SerperRetriever:
    """The provider as the settings configure it; ConfigError when the key is missing."""
    api_key = _secret(getattr(settings, "serper_api_key", ""))
    if not api_key.strip():
        raise ConfigError(_MISSING_KEY)
    return SerperRetriever(
        api_key=api_key,
        fetcher=fetcher or fetching.from_settings(settings),
        base_url=getattr(settings, "serper_url", None) or DEFAULT_URL,
        user_agent=getattr(settings, "research_user_agent", None) or DEFAULT_USER_AGENT,
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
        max_bytes=int(getattr(settings, "fetch_max_bytes", DEFAULT_MAX_BYTES)),
    )
