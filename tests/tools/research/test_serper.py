"""The serper provider against a Serper stand-in that checks the key and the JSON body."""

from __future__ import annotations

import pytest
from conftest import SERPER_KEY, TEST_UA
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from research_web_standins import WEB_PAGES, SerperStandIn

from assistant.errors import ConfigError, ResearchUnavailable
from assistant.tools.research import serper
from assistant.tools.research.fetch import PageFetcher
from assistant.tools.research.serper import SerperRetriever, organic_to_hits


@pytest.fixture
def google(web: HTTPServer, serper_standin: SerperStandIn, fetcher: PageFetcher
           ) -> SerperRetriever:
    return SerperRetriever(api_key=SERPER_KEY, fetcher=fetcher,
                           base_url=web.url_for("/serper"), user_agent=TEST_UA)


def test_search_posts_the_documented_body(google: SerperRetriever,
                                          serper_standin: SerperStandIn):
    google.search("octopus", 2, language="en")
    assert serper_standin.requests[-1] == {"q": "octopus", "num": 2, "hl": "en"}


def test_organic_results_are_ranked_by_position(web: HTTPServer, google: SerperRetriever):
    hits = google.search("octopus", 10)
    assert [h.url for h in hits] == [web.url_for(p.path) for p in WEB_PAGES[:3]]
    assert [h.extra["position"] for h in hits] == ["1", "2", "3"]
    assert [h.rank for h in hits] == [0, 1, 2]


def test_fetch_reads_the_result_page(google: SerperRetriever):
    doc = google.fetch(google.search("octopus camouflage", 1)[0])
    assert "papillae" in doc.text and doc.provider == "serper"


def test_a_refused_key_names_the_setting_not_the_key(web: HTTPServer,
                                                     serper_standin: SerperStandIn,
                                                     fetcher: PageFetcher):
    wrong = SerperRetriever(api_key="not-the-key", fetcher=fetcher,
                            base_url=web.url_for("/serper"))
    with pytest.raises(ResearchUnavailable) as caught:
        wrong.search("octopus")
    message = caught.value.user_message
    assert "HTTP 403" in message and "ASSISTANT_SERPER_API_KEY" in message
    assert "not-the-key" not in message and "not-the-key" not in str(caught.value)


def test_a_missing_key_is_a_config_error(fetcher: PageFetcher):
    with pytest.raises(ConfigError) as caught:
        SerperRetriever(api_key=" ", fetcher=fetcher)
    assert caught.value.user_message.startswith("ASSISTANT_SERPER_API_KEY is not set")
    with pytest.raises(ConfigError):
        serper.from_settings(object())


def test_from_settings_reads_a_secret_key():
    class Settings:
        serper_api_key = SecretStr("k-123")
        serper_url = "http://127.0.0.1:9"

    configured = serper.from_settings(Settings())
    assert configured.base_url == "http://127.0.0.1:9" and configured._key == "k-123"


def test_answers_without_organic_results_are_empty():
    assert organic_to_hits({"searchParameters": {}, "credits": 1}, provider="serper",
                           language="en", limit=5) == []
    data = {"organic": [{"title": "B", "link": "https://b.example/", "position": 2},
                        {"title": "A", "link": "https://a.example/", "position": 1},
                        {"title": "no link", "position": 3}]}
    hits = organic_to_hits(data, provider="serper", language="en", limit=5)
    assert [h.title for h in hits] == ["A", "B"]
