"""The arxiv provider against an arXiv API stand-in (Atom feeds, error feeds, the 3 s rule)."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest
from conftest import PAPERS, TEST_UA, FakeClock
from pytest_httpserver import HTTPServer
from research_standins import ArxivStandIn, arxiv_error_feed

from assistant.errors import FetchRefused, ResearchUnavailable
from assistant.tools.research import arxiv
from assistant.tools.research.arxiv import ArxivRetriever, RateLimiter, search_query
from assistant.tools.research.base import Hit


@pytest.fixture
def limiter(fake_clock: FakeClock) -> RateLimiter:
    return RateLimiter(3.0, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.fixture
def papers(server: HTTPServer, arxiv_standin: ArxivStandIn, limiter: RateLimiter
           ) -> ArxivRetriever:
    return ArxivRetriever(base_url=server.url_for("/api/query"), user_agent=TEST_UA,
                          rate_limiter=limiter)


def test_the_query_is_every_meaningful_word_anded():
    assert search_query("How do octopuses change colour?") == \
        "all:octopuses AND all:change AND all:colour"
    assert search_query('ti:"x" OR (au:y)') == "all:ti AND all:x AND all:au AND all:y"
    assert search_query("the of and") == ""


def test_search_sends_the_documented_parameters(papers: ArxivRetriever,
                                                arxiv_standin: ArxivStandIn):
    papers.search("octopus colour change", 2)
    assert arxiv_standin.requests[-1] == {
        "search_query": "all:octopus AND all:colour AND all:change", "start": "0",
        "max_results": "2"}


def test_entries_become_hits_with_their_metadata(papers: ArxivRetriever):
    hits = papers.search("octopus colour change", 5)
    assert [h.title for h in hits] == [p.title for p in PAPERS[:3]]
    first = hits[0]
    assert first.url == "http://arxiv.org/abs/2101.00001v2"
    assert first.snippet == PAPERS[0].summary, "hard-wrapped abstract collapsed to one line"
    assert first.extra["arxiv_id"] == "2101.00001v2"
    assert first.extra["authors"] == "A. Researcher; B. Scientist"
    assert first.extra["published"] == "2021-01-01"
    entry = ET.fromstring(first.extra["atom"])  # the entry as received, for the artifact
    assert entry.findtext(f"{arxiv.ATOM}id") == "http://arxiv.org/abs/2101.00001v2"


def test_fetch_builds_the_abstract_without_another_request(papers: ArxivRetriever,
                                                           arxiv_standin: ArxivStandIn):
    hit = papers.search("octopus colour change", 1)[0]
    before = len(arxiv_standin.requests)
    doc = papers.fetch(hit)
    assert len(arxiv_standin.requests) == before
    assert doc.text.splitlines()[:3] == [
        PAPERS[0].title, "Authors: A. Researcher, B. Scientist", "Published: 2021-01-01"]
    assert doc.text.endswith(PAPERS[0].summary)
    assert doc.language == "en" and doc.license == "arXiv metadata, CC0 1.0"
    assert "2101.00001v2" in doc.raw


def test_fetch_looks_a_bare_hit_up_by_id(papers: ArxivRetriever, arxiv_standin: ArxivStandIn):
    hit = Hit(url="https://arxiv.org/abs/2102.00002", title="?", provider="arxiv")
    doc = papers.fetch(hit)
    assert arxiv_standin.requests[-1]["id_list"] == "2102.00002"
    assert doc.title == PAPERS[1].title and doc.url == hit.url
    with pytest.raises(FetchRefused):
        papers.fetch(Hit(url="https://arxiv.org/abs/9999.99999", title="?", provider="arxiv"))


def test_an_error_feed_is_research_unavailable(server: HTTPServer, limiter: RateLimiter):
    server.expect_request("/bad/query").respond_with_data(
        arxiv_error_feed("incorrect id format for 1234.1234"), status=400,
        content_type="application/atom+xml")
    with pytest.raises(ResearchUnavailable) as caught:
        ArxivRetriever(base_url=server.url_for("/bad/query"), rate_limiter=limiter) \
            .search("octopus", 3)
    assert caught.value.user_message == "arXiv rejected the query: incorrect id format for " \
        "1234.1234"


def test_throttling_is_research_unavailable(server: HTTPServer, limiter: RateLimiter):
    server.expect_request("/busy/query").respond_with_data("Rate exceeded.", status=503,
                                                           content_type="text/plain")
    with pytest.raises(ResearchUnavailable) as caught:
        ArxivRetriever(base_url=server.url_for("/busy/query"), rate_limiter=limiter) \
            .search("octopus", 3)
    message = caught.value.user_message
    assert "HTTP 503 (Rate exceeded.)" in message and "ASSISTANT_ARXIV_URL" in message


def test_requests_are_three_seconds_apart(papers: ArxivRetriever, fake_clock: FakeClock):
    for _ in range(3):
        papers.search("octopus", 1)
    assert fake_clock.sleeps == [3.0, 3.0]
    fake_clock.now += 10  # a pause longer than the interval costs no wait
    papers.search("octopus", 1)
    assert fake_clock.sleeps == [3.0, 3.0]


def test_the_limiter_spaces_concurrent_callers():
    clock = FakeClock()
    lock = threading.Lock()
    stamps: list[float] = []
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)

    def call() -> None:
        limiter.wait()
        with lock:
            stamps.append(clock.now)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    assert [b - a for a, b in zip(stamps, stamps[1:], strict=False)] == [3.0, 3.0, 3.0]


def test_every_instance_shares_the_process_limit():
    assert ArxivRetriever()._rate is ArxivRetriever()._rate is arxiv.ARXIV_RATE_LIMIT
    assert arxiv.ARXIV_RATE_LIMIT.interval_s == 3.0


def test_from_settings_reads_the_arxiv_url():
    class Settings:
        arxiv_url = "http://127.0.0.1:9/api/query"

    assert arxiv.from_settings(Settings()).base_url == "http://127.0.0.1:9/api/query"
    assert arxiv.from_settings(object()).base_url == "http://export.arxiv.org/api/query"
