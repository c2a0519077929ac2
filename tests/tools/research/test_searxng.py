"""The searxng provider against a SearXNG stand-in, with pages read through the fetcher."""

from __future__ import annotations

import pytest
from conftest import TEST_UA, page_url
from pytest_httpserver import HTTPServer
from research_web_standins import BOILERPLATE_MARKERS, WEB_PAGES, SearxngStandIn

from assistant.errors import ConfigError, FetchRefused, ResearchUnavailable
from assistant.tools.research import searxng
from assistant.tools.research.fetch import PageFetcher
from assistant.tools.research.searxng import SearxngRetriever, results_to_hits


@pytest.fixture
def engine(web: HTTPServer, searxng_standin: SearxngStandIn, fetcher: PageFetcher
           ) -> SearxngRetriever:
    return SearxngRetriever(base_url=web.url_for("/searxng/"), fetcher=fetcher,
                            user_agent=TEST_UA)


def test_search_asks_for_json_in_the_language(engine: SearxngRetriever,
                                              searxng_standin: SearxngStandIn):
    engine.search("octopus", 2, language="en")
    assert searxng_standin.requests[-1] == {"q": "octopus", "format": "json", "language": "en"}


def test_results_become_hits_in_searxng_order(web: HTTPServer, engine: SearxngRetriever):
    hits = engine.search("octopus", 10)
    assert [h.url for h in hits] == [web.url_for(p.path) for p in WEB_PAGES[:3]]
    assert hits[0].snippet.startswith("Octopuses change colour")
    assert hits[0].extra == {"engine": "duckduckgo"}
    spanish = engine.search("pulpo", 10, language="es")
    assert [h.title for h in spanish] == ["Cómo cambia de color el pulpo"]


def test_fetch_reads_the_result_page(engine: SearxngRetriever):
    doc = engine.fetch(engine.search("octopus", 1)[0])
    assert "radial muscles" in doc.text
    assert not any(marker in doc.text for marker in BOILERPLATE_MARKERS)


def test_fetch_respects_the_page_sites_robots(web: HTTPServer, fetcher: PageFetcher):
    standin = SearxngStandIn(WEB_PAGES, lambda p: web.url_for("/private" + p.path))
    web.expect_request("/other/search").respond_with_handler(standin)
    engine = SearxngRetriever(base_url=web.url_for("/other"), fetcher=fetcher)
    with pytest.raises(FetchRefused):
        engine.fetch(engine.search("octopus", 1)[0])


def test_an_instance_without_json_says_how_to_enable_it(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/nojson/search").respond_with_handler(
        SearxngStandIn(WEB_PAGES, page_url(web), json_enabled=False))
    with pytest.raises(ResearchUnavailable) as caught:
        SearxngRetriever(base_url=web.url_for("/nojson"), fetcher=fetcher).search("octopus")
    assert "HTTP 403" in caught.value.user_message
    assert "search.formats in its settings.yml" in caught.value.user_message


def test_a_server_error_is_unavailable(web: HTTPServer, fetcher: PageFetcher):
    web.expect_request("/down/search").respond_with_data("Internal Server Error", status=500)
    with pytest.raises(ResearchUnavailable) as caught:
        SearxngRetriever(base_url=web.url_for("/down"), fetcher=fetcher).search("octopus")
    assert "ASSISTANT_SEARXNG_URL" in caught.value.user_message


def test_results_that_are_not_web_pages_are_skipped():
    data = {"results": [{"url": "magnet:?xt=urn:btih:abc", "title": "torrent"},
                        {"url": "https://example.org/a", "title": "A", "content": "a"},
                        "junk", {"title": "no url"}]}
    hits = results_to_hits(data, provider="searxng", language="en", limit=5)
    assert [(h.url, h.rank) for h in hits] == [("https://example.org/a", 0)]
    assert results_to_hits({"results": None}, provider="searxng", language="en", limit=5) == []


def test_an_empty_url_setting_is_a_config_error(fetcher: PageFetcher):
    with pytest.raises(ConfigError) as caught:
        searxng.from_settings(object(), fetcher=fetcher)
    assert caught.value.user_message.startswith("ASSISTANT_SEARXNG_URL is not set")


def test_from_settings_reads_the_url():
    class Settings:
        searxng_url = "http://127.0.0.1:8888/"
        fetch_allow_private = True

    configured = searxng.from_settings(Settings())
    assert configured.base_url == "http://127.0.0.1:8888"
    assert configured.fetcher.allow_private
