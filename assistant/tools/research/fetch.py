"""Reading a web page safely: the one place research touches URLs it did not configure.

A search result's URL comes from the open web, so fetching it is a request a stranger chose.
:class:`PageFetcher` therefore:

- refuses private, loopback, link-local and reserved addresses (every address the host
  resolves to is checked, on every redirect hop), so a result or a redirect cannot make the
  assistant read its own network: the SSRF rule. ``allow_private=True`` lifts it for a
  self-hosted setup and for tests;
- follows redirects itself, re-checking each hop (scheme, address, robots.txt);
- respects robots.txt (RFC 9309), cached per host for a day;
- reads at most ``max_bytes`` (streamed, stopped at the cap) of an allowed content type;
- sends a real User-Agent, so a site can tell who we are and block us if it wants.

Known limit: the address is checked when resolved here and httpx resolves again when it
connects, so a DNS answer that changes in between (DNS rebinding) is not caught.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.infra.netguard import PrivateAddress, is_refusal, public_addresses, public_transport
from assistant.tools.research._http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_USER_AGENT,
    describe_error,
    read_capped,
    tls_context,
)
from assistant.tools.research.base import Document
from assistant.tools.research.extract import (
    HTML_TYPES,
    PLAIN_TYPES,
    XML_TYPES,
    Extracted,
    drop_near_duplicates,
    html_to_text,
    plain_to_text,
    xml_to_text,
)

__all__ = [
    "DEFAULT_TYPES",
    "FetchedPage",
    "PageFetcher",
    "drop_near_duplicates",
    "from_settings",
    "to_text",
]

DEFAULT_TYPES = HTML_TYPES | PLAIN_TYPES | XML_TYPES
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ROBOTS_TTL_S = 24 * 3600.0  # RFC 9309 2.4: a cached robots.txt SHOULD NOT outlive a day
_ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
_MAX_REDIRECTS = 5

Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class FetchedPage:
    """One page as received, after redirects: the bytes and what the server said they are."""

    url: str  # the final URL, after redirects
    content_type: str  # media type only, lower case ("text/html")
    charset: str | None
    body: bytes

    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", "replace")


class PageFetcher:
    """Fetches pages for research under the rules in this module's docstring.

    ``resolver`` is ``socket.getaddrinfo`` (injectable so tests can make a public name point
    at a private address); ``transport`` is an optional httpx transport."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_private: bool = False,
        allowed_types: Collection[str] = DEFAULT_TYPES,
        respect_robots: bool = True,
        max_redirects: int = _MAX_REDIRECTS,
        resolver: Resolver = socket.getaddrinfo,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.allowed_types = frozenset(t.lower() for t in allowed_types)
        self.respect_robots = respect_robots
        self.max_redirects = max_redirects
        self._resolve = resolver
        self._clock = clock
        self._robots: dict[str, tuple[float, RobotFileParser]] = {}
        self._robots_lock = threading.Lock()
        if transport is None and not allow_private:
            # connect only to the addresses check_address allowed (no second DNS answer)
            transport = public_transport(resolver, tls_context())
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,  # each hop is checked here, not followed blindly
            headers={"User-Agent": user_agent},
            transport=transport,
            verify=tls_context(),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PageFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the checks ------------------------------------------------------------------------

    def check_address(self, url: str) -> None:
        """Refuse ``url`` unless it is http(s) and, unless private addresses are allowed,
        every address its host resolves to is public."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"not fetching {url}: only http and https pages are read")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:  # a port out of range or not a number
            raise FetchRefused(f"not fetching {url}: {exc}") from exc
        if self.allow_private:
            return
        try:
            public_addresses(parts.hostname, port, self._resolve)
        except (socket.gaierror, UnicodeError) as exc:
            raise ResearchUnavailable(
                f"cannot resolve {parts.hostname} (fetching {url})", detail=repr(exc)
            ) from exc
        except PrivateAddress as refused:
            raise FetchRefused(_refusal(url, refused)) from None

    def robots_allows(self, url: str) -> bool:
        """Whether robots.txt on ``url``'s host lets our user agent read it."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = self._clock()
        with self._robots_lock:
            cached = self._robots.get(origin)
        if cached is None or now - cached[0] > _ROBOTS_TTL_S:
            parser = self._load_robots(origin)
            with self._robots_lock:
                self._robots[origin] = (now, parser)
        else:
            parser = cached[1]
        return parser.can_fetch(self.user_agent, url)

    def _load_robots(self, origin: str) -> RobotFileParser:
        """Fetch and parse ``origin``/robots.txt the way RFC 9309 2.3.1 says.

        2xx: its rules. 401/403: everything disallowed (the site refuses to say, so we
        stay out, as Python's robotparser and the robots.txt convention before RFC 9309 do).
        Other 4xx: no rules, everything allowed. 5xx or unreachable: everything disallowed
        for now (RFC 9309 2.3.1.4), raised so the caller reports it; not cached, so a
        later fetch tries again."""
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            page = self._get(f"{origin}/robots.txt", accept=None, max_bytes=_ROBOTS_MAX_BYTES,
                             check_robots=False, truncate=True)
        except _HttpStatus as status:
            if status.code in (401, 403):
                parser.parse(["User-agent: *", "Disallow: /"])
            elif 400 <= status.code < 500:
                parser.parse([])  # no rules: everything allowed
            else:
                raise FetchRefused(
                    f"not fetching from {origin}: its robots.txt answered HTTP {status.code}, "
                    "and RFC 9309 asks crawlers to stay out until it answers"
                ) from None
            parser.modified()
            return parser
        parser.parse(page.text().splitlines())
        parser.modified()  # robotparser treats a parser that was never "read" as deny-all
        return parser

    # --- fetching --------------------------------------------------------------------------

    def get(self, url: str) -> FetchedPage:
        """The page at ``url`` after every check; FetchRefused or ResearchUnavailable if not."""
        try:
            return self._get(url, accept=self.allowed_types, max_bytes=self.max_bytes,
                             check_robots=self.respect_robots)
        except _HttpStatus as status:
            if status.code >= 500 or status.code == 429:
                raise ResearchUnavailable(
                    f"{status.url} is unavailable: HTTP {status.code}"
                ) from None
            raise FetchRefused(f"cannot read {status.url}: HTTP {status.code}") from None

    def _get(
        self,
        url: str,
        *,
        accept: Collection[str] | None,
        max_bytes: int,
        check_robots: bool,
        truncate: bool = False,
    ) -> FetchedPage:
        current = url
        for _hop in range(self.max_redirects + 1):
            self.check_address(current)
            if check_robots and not self.robots_allows(current):
                raise FetchRefused(f"not fetching {current}: its robots.txt disallows it")
            headers = {"Accept": ", ".join(sorted(accept)) + ", */*;q=0.1"} if accept else None
            try:
                with self._client.stream("GET", current, headers=headers) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        current = urljoin(current, location)
                        continue
                    if response.status_code >= 400:
                        raise _HttpStatus(current, response.status_code)
                    media_type, charset = _content_type(response)
                    if accept is not None and media_type not in accept:
                        raise FetchRefused(
                            f"not reading {current}: it is {media_type or 'of no stated type'}, "
                            "not a text page"
                        )
                    body = _read(response, max_bytes, truncate)
            except httpx.HTTPError as exc:
                refused = is_refusal(exc)  # the name answered otherwise at connect time
                if refused is not None:
                    raise FetchRefused(_refusal(current, refused)) from None
                reason = describe_error(exc, self.timeout_s)
                raise ResearchUnavailable(
                    f"cannot fetch {current}: {reason}", detail=repr(exc)
                ) from exc
            if body is None:
                raise FetchRefused(f"not reading {current}: larger than {max_bytes} bytes")
            return FetchedPage(url=current, content_type=media_type, charset=charset, body=body)
        raise FetchRefused(f"not fetching {url}: more than {self.max_redirects} redirects")

    def fetch(self, url: str, *, provider: str, title: str = "", language: str = "und",
              license: str = "") -> Document:
        """The page at ``url`` as a :class:`Document` of its main text.

        ``url`` stays the document's URL (what the hit cited) even after redirects.
        Raises FetchRefused when the page has no readable main text."""
        page = self.get(url)
        extracted = to_text(page, language_hint=language)
        if not extracted.text.strip():
            raise FetchRefused(f"nothing readable at {url}: no main text found on the page")
        return Document(
            url=url,
            title=extracted.title or title or page.url,
            text=extracted.text,
            language=extracted.language,
            provider=provider,
            license=license,
            content_type=page.content_type,
            raw=page.text(),
        )


def _refusal(url: str, refused: PrivateAddress) -> str:
    return (f"not fetching {url}: {refused}; set ASSISTANT_FETCH_ALLOW_PRIVATE=true to "
            "allow it")


class _HttpStatus(Exception):
    """An HTTP error status inside the fetch loop; get() decides what it means."""

    def __init__(self, url: str, code: int) -> None:
        super().__init__(f"{url}: HTTP {code}")
        self.url = url
        self.code = code


def _content_type(response: httpx.Response) -> tuple[str, str | None]:
    raw = response.headers.get("content-type", "")
    media_type = raw.split(";", 1)[0].strip().lower()
    return media_type, response.charset_encoding


def _read(response: httpx.Response, max_bytes: int, truncate: bool) -> bytes | None:
    if not truncate:
        return read_capped(response, max_bytes)
    data = bytearray()
    for chunk in response.iter_bytes():
        data.extend(chunk)
        if len(data) >= max_bytes:
            break
    return bytes(data[:max_bytes])


def to_text(page: FetchedPage, *, language_hint: str = "und") -> Extracted:
    """Main text, title and language of a fetched page, by its content type."""
    if page.content_type in HTML_TYPES:
        return html_to_text(page.body, url=page.url, language_hint=language_hint)
    if page.content_type in XML_TYPES:
        return xml_to_text(page.body, language_hint=language_hint)
    return plain_to_text(page.text(), language_hint=language_hint)


def from_settings(settings: object) -> PageFetcher:
    """A PageFetcher configured from the assistant's Settings (read with defaults, so it
    works before every research field exists)."""
    return PageFetcher(
        user_agent=getattr(settings, "research_user_agent", None) or DEFAULT_USER_AGENT,
        timeout_s=float(getattr(settings, "fetch_timeout_s", DEFAULT_TIMEOUT_S)),
        max_bytes=int(getattr(settings, "fetch_max_bytes", DEFAULT_MAX_BYTES)),
        allow_private=bool(getattr(settings, "fetch_allow_private", False)),
    )
