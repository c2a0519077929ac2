"""The wikipedia provider against a MediaWiki stand-in (API:Search + TextExtracts, v2)."""

from __future__ import annotations

import json

import pytest
from conftest import ARTICLES, TEST_UA
from pytest_httpserver import HTTPServer
from research_standins import MediaWikiStandIn

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.tools.research import wikipedia
from assistant.tools.research.base import Hit
from assistant.tools.research.wikipedia import WikipediaRetriever, article_url, strip_markup


def base_of(server: HTTPServer) -> str:
    return server.url_for("/{lang}").replace("%7B", "{").replace("%7D", "}")


@pytest.fixture
def wiki(server: HTTPServer, mediawiki: MediaWikiStandIn) -> WikipediaRetriever:
    return WikipediaRetriever(base_url=base_of(server), user_agent=TEST_UA)


def test_search_sends_the_documented_parameters(wiki: WikipediaRetriever,
                                                mediawiki: MediaWikiStandIn):
    wiki.search("octopus colour", 3)
    assert mediawiki.requests[-1] == {
        "action": "query", "list": "search", "srsearch": "octopus colour", "srlimit": "3",
        "format": "json", "formatversion": "2",
    }


def test_hits_link_to_the_article_on_the_configured_wiki(server: HTTPServer,
                                                         wiki: WikipediaRetriever):
    hits = wiki.search("octopus colour", 5)
    assert [h.title for h in hits] == ["Octopus", "Common octopus", "Chromatophore"]
    assert hits[1].url == server.url_for("/en/wiki/Common_octopus")
    assert [h.rank for h in hits] == [0, 1, 2]
    assert all(h.language == "en" and h.provider == "wikipedia" for h in hits)


def test_snippets_lose_their_searchmatch_markup(wiki: WikipediaRetriever):
    hit = wiki.search("octopus colour", 1)[0]
    assert "<span" not in hit.snippet and "searchmatch" not in hit.snippet
    assert hit.snippet.startswith("An octopus is a soft-bodied")
    assert strip_markup('A <span class="searchmatch">heat</span> pump &amp; its &quot;COP&quot;'
                        ) == 'A heat pump & its "COP"'


def test_the_language_picks_the_edition(server: HTTPServer, wiki: WikipediaRetriever):
    hit = wiki.search("pulpo", 5, language="es")[0]
    assert hit.url == server.url_for("/es/wiki/Pulpo") and hit.language == "es"
    doc = wiki.fetch(hit)
    assert doc.language == "es" and "molusco" in doc.text


def test_fetch_reads_the_plain_text_extract(wiki: WikipediaRetriever, mediawiki: MediaWikiStandIn):
    hit = wiki.search("octopus colour", 1)[0]
    doc = wiki.fetch(hit)
    assert mediawiki.requests[-1] == {
        "action": "query", "prop": "extracts", "explaintext": "1", "titles": "Octopus",
        "format": "json", "formatversion": "2", "redirects": "1",
    }
    assert doc.text == ARTICLES["Octopus"]
    assert doc.license == "CC BY-SA 4.0 (Wikipedia)"
    assert doc.content_type == "text/plain"
    assert json.loads(doc.raw)["query"]["pages"][0]["title"] == "Octopus"


def test_fetch_follows_a_redirect_title(server: HTTPServer, wiki: WikipediaRetriever):
    hit = Hit(url=server.url_for("/en/wiki/Octopi"), title="Octopi", provider="wikipedia",
              language="en")
    doc = wiki.fetch(hit)
    assert doc.title == "Octopus" and doc.url == hit.url


def test_a_missing_article_is_refused(server: HTTPServer, wiki: WikipediaRetriever):
    hit = Hit(url=server.url_for("/en/wiki/Zorvath"), title="Zorvath", provider="wikipedia",
              language="en")
    with pytest.raises(FetchRefused) as caught:
        wiki.fetch(hit)
    assert "no article titled 'Zorvath'" in caught.value.user_message


def test_an_api_error_object_is_one_line_unavailable(server: HTTPServer,
                                                     wiki: WikipediaRetriever):
    # MediaWiki reports a bad request as HTTP 200 with an error object; the stand-in
    # rejects srlimit=0 the same way, which the provider itself never sends.
    with pytest.raises(ResearchUnavailable) as caught:
        wiki._query(wikipedia.site_url(wiki.base_url, "en"), {
            "action": "query", "list": "search", "srsearch": "x", "srlimit": "0",
            "format": "json", "formatversion": "2"})
    message = caught.value.user_message
    assert "API error badinteger" in message and "ASSISTANT_WIKIPEDIA_URL" in message
    assert "\n" not in message


def test_an_anonymous_user_agent_is_turned_away(server: HTTPServer,
                                                mediawiki: MediaWikiStandIn):
    anonymous = WikipediaRetriever(base_url=base_of(server), user_agent="python-httpx/0.28")
    with pytest.raises(ResearchUnavailable) as caught:
        anonymous.search("octopus", 3)
    assert "HTTP 403" in caught.value.user_message


def test_a_server_error_is_unavailable(server: HTTPServer):
    server.expect_request("/en/w/api.php").respond_with_data("upstream timeout", status=503)
    with pytest.raises(ResearchUnavailable) as caught:
        WikipediaRetriever(base_url=base_of(server), user_agent=TEST_UA).search("octopus", 3)
    assert caught.value.user_message.endswith("HTTP 503")


def test_article_urls_are_the_ones_wikipedia_links_to():
    site = "https://en.wikipedia.org"
    assert article_url(site, "Octopus") == "https://en.wikipedia.org/wiki/Octopus"
    assert article_url(site, "Heat pump") == "https://en.wikipedia.org/wiki/Heat_pump"
    assert article_url(site, "C (programming language)") == \
        "https://en.wikipedia.org/wiki/C_(programming_language)"
    assert article_url(site, "Café") == "https://en.wikipedia.org/wiki/Caf%C3%A9"
    assert article_url(site, "AC/DC") == "https://en.wikipedia.org/wiki/AC/DC"
    assert article_url(site, "What?") == "https://en.wikipedia.org/wiki/What%3F"
    assert wikipedia.site_url("https://{lang}.wikipedia.org/", "fr") == "https://fr.wikipedia.org"


def test_from_settings_reads_the_url_template_and_user_agent():
    class Settings:
        wikipedia_url = "http://127.0.0.1:9/{lang}"
        research_user_agent = "Lab-Test/1.0"
        fetch_timeout_s = 3

    assert wikipedia.from_settings(Settings()).base_url == "http://127.0.0.1:9/{lang}"
    assert wikipedia.from_settings(object()).base_url == "https://{lang}.wikipedia.org"
