"""PageFetcher: what it reads, what it refuses, and that every refusal is one clear line."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import ROBOTS_TXT, TEST_UA
from pytest_httpserver import HTTPServer
from research_web_standins import BOILERPLATE_MARKERS, WEB_PAGES
from werkzeug import Request, Response

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.tools.research import fetch as fetching
from assistant.tools.research.fetch import PageFetcher

OCTOPUS, _, _, PULPO = WEB_PAGES


def one_line(exc: pytest.ExceptionInfo[Any]) -> str:
    message = exc.value.user_message
    assert message and "\n" not in message and "Traceback" not in message
    return str(message)


@pytest.fixture
def strict() -> Iterator[PageFetcher]:
    """The production default: private addresses refused."""
    page_fetcher = PageFetcher(user_agent=TEST_UA, timeout_s=2)
    yield page_fetcher
    page_fetcher.close()


def robots_requests(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == "/robots.txt")


# --- reading ----------------------------------------------------------------------------------


def test_main_text_is_kept_and_the_boilerplate_dropped(web: HTTPServer, fetcher: PageFetcher):
    doc = fetcher.fetch(web.url_for(OCTOPUS.path), provider="searxng")
    assert "chromatophores" in doc.text and "iridophores reflect light" in doc.text
    for marker in BOILERPLATE_MARKERS:
        assert marker not in doc.text, marker
    assert doc.title == OCTOPUS.title
    assert doc.language == "en"
    assert doc.content_type == "text/html"
    assert doc.provider == "searxng"
    assert "cookie-banner" in doc.raw, "raw keeps the page as received, for the artifact"


def test_the_language_is_detected_from_the_text(web: HTTPServer, fetcher: PageFetcher):
    doc = fetcher.fetch(web.url_for(PULPO.path), provider="searxng", language="en")
    assert doc.language == "es"


def test_the_user_agent_is_sent(server: HTTPServer):
    server.expect_request("/robots.txt", headers={"User-Agent": "Custom-Bot/2.0"}) \
        .respond_with_data("", content_type="text/plain")
    server.expect_request("/ua", headers={"User-Agent": "Custom-Bot/2.0"}).respond_with_data(
        "A page that only answers our own user agent, with enough words to detect.",
        content_type="text/plain",
    )
    with PageFetcher(user_agent="Custom-Bot/2.0", allow_private=True) as page_fetcher:
        doc = page_fetcher.fetch(server.url_for("/ua"), provider="web")
    assert doc.text.startswith("A page that only answers")


def test_plain_text_and_xml_are_read(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/notes.txt").respond_with_data(
        "Octopus notes\nThey have three hearts and blue blood.", content_type="text/plain")
    web.expect_request("/feed.xml").respond_with_data(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Sea news'
        "</title><entry><title>Octopus</title><summary>Octopuses have blue blood."
        "</summary></entry></feed>", content_type="application/atom+xml")
    notes = fetcher.fetch(web.url_for("/notes.txt"), provider="web")
    assert notes.title == "Octopus notes" and "three hearts" in notes.text
    feed = fetcher.fetch(web.url_for("/feed.xml"), provider="web")
    assert feed.title == "Sea news" and "blue blood" in feed.text


def test_redirects_are_followed_and_the_hit_url_kept(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": OCTOPUS.path})
    doc = fetcher.fetch(web.url_for("/old"), provider="web")
    assert doc.url == web.url_for("/old")
    assert "chromatophores" in doc.text


def test_a_page_without_main_text_is_refused(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/shell").respond_with_data(
        "<html><body><div id='app'></div><script>render()</script></body></html>",
        content_type="text/html")
    with pytest.raises(FetchRefused) as caught:
        fetcher.fetch(web.url_for("/shell"), provider="web")
    assert "no main text" in one_line(caught)


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_disallowed_paths_are_refused(web: HTTPServer, fetcher: PageFetcher):
    with pytest.raises(FetchRefused) as caught:
        fetcher.get(web.url_for("/private/report"))
    assert "robots.txt" in one_line(caught)
    assert not any(request.path == "/private/report" for request, _ in web.log)


def test_robots_rules_for_another_agent_do_not_apply(web: HTTPServer, fetcher: PageFetcher):
    assert "BadBot" in ROBOTS_TXT
    assert fetcher.get(web.url_for(OCTOPUS.path)).content_type == "text/html"
    with PageFetcher(user_agent="BadBot/1.0", allow_private=True) as bad_bot, \
            pytest.raises(FetchRefused):
        bad_bot.get(web.url_for(OCTOPUS.path))


def test_robots_txt_is_fetched_once_per_host(web: HTTPServer, fetcher: PageFetcher):
    for page in WEB_PAGES:
        fetcher.get(web.url_for(page.path))
    assert robots_requests(web) == 1


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (410, True), (401, False),
                                                 (403, False)])
def test_robots_txt_errors_as_rfc_9309_and_robotparser_read_them(
    server: HTTPServer, fetcher: PageFetcher, status: int, allowed: bool
):
    server.expect_request("/robots.txt").respond_with_data("no", status=status)
    server.expect_request("/page").respond_with_data(
        "A readable page about octopus colour change.", content_type="text/plain")
    if allowed:
        assert fetcher.get(server.url_for("/page")).body.startswith(b"A readable page")
    else:
        with pytest.raises(FetchRefused):
            fetcher.get(server.url_for("/page"))


def test_robots_txt_server_error_means_stay_out_and_ask_again(
    server: HTTPServer, fetcher: PageFetcher
):
    server.expect_request("/robots.txt").respond_with_data("busy", status=503)
    server.expect_request("/page").respond_with_data("text", content_type="text/plain")
    for _ in range(2):
        with pytest.raises(FetchRefused) as caught:
            fetcher.get(server.url_for("/page"))
        assert "robots.txt answered HTTP 503" in one_line(caught)
    assert robots_requests(server) == 2, "an unreachable robots.txt is not cached"
    assert not any(request.path == "/page" for request, _ in server.log)


# --- private addresses --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/admin", "http://[::1]/", "http://10.1.2.3/",
    "http://192.168.0.1/router", "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://100.64.0.1/",
    "http://2130706433/",  # 127.0.0.1 written as one number
])
def test_private_loopback_and_link_local_addresses_are_refused(strict: PageFetcher, url: str):
    with pytest.raises(FetchRefused) as caught:
        strict.get(url)
    assert "ASSISTANT_FETCH_ALLOW_PRIVATE" in one_line(caught)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/",
                                 "http:///nohost"])
def test_only_http_and_https_are_read(strict: PageFetcher, url: str):
    with pytest.raises(FetchRefused):
        strict.get(url)


def lying_resolver(public_name: str) -> Any:
    """getaddrinfo, except that ``public_name`` claims a public address (93.184.215.14).
    With a plain transport (which resolves the name itself) the connection still goes to the
    local server: the way a public site that redirects inward looks to the fetcher."""

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host == public_name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return socket.getaddrinfo(host, port, *args, **kwargs)

    return resolve


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/internal",
                                    "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_a_private_address_is_refused(server: HTTPServer, target: str):
    server.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    server.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": target.format(port=server.port)})
    server.expect_request("/internal").respond_with_data("secret", content_type="text/plain")
    public = f"http://localhost:{server.port}/go"
    with PageFetcher(user_agent=TEST_UA, resolver=lying_resolver("localhost"),
                     transport=httpx.HTTPTransport()) as page_fetcher, \
            pytest.raises(FetchRefused) as caught:
        page_fetcher.get(public)
    assert "private or local address" in one_line(caught)
    assert [request.path for request, _ in server.log] == ["/robots.txt", "/go"]


def test_a_name_that_answers_a_private_address_at_connect_time_is_refused(server: HTTPServer):
    """DNS rebinding: the name is public when checked and 127.0.0.1 when connected to. The
    fetcher connects only to an address it checked, so the local server sees nothing."""
    server.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    server.expect_request("/internal").respond_with_data("secret", content_type="text/plain")
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 0))]])

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        first = next(answers, None)  # public once (the check), loopback ever after
        return first or [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    with PageFetcher(user_agent=TEST_UA, resolver=rebinding, respect_robots=False) as fetcher, \
            pytest.raises(FetchRefused) as caught:
        fetcher.get(f"http://rebind.example:{server.port}/internal")
    assert "private or local address (127.0.0.1)" in one_line(caught)
    assert server.log == []


def test_an_unresolvable_host_is_unavailable(strict: PageFetcher):
    def no_dns(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    strict._resolve = no_dns
    with pytest.raises(ResearchUnavailable) as caught:
        strict.get("https://no-such-host.invalid/")
    assert "cannot resolve" in one_line(caught)


# --- sizes, types, statuses -------------------------------------------------------------------


def test_an_oversize_page_is_refused(web: HTTPServer):
    web.expect_request("/big").respond_with_data("x" * 5000, content_type="text/plain")
    with PageFetcher(user_agent=TEST_UA, max_bytes=1000, allow_private=True) as small, \
            pytest.raises(FetchRefused) as caught:
        small.get(web.url_for("/big"))
    assert "larger than 1000 bytes" in one_line(caught)


def test_an_oversize_stream_without_length_is_cut_off(web: HTTPServer):
    def endless(request: Request) -> Response:
        chunks = (b"octopus " * 128 for _ in range(10_000))  # ~10 MB, chunked, no length
        return Response(chunks, content_type="text/plain")

    web.expect_request("/stream").respond_with_handler(endless)
    with PageFetcher(user_agent=TEST_UA, max_bytes=4096, allow_private=True) as small, \
            pytest.raises(FetchRefused):
        small.get(web.url_for("/stream"))


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png",
                                          "application/octet-stream", "application/zip", ""])
def test_binary_content_types_are_refused(web: HTTPServer, fetcher: PageFetcher,
                                           content_type: str):
    web.expect_request("/file").respond_with_data(b"%PDF-1.7 binary", content_type=content_type)
    with pytest.raises(FetchRefused) as caught:
        fetcher.get(web.url_for("/file"))
    assert "not a text page" in one_line(caught)


def test_a_server_error_is_research_unavailable(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/broken").respond_with_data(
        "Traceback (most recent call last):\n  boom", status=500)
    with pytest.raises(ResearchUnavailable) as caught:
        fetcher.get(web.url_for("/broken"))
    assert one_line(caught).endswith("HTTP 500")


def test_a_missing_page_is_refused(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/gone").respond_with_data("not here", status=404)
    with pytest.raises(FetchRefused) as caught:
        fetcher.get(web.url_for("/gone"))
    assert "HTTP 404" in one_line(caught)


def test_a_redirect_loop_is_refused(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchRefused) as caught:
        fetcher.get(web.url_for("/loop"))
    assert "redirects" in one_line(caught)


def test_a_closed_port_is_unavailable(closed_url: str, fetcher: PageFetcher):
    with pytest.raises(ResearchUnavailable) as caught:
        fetcher.get(closed_url + "/page")
    assert "cannot connect" in one_line(caught)


def test_a_slow_page_times_out(web: HTTPServer):
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late", content_type="text/plain")

    web.expect_request("/slow").respond_with_handler(slow)
    with PageFetcher(user_agent=TEST_UA, timeout_s=0.3, allow_private=True) as impatient, \
            pytest.raises(ResearchUnavailable) as caught:
        impatient.get(web.url_for("/slow"))
    assert "no answer within 0.3 s" in one_line(caught)


def test_from_settings_reads_the_fetch_fields() -> None:
    class Settings:
        research_user_agent = "Lab-Test/1.0"
        fetch_timeout_s = 4
        fetch_max_bytes = 1234
        fetch_allow_private = True

    configured = fetching.from_settings(Settings())
    assert (configured.user_agent, configured.timeout_s, configured.max_bytes,
            configured.allow_private) == ("Lab-Test/1.0", 4.0, 1234, True)
    defaults = fetching.from_settings(object())
    assert defaults.user_agent.startswith("AgenticAI-Lab/") and not defaults.allow_private
    assert (defaults.timeout_s, defaults.max_bytes) == (10.0, 2_000_000)
