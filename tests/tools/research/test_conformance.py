"""The retriever contract, checked for every registered provider (see conftest.py).

Every provider, offline or online, must answer in the same shapes: research never knows
which one it is talking to. A provider joins by registering a factory in conftest.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import ProviderCase

from assistant.errors import ResearchUnavailable
from assistant.tools.research.base import Document, Hit, Retriever


def test_is_a_retriever(provider_case: ProviderCase) -> None:
    retriever = provider_case.retriever
    assert isinstance(retriever, Retriever)
    assert isinstance(retriever.name, str) and retriever.name


def test_search_returns_ranked_hits_within_the_limit(provider_case: ProviderCase) -> None:
    retriever = provider_case.retriever
    hits = retriever.search(provider_case.query, 2, language=provider_case.language)
    assert 1 <= len(hits) <= 2, "the stand-in has at least two hits for the case's query"
    assert all(isinstance(hit, Hit) for hit in hits)
    assert all(hit.provider == retriever.name for hit in hits)
    for hit in hits:
        parts = urlsplit(hit.url)
        if provider_case.public_urls:
            assert parts.scheme in ("http", "https") and parts.netloc, hit.url
        else:  # the user's own file, by the name they know it by: never a server path
            assert hit.url.strip() and not parts.scheme and "/" not in hit.url, hit.url
        assert hit.title.strip()
    ranks = [hit.rank for hit in hits]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_limit_one_gives_one_hit(provider_case: ProviderCase) -> None:
    hits = provider_case.retriever.search(provider_case.query, 1, language=provider_case.language)
    assert len(hits) == 1


def test_fetch_returns_the_document_behind_the_hit(provider_case: ProviderCase) -> None:
    retriever = provider_case.retriever
    hit = retriever.search(provider_case.query, 2, language=provider_case.language)[0]
    doc = retriever.fetch(hit)
    assert isinstance(doc, Document)
    assert doc.text.strip()
    assert doc.url == hit.url
    assert doc.provider == retriever.name
    assert doc.retrieved_at.tzinfo is not None and doc.retrieved_at.utcoffset() is not None
    assert doc.language


def test_nothing_found_is_an_empty_list(provider_case: ProviderCase) -> None:
    retriever = provider_case.retriever
    assert retriever.search(provider_case.empty_query, 5, language=provider_case.language) == []
    assert retriever.search("   ", 5, language=provider_case.language) == []


def test_a_service_that_is_down_is_one_line_of_research_unavailable(
    provider_case: ProviderCase,
) -> None:
    if provider_case.down is None:
        pytest.skip(f"{provider_case.retriever.name} is offline: nothing to take down")
    retriever = provider_case.down()
    with pytest.raises(ResearchUnavailable) as caught:
        retriever.search(provider_case.query, 3, language=provider_case.language)
    message = caught.value.user_message
    assert message and "\n" not in message and "Traceback" not in message
