"""HTTP plumbing shared by the online providers: one client, capped reads, one-line errors.

A provider talks to a *configured* service (a MediaWiki, arXiv, a SearXNG the operator runs),
so unlike :class:`~assistant.tools.research.fetch.PageFetcher` it follows that service's
redirects and does not refuse private addresses: a self-hosted SearXNG on localhost is the
normal case. What both share is that a failure reaches the user as one line naming the
service and the setting to check, never as an httpx traceback.
"""

from __future__ import annotations

import functools
import json
import ssl
from typing import Any, ClassVar, TypedDict, Unpack

import httpx

from assistant.errors import ResearchUnavailable

DEFAULT_USER_AGENT = "AgenticAI-Lab/0.1 (+https://github.com/agenticai-lab; research bot)"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BYTES = 2_000_000


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context (httpx's default: certifi's CA bundle) for every client.

    Building one loads the CA bundle and costs ~0.15 s; providers and fetchers each hold a
    client, so they share this instead. An SSLContext is safe to share between threads."""
    return httpx.create_ssl_context()


def describe_error(exc: httpx.HTTPError, timeout_s: float) -> str:
    """A few words for the user about why a request failed (no stack, no headers)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body of a streamed response, or None once it grows past ``max_bytes``.

    Reading stops at the cap, so a hostile or broken server cannot make us hold more
    than ``max_bytes`` (plus one chunk) in memory."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class ApiClient:
    """Calls one configured service and turns every failure into ResearchUnavailable.

    ``service`` and ``setting`` name the service and its URL setting in messages
    ("Wikipedia is unavailable at https://en.wikipedia.org (ASSISTANT_WIKIPEDIA_URL): ...").
    ``transport`` lets tests mount an httpx transport; normally it stays None.
    """

    def __init__(
        self,
        *,
        service: str,
        setting: str,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.setting = setting
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": user_agent},
            transport=transport,
            verify=tls_context(),
        )

    def close(self) -> None:
        self._client.close()

    def unavailable(
        self, where: str, reason: str, *, detail: str | None = None
    ) -> ResearchUnavailable:
        """The one-line error every failure of this service becomes."""
        return ResearchUnavailable(
            f"{self.service} is unavailable at {where} ({self.setting}): {reason}",
            detail=detail,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        check_status: bool = True,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request; return the response and its (capped) body.

        Raises ResearchUnavailable on a network failure, a body over ``max_bytes`` and,
        unless ``check_status`` is False (the caller explains some statuses itself), an
        HTTP error status. The caller parses the body and raises on a malformed one."""
        try:
            with self._client.stream(
                method, url, params=params, json=json_body, headers=headers
            ) as response:
                body = read_capped(response, self.max_bytes)
        except httpx.HTTPError as exc:
            reason = describe_error(exc, self.timeout_s)
            raise self.unavailable(url, reason, detail=repr(exc)) from exc
        if body is None:
            raise self.unavailable(url, f"answer larger than {self.max_bytes} bytes")
        if check_status and response.status_code >= 400:
            detail = body[:500].decode("utf-8", "replace")
            raise self.unavailable(url, f"HTTP {response.status_code}", detail=detail)
        return response, body

    def get_json(self, url: str, params: dict[str, str]) -> tuple[Any, str]:
        """GET ``url`` and decode its JSON answer; also return the text as received."""
        _, body = self.request("GET", url, params=params)
        return self.decode_json(url, body)

    def decode_json(self, url: str, body: bytes) -> tuple[Any, str]:
        text = body.decode("utf-8", "replace")
        try:
            return json.loads(text), text
        except ValueError as exc:
            raise self.unavailable(url, "the answer is not JSON", detail=text[:500]) from exc


class HttpOptions(TypedDict, total=False):
    """How an online provider talks HTTP (each has a default; tests pass ``transport``)."""

    user_agent: str
    timeout_s: float
    max_bytes: int
    transport: httpx.BaseTransport | None


class OnlineProvider:
    """What every online provider shares: one :class:`ApiClient` for its service (named in
    its errors with its URL setting), closed with the provider.

    A provider sets ``service`` and ``setting`` and passes its :class:`HttpOptions` on:
    ``def __init__(self, *, base_url: str, **http: Unpack[HttpOptions])`` then
    ``super().__init__(**http)``.
    """

    name: str
    service: ClassVar[str]
    setting: ClassVar[str]

    def __init__(self, **http: Unpack[HttpOptions]) -> None:
        self._api = ApiClient(service=self.service, setting=self.setting, **http)

    def close(self) -> None:
        self._api.close()
