"""The ddg provider: every result shape ddgs releases have used, and its failures."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import DownDDGS, FakeDDGS, page_url
from pytest_httpserver import HTTPServer
from research_web_standins import WEB_PAGES

from assistant.errors import ResearchUnavailable
from assistant.tools.research import ddg
from assistant.tools.research.ddg import DdgRetriever, normalise_result
from assistant.tools.research.fetch import PageFetcher

URL = "https://en.wikipedia.org/wiki/Octopus"

# Result dicts as different releases returned them (recorded shapes, values shortened).
RECORDED = {
    # ddgs 9.x text(): TextResult(title, href, body) as a dict (ddgs/results.py).
    "ddgs-9-text": {"title": "Octopus - Wikipedia", "href": URL,
                    "body": "An octopus is a soft-bodied, eight-limbed mollusc."},
    # duckduckgo_search 3.x-8.x DDGS().text(): the same three keys.
    "duckduckgo_search-text": {"title": "Octopus - Wikipedia", "href": URL,
                               "body": "An octopus is a soft-bodied, eight-limbed mollusc."},
    # duckduckgo_search news() and ddgs news(): url + body, plus date/source/image.
    "news": {"date": "2024-05-01T10:00:00+00:00", "title": "Octopus - Wikipedia",
             "body": "An octopus is a soft-bodied, eight-limbed mollusc.", "url": URL,
             "image": "https://example.org/i.jpg", "source": "Example News"},
    # Wrapper style (LangChain's DuckDuckGoSearchAPIWrapper.results): link + snippet.
    "link-snippet": {"title": "Octopus - Wikipedia", "link": URL,
                     "snippet": "An octopus is a soft-bodied, eight-limbed mollusc."},
    # Instant-answer style: url + description.
    "url-description": {"heading": "Octopus - Wikipedia", "url": URL,
                        "description": "An octopus is a soft-bodied, eight-limbed mollusc."},
}


@pytest.mark.parametrize("shape", sorted(RECORDED))
def test_every_recorded_shape_normalises_the_same(shape: str):
    assert normalise_result(RECORDED[shape]) == (
        URL, "Octopus - Wikipedia", "An octopus is a soft-bodied, eight-limbed mollusc.")


def test_results_without_a_web_url_are_dropped():
    assert normalise_result({"title": "x", "href": "javascript:alert(1)"}) is None
    assert normalise_result({"title": "x", "body": "no url"}) is None
    assert normalise_result({"href": URL}) == (URL, URL, "")


def test_search_asks_for_the_region_and_limit(web: HTTPServer, fetcher: PageFetcher):
    client = FakeDDGS(list(WEB_PAGES), page_url(web))
    retriever = DdgRetriever(fetcher=fetcher, client=client)
    assert len(retriever.search("octopus", 2, language="fr")) == 2
    assert client.calls[-1] == ("octopus", {"region": "fr-fr", "max_results": 2})
    retriever.search("octopus", 2, language="xx")
    assert client.calls[-1][1]["region"] == "wt-wt"


def test_mixed_shapes_in_one_answer_all_become_hits(fetcher: PageFetcher):
    class Mixed:
        def text(self, query: str, **kwargs: Any) -> list[dict[str, str]]:
            return [RECORDED["ddgs-9-text"], {"title": "bad"}, RECORDED["link-snippet"]]

    hits = DdgRetriever(fetcher=fetcher, client=Mixed()).search("octopus", 5)
    assert [(h.rank, h.url, h.provider) for h in hits] == [(0, URL, "ddg"), (1, URL, "ddg")]


def test_a_ratelimit_is_one_line_of_research_unavailable(fetcher: PageFetcher):
    with pytest.raises(ResearchUnavailable) as caught:
        DdgRetriever(fetcher=fetcher, client=DownDDGS()).search("octopus")
    assert caught.value.user_message == (
        "DuckDuckGo search (ddgs) failed: RatelimitException: "
        "https://lite.duckduckgo.com/lite/ 202 Ratelimit")


def test_the_real_client_is_made_from_the_installed_ddgs():
    pytest.importorskip("ddgs")
    client = ddg.default_client(3.0)
    assert type(client).__module__.startswith("ddgs")
    assert callable(client.text)
