"""Fixtures for the research providers: a local server per test, stand-ins, provider cases.

Nothing here reaches the internet: every stand-in listens on 127.0.0.1, and the ddg
provider gets an injected client.

Adding a provider to the conformance suite (test_conformance.py)
----------------------------------------------------------------
Register a factory that builds the provider pointed at its stand-in (or at its offline
data) and says which queries find something::

    @provider_factory("kb")
    def _kb_case(request: pytest.FixtureRequest) -> ProviderCase:
        svc = request.getfixturevalue("tides_kb")      # any fixture, by name
        return ProviderCase(
            retriever=KnowledgeBaseRetriever(svc.kb()),
            query="spring tides",                       # >= 2 hits
            empty_query="zorvath institute budget",    # no hit at all
            down=None,                                  # offline: nothing to take down
        )

in this file (or in a module this file imports), and every test in test_conformance.py runs
for it too. ``down`` builds the same provider pointed at a service that is not there (a
closed port); leave it None for offline providers and that one test is skipped for them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from research_standins import ArxivStandIn, MediaWikiStandIn, Paper
from research_web_standins import WEB_PAGES, Page, SearxngStandIn, SerperStandIn, serve_pages

from assistant.config import Settings
from assistant.tools.research.arxiv import ArxivRetriever, RateLimiter
from assistant.tools.research.base import Retriever
from assistant.tools.research.ddg import DdgRetriever
from assistant.tools.research.encyclopedia import Encyclopedia
from assistant.tools.research.fetch import PageFetcher
from assistant.tools.research.kb import KnowledgeBaseRetriever
from assistant.tools.research.searxng import SearxngRetriever
from assistant.tools.research.serper import SerperRetriever
from assistant.tools.research.wikipedia import WikipediaRetriever

TEST_UA = "AgenticAI-Lab/0.1 (+https://github.com/agenticai-lab; research bot) tests"
SERPER_KEY = "test-serper-key-7f3a"
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n\nUser-agent: BadBot\nDisallow: /\n"


@dataclass
class ProviderCase:
    """One provider, ready to test against its stand-in."""

    retriever: Retriever
    query: str  # the stand-in has at least two hits for it
    empty_query: str  # the stand-in has none
    down: Callable[[], Retriever] | None = None  # the provider with its service gone
    language: str = "en"
    public_urls: bool = True  # False: hits name the user's own files (the kb), not URLs


ProviderFactory = Callable[[pytest.FixtureRequest], ProviderCase]
PROVIDER_FACTORIES: dict[str, ProviderFactory] = {}


def provider_factory(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    """Register a factory under the provider's registry name (see the module docstring)."""

    def register(factory: ProviderFactory) -> ProviderFactory:
        PROVIDER_FACTORIES[name] = factory
        return factory

    return register


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # At collection time, so factories registered anywhere before then are all included.
    if "provider_case" in metafunc.fixturenames:
        names = sorted(PROVIDER_FACTORIES)
        metafunc.parametrize("provider_case", names, indirect=True, ids=names)


@pytest.fixture
def provider_case(request: pytest.FixtureRequest) -> ProviderCase:
    return PROVIDER_FACTORIES[request.param](request)


# --- the local server ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _listening_server() -> Iterator[HTTPServer]:
    # One server for the session: stopping one takes half a second (werkzeug's poll).
    httpserver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    httpserver.start()
    yield httpserver
    httpserver.stop()


@pytest.fixture
def server(_listening_server: HTTPServer) -> Iterator[HTTPServer]:
    """The local server on 127.0.0.1 with no handlers yet (threaded, so a slow handler
    does not stall the rest).

    At teardown it fails the test if a request reached no handler, or a handler raised: a
    provider that calls an undocumented path is caught here."""
    _listening_server.clear()
    yield _listening_server
    try:
        _listening_server.check_assertions()
        _listening_server.check_handler_errors()
    finally:
        _listening_server.clear()


@pytest.fixture
def closed_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def web(server: HTTPServer) -> HTTPServer:
    """The server with the sample pages and a robots.txt that disallows /private/."""
    server.expect_request("/robots.txt").respond_with_data(ROBOTS_TXT, content_type="text/plain")
    serve_pages(server)
    return server


@pytest.fixture
def fetcher() -> Iterator[PageFetcher]:
    """A fetcher that may read the local server (127.0.0.1 is private: tests allow it)."""
    page_fetcher = PageFetcher(user_agent=TEST_UA, timeout_s=5, allow_private=True)
    yield page_fetcher
    page_fetcher.close()


def page_url(server: HTTPServer) -> Callable[[Page], str]:
    return lambda page: server.url_for(page.path)


class FakeClock:
    """A monotonic clock and sleep that advance together, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


# --- the stand-ins' data -----------------------------------------------------------------------

ARTICLES = {
    "Octopus": "An octopus is a soft-bodied, eight-limbed mollusc of the order Octopoda. "
    "Octopuses change colour using chromatophores in their skin, controlled by muscles.\n\n"
    "== Camouflage ==\nThe octopus can match the colour and texture of its surroundings.",
    "Common octopus": "The common octopus (Octopus vulgaris) lives in temperate seas. Like "
    "other octopuses it can change colour in a fraction of a second.",
    "Chromatophore": "Chromatophores are cells that contain pigment. In cephalopods such as "
    "the octopus they are organs that let the animal change colour.",
    "Heat pump": "A heat pump moves thermal energy from a cold space to a warm one.",
}
REDIRECTS = {"Octopi": "Octopus"}

PAPERS = (
    Paper("2101.00001v2", "Neural control of chromatophores in the octopus",
          "We record the motor neurons that drive octopus chromatophores and show how the "
          "octopus brain coordinates colour change across the skin.",
          ("A. Researcher", "B. Scientist")),
    Paper("2102.00002v1", "Octopus colour change as communication",
          "Field recordings show that octopus colour change also signals to other octopuses, "
          "not only camouflage.", ("C. Observer",), published="2021-02-03T12:00:00Z"),
    Paper("2103.00003v1", "Cephalopod skin optics",
          "Iridophores and leucophores in octopus skin shape colour change by reflecting "
          "light.", ("D. Physicist",), category="physics.optics"),
    Paper("2104.00004v1", "Heat pumps in cold climates",
          "Measured efficiency of air-source heat pumps below freezing.", ("E. Engineer",)),
)


@pytest.fixture
def mediawiki(server: HTTPServer) -> MediaWikiStandIn:
    """A MediaWiki for English and Spanish at ``/<lang>/w/api.php``."""
    standin = MediaWikiStandIn(ARTICLES, redirects=REDIRECTS)
    server.expect_request("/en/w/api.php", method="GET").respond_with_handler(standin)
    spanish = MediaWikiStandIn({"Pulpo": "El pulpo es un molusco que cambia de color."})
    server.expect_request("/es/w/api.php", method="GET").respond_with_handler(spanish)
    return standin


@pytest.fixture
def arxiv_standin(server: HTTPServer) -> ArxivStandIn:
    standin = ArxivStandIn(PAPERS)
    server.expect_request("/api/query", method="GET").respond_with_handler(standin)
    return standin


@pytest.fixture
def searxng_standin(web: HTTPServer) -> SearxngStandIn:
    standin = SearxngStandIn(WEB_PAGES, page_url(web))
    web.expect_request("/searxng/search", method="GET").respond_with_handler(standin)
    return standin


@pytest.fixture
def serper_standin(web: HTTPServer) -> SerperStandIn:
    standin = SerperStandIn(WEB_PAGES, page_url(web), api_key=SERPER_KEY)
    web.expect_request("/serper/search", method="POST").respond_with_handler(standin)
    return standin


class FakeDDGS:
    """Answers ``text()`` like ddgs 9 (``title``/``href``/``body``) from the local pages,
    and records how it was called."""

    def __init__(self, pages: list[Page], page_url: Callable[[Page], str]) -> None:
        self.pages = pages
        self.page_url = page_url
        self.calls: list[tuple[str, dict[str, object]]] = []

    def text(self, query: str, **kwargs: object) -> list[dict[str, str]]:
        self.calls.append((query, kwargs))
        words = query.lower().split()
        found = [p for p in self.pages
                 if all(w in f"{p.title} {p.text}".lower() for w in words)]
        limit = kwargs.get("max_results")
        return [{"title": p.title, "href": self.page_url(p), "body": p.paragraphs[0][:150]}
                for p in found[: limit if isinstance(limit, int) else None]]


class DownDDGS:
    """ddgs when DuckDuckGo throttles: every call raises its RatelimitException."""

    def text(self, query: str, **kwargs: object) -> list[dict[str, str]]:
        from ddgs.exceptions import RatelimitException

        raise RatelimitException("https://lite.duckduckgo.com/lite/ 202 Ratelimit")


# --- the providers' cases ------------------------------------------------------------------------


@provider_factory("wikipedia")
def _wikipedia_case(request: pytest.FixtureRequest) -> ProviderCase:
    server: HTTPServer = request.getfixturevalue("server")
    request.getfixturevalue("mediawiki")
    base = server.url_for("/{lang}").replace("%7B", "{").replace("%7D", "}")
    closed = request.getfixturevalue("closed_url")
    return ProviderCase(
        retriever=WikipediaRetriever(base_url=base, user_agent=TEST_UA),
        query="octopus colour",
        empty_query="zorvath institute budget",
        down=lambda: WikipediaRetriever(base_url=closed + "/{lang}", user_agent=TEST_UA),
    )


@provider_factory("arxiv")
def _arxiv_case(request: pytest.FixtureRequest) -> ProviderCase:
    server: HTTPServer = request.getfixturevalue("server")
    request.getfixturevalue("arxiv_standin")
    clock: FakeClock = request.getfixturevalue("fake_clock")
    closed = request.getfixturevalue("closed_url")

    def limiter() -> RateLimiter:
        return RateLimiter(3.0, clock=clock, sleep=clock.sleep)

    return ProviderCase(
        retriever=ArxivRetriever(base_url=server.url_for("/api/query"), user_agent=TEST_UA,
                                 rate_limiter=limiter()),
        query="octopus colour change",
        empty_query="zorvath institute budget",
        down=lambda: ArxivRetriever(base_url=closed + "/api/query", rate_limiter=limiter()),
    )


@provider_factory("searxng")
def _searxng_case(request: pytest.FixtureRequest) -> ProviderCase:
    server: HTTPServer = request.getfixturevalue("web")
    request.getfixturevalue("searxng_standin")
    fetcher: PageFetcher = request.getfixturevalue("fetcher")
    closed = request.getfixturevalue("closed_url")
    return ProviderCase(
        retriever=SearxngRetriever(base_url=server.url_for("/searxng"), fetcher=fetcher,
                                   user_agent=TEST_UA),
        query="octopus",
        empty_query="zorvath institute budget",
        down=lambda: SearxngRetriever(base_url=closed, fetcher=fetcher),
    )


@provider_factory("serper")
def _serper_case(request: pytest.FixtureRequest) -> ProviderCase:
    server: HTTPServer = request.getfixturevalue("web")
    request.getfixturevalue("serper_standin")
    fetcher: PageFetcher = request.getfixturevalue("fetcher")
    closed = request.getfixturevalue("closed_url")
    return ProviderCase(
        retriever=SerperRetriever(api_key=SERPER_KEY, fetcher=fetcher,
                                  base_url=server.url_for("/serper"), user_agent=TEST_UA),
        query="octopus",
        empty_query="zorvath institute budget",
        down=lambda: SerperRetriever(api_key=SERPER_KEY, fetcher=fetcher, base_url=closed),
    )


@provider_factory("ddg")
def _ddg_case(request: pytest.FixtureRequest) -> ProviderCase:
    server: HTTPServer = request.getfixturevalue("web")
    fetcher: PageFetcher = request.getfixturevalue("fetcher")
    return ProviderCase(
        retriever=DdgRetriever(fetcher=fetcher, client=FakeDDGS(list(WEB_PAGES), page_url(server))),
        query="octopus",
        empty_query="zorvath institute budget",
        down=lambda: DdgRetriever(fetcher=fetcher, client=DownDDGS()),
    )


# --- the offline providers (kb, encyclopedia) ------------------------------------------------


@pytest.fixture(scope="session")
def encyclopedia_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The encyclopedia index root: the one `make install` built, else one built here once
    (minutes: run `python -m assistant.tools.research.encyclopedia build` to skip that)."""
    from assistant.tools.knowledge.embeddings import get_embedder
    from assistant.tools.research.encyclopedia_index import build_index, index_ready, installed_root

    embedder = get_embedder()
    if index_ready(installed_root() / "en", "en", embedder):
        return installed_root()
    root = tmp_path_factory.mktemp("encyclopedia")
    build_index("en", root / "en", embedder)
    return root


@pytest.fixture
def encyclopedia(encyclopedia_root: Path, tmp_path: Path) -> Encyclopedia:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                        encyclopedia_dir=encyclopedia_root)
    return Encyclopedia(settings)


@provider_factory("kb")
def _kb_case(request: pytest.FixtureRequest) -> ProviderCase:
    svc = request.getfixturevalue("tides_kb")
    return ProviderCase(retriever=KnowledgeBaseRetriever(svc.kb()), query="spring tides",
                        empty_query="zorvath institute budget", public_urls=False)


@provider_factory("encyclopedia")
def _encyclopedia_case(request: pytest.FixtureRequest) -> ProviderCase:
    return ProviderCase(retriever=request.getfixturevalue("encyclopedia"), query="octopus",
                        empty_query="zorvath institute budget")
