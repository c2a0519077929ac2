"""arXiv through its Atom API: papers' titles, authors and abstracts (never the PDFs).

``GET {arxiv_url}?search_query=..&start=0&max_results=..`` answers an Atom 1.0 feed whose
entries carry ``<id>`` (the abs URL with its version), ``<title>``, ``<summary>`` (the
abstract), ``<author><name>``, ``<published>`` and ``<link rel="alternate">``. A malformed
query comes back as a feed whose one entry has an ``<id>`` under ``/api/errors``: that is an
error, not a paper called "Error". Throttling answers plain text ("Rate exceeded.").

arXiv's terms ask for at most one request every three seconds; :class:`RateLimiter` keeps
that per process (one lock and one monotonic clock for every instance). Search hits carry
the abstract already, so ``fetch`` builds the document without another request when it can.
Abstracts and metadata are CC0 per arXiv's API terms; the papers themselves are not read.
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Unpack

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.tools.research._http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_USER_AGENT,
    HttpOptions,
    OnlineProvider,
)
from assistant.tools.research.base import Document, Hit
from assistant.tools.research.extract import detect_language

DEFAULT_URL = "http://export.arxiv.org/api/query"
SETTING = "ASSISTANT_ARXIV_URL"
LICENSE = "arXiv metadata, CC0 1.0"
ATOM = "{http://www.w3.org/2005/Atom}"

# Words that only make an AND query match nothing ("how", "does"): arXiv's own search
# ignores few of them, so they are left out of the query.
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from",
    "how", "in", "is", "it", "of", "on", "or", "the", "to", "what", "when", "where",
    "which", "who", "why", "with",
})
_MAX_TERMS = 8


class RateLimiter:
    """At most one call per ``interval_s``, across threads: ``wait()`` before each request.

    ``clock`` and ``sleep`` are injectable so tests can check the spacing without waiting."""

    def __init__(
        self,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self) -> None:
        with self._lock:  # held while sleeping: the next caller queues behind this one
            now = self._clock()
            if self._last is not None:
                delay = self._last + self.interval_s - now
                if delay > 0:
                    self._sleep(delay)
                    now = self._clock()
            self._last = now


# One per process, shared by every ArxivRetriever: the limit is arXiv's, not an instance's.
ARXIV_RATE_LIMIT = RateLimiter(3.0)


def search_query(query: str) -> str:
    """``query`` as an arXiv ``search_query``: each meaningful word as ``all:word``, ANDed.

    Operators, quotes and brackets are dropped so user text cannot change the query's
    syntax; "" when no word is left."""
    words = re.findall(r"[\w][\w\-]*", query.lower())
    terms = [w for w in words if w not in _STOPWORDS][:_MAX_TERMS]
    return " AND ".join(f"all:{term}" for term in terms)


def _text(element: ET.Element | None) -> str:
    return re.sub(r"\s+", " ", element.text or "").strip() if element is not None else ""


def _arxiv_id(abs_url: str) -> str:
    return abs_url.rsplit("/abs/", 1)[-1] if "/abs/" in abs_url else ""


class ArxivRetriever(OnlineProvider):
    """The ``arxiv`` provider. See the module docstring for the call it makes."""

    name = "arxiv"
    service = "arXiv"
    setting = SETTING

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_URL,
        rate_limiter: RateLimiter = ARXIV_RATE_LIMIT,
        **http: Unpack[HttpOptions],
    ) -> None:
        self.base_url = base_url
        self._rate = rate_limiter
        super().__init__(**http)

    def _feed(self, params: dict[str, str]) -> list[ET.Element]:
        self._rate.wait()
        # Statuses are judged after parsing: a 400 carries an error feed that says why.
        response, body = self._api.request(
            "GET", self.base_url, params=params, check_status=False
        )
        status = response.status_code
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            first = body.decode("utf-8", "replace").strip().splitlines()[:1]
            said = f" ({first[0][:80]})" if first else ""
            reason = f"HTTP {status}" if status >= 400 else "the answer is not an Atom feed"
            raise self._api.unavailable(self.base_url, reason + said) from exc
        entries = root.findall(f"{ATOM}entry")
        for entry in entries:
            if "/api/errors" in _text(entry.find(f"{ATOM}id")):
                message = _text(entry.find(f"{ATOM}summary")) or "malformed query"
                raise ResearchUnavailable(f"arXiv rejected the query: {message}")
        if status >= 400:
            raise self._api.unavailable(self.base_url, f"HTTP {status}")
        if root.tag != f"{ATOM}feed":
            raise self._api.unavailable(self.base_url, "the answer is not an Atom feed")
        return entries

    def _hit(self, entry: ET.Element, rank: int) -> Hit | None:
        entry_id = _text(entry.find(f"{ATOM}id"))
        url = entry_id
        for link in entry.findall(f"{ATOM}link"):
            if link.get("rel") == "alternate" and link.get("href"):
                url = str(link.get("href"))
                break
        title = _text(entry.find(f"{ATOM}title"))
        if not url.startswith(("http://", "https://")) or not title:
            return None
        authors = [_text(a.find(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
        return Hit(
            url=url,
            title=title,
            snippet=_text(entry.find(f"{ATOM}summary")),
            provider=self.name,
            rank=rank,
            extra={
                "arxiv_id": _arxiv_id(entry_id) or _arxiv_id(url),
                "authors": "; ".join(a for a in authors if a),
                "published": _text(entry.find(f"{ATOM}published"))[:10],
                "atom": ET.tostring(entry, encoding="unicode"),
            },
        )

    def search(self, query: str, limit: int = 5, *, language: str = "en") -> list[Hit]:
        """Papers matching every meaningful word of ``query``. arXiv is English, so
        ``language`` does not narrow anything."""
        expression = search_query(query)
        if not expression or limit <= 0:
            return []
        entries = self._feed(
            {"search_query": expression, "start": "0", "max_results": str(min(limit, 100))}
        )
        hits: list[Hit] = []
        for entry in entries:
            hit = self._hit(entry, len(hits))
            if hit is not None:
                hits.append(hit)
        return hits[:limit]

    def fetch(self, hit: Hit) -> Document:
        """Title, authors, date and abstract; looked up by id only when ``hit`` lacks them."""
        if not (hit.snippet and "atom" in hit.extra):
            arxiv_id = hit.extra.get("arxiv_id") or _arxiv_id(hit.url)
            if not arxiv_id:
                raise FetchRefused(f"not an arXiv abstract URL: {hit.url}")
            entries = self._feed({"id_list": arxiv_id, "start": "0", "max_results": "1"})
            found = self._hit(entries[0], hit.rank) if entries else None
            if found is None:
                raise FetchRefused(f"arXiv has no paper {arxiv_id}")
            hit = found.model_copy(update={"url": hit.url})
        header = [hit.title]
        if hit.extra.get("authors"):
            header.append(f"Authors: {hit.extra['authors'].replace('; ', ', ')}")
        if hit.extra.get("published"):
            header.append(f"Published: {hit.extra['published']}")
        text = "\n".join(header) + "\n\n" + hit.snippet
        return Document(
            url=hit.url,
            title=hit.title,
            text=text,
            language=detect_language(hit.snippet, "en"),
            provider=self.name,
            license=LICENSE,
            content_type="application/atom+xml",
            raw=hit.extra.get("atom", ""),
        )


def from_settings(settings: object) -> ArxivRetriever:
    """The provider as the settings configure it (fields read with defaults)."""
    return ArxivRetriever(
        base_url=getattr(settings, "arxiv_url", None) or DEFAULT_URL,
        user_agent=getattr(settings, "research_user_agent", None) or DEFAULT_USER_AGENT,
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
        max_bytes=int(getattr(settings, "fetch_max_bytes", DEFAULT_MAX_BYTES)),
    )
