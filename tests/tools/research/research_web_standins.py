"""Local stand-ins for the web: article pages with real wrapping, SearXNG and Serper.

Each stand-in is a pytest-httpserver handler that checks what the real service checks (the
path, the required parameters, the API key) and answers in the service's documented shape
and status codes, so a provider that sends the wrong thing fails instead of passing against
a stand-in that accepts anything. Shapes follow SearXNG's Search API (403 when a format is
not enabled in settings.yml) and Serper's ``/search`` answer. The MediaWiki and arXiv
stand-ins are in research_standins.py.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

JSON = "application/json; charset=utf-8"


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def matches_all(query: str, *texts: str) -> bool:
    haystack = set(words(" ".join(texts)))
    wanted = words(query)
    return bool(wanted) and all(w in haystack for w in wanted)


# --- pages with the wrapping real sites have --------------------------------------------

BOILERPLATE_MARKERS = ("cookie", "Copyright", "About us", "Newsletter", "Related articles")


def boilerplate_page(title: str, paragraphs: Iterable[str], *, lang: str = "en") -> str:
    """An article page the way sites serve them: cookie banner, navigation, a sidebar,
    a newsletter box and a footer around the article. trafilatura must keep only the
    article; the markers above must not survive extraction."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{html.escape(title)} | Example Science</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<div id="cookie-banner" class="cookie-consent" role="dialog">
  <p>We use cookies to improve your experience and for marketing. Read our cookie policy.</p>
  <button>Accept all cookies</button><button>Reject</button></div>
<header><nav class="main-nav"><ul>
  <li><a href="/">Home</a></li><li><a href="/topics">Topics</a></li>
  <li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>
</ul></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
{body}
</article></main>
<aside class="sidebar"><h3>Related articles</h3><ul>
  <li><a href="/a">Ten facts about the sky</a></li><li><a href="/b">Why plants are green</a></li>
</ul><div class="newsletter">Newsletter: subscribe for weekly science news.</div></aside>
<footer><p>Copyright 2024 Example Science Ltd. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></p></footer>
</body></html>"""


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    lang: str = "en"

    @property
    def path(self) -> str:
        return f"/pages/{self.slug}"

    def html(self) -> str:
        return boilerplate_page(self.title, self.paragraphs, lang=self.lang)

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)


WEB_PAGES = (
    Page("octopus-colour", "How octopuses change colour", (
        "Octopuses change colour with chromatophores, small elastic sacs of pigment in the "
        "skin. Each sac is ringed by radial muscles controlled directly by the brain.",
        "When the muscles contract the sac stretches wide and its colour shows; when they "
        "relax it shrinks to a dot. An octopus can change its whole pattern in a fraction "
        "of a second.",
        "Below the chromatophores, iridophores reflect light and leucophores scatter it, "
        "which adds blues, greens and white to the pigments' reds and yellows.",
    )),
    Page("octopus-camouflage", "Octopus camouflage in the wild", (
        "An octopus hides by matching both the colour and the texture of the rock it sits "
        "on. Muscles raise small bumps called papillae so the skin looks rough.",
        "Field studies of the common octopus show it changes colour about once a minute "
        "while it hunts in the open.",
    )),
    Page("octopus-intelligence", "Octopus intelligence", (
        "The octopus has around 500 million neurons, two thirds of them in its arms. "
        "Octopuses solve puzzles, open jars and recognise individual people.",
        "Experiments show that an octopus can learn by watching another one, although it "
        "lives alone for most of its short life.",
    )),
    Page("pulpo-color", "Cómo cambia de color el pulpo", (
        "El pulpo cambia de color gracias a los cromatóforos, pequeños sacos de pigmento "
        "que hay en la piel y que están rodeados de músculos.",
        "Cuando los músculos se contraen, el saco se estira y el color se ve; cuando se "
        "relajan, el saco se encoge y el color desaparece.",
    ), lang="es"),
)


def serve_pages(server: HTTPServer, pages: Iterable[Page] = WEB_PAGES) -> None:
    for page in pages:
        server.expect_request(page.path, method="GET").respond_with_data(
            page.html(), content_type="text/html; charset=utf-8"
        )


# --- SearXNG --------------------------------------------------------------------------------

class SearxngStandIn:
    """``/search`` of an instance whose search.formats include json (or not)."""

    def __init__(
        self, pages: Iterable[Page], page_url: Callable[[Page], str], *, json_enabled: bool = True
    ) -> None:
        self.pages = list(pages)
        self.page_url = page_url  # Page -> absolute URL on the test server
        self.json_enabled = json_enabled
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        params = {k: request.args[k] for k in request.args}
        self.requests.append(params)
        fmt = params.get("format", "html")
        if fmt != "html" and not (fmt == "json" and self.json_enabled):
            return Response("<html><body><h1>Forbidden</h1></body></html>", status=403,
                            content_type="text/html; charset=utf-8")
        if fmt == "html":
            return Response("<html><body>results page</body></html>",
                            content_type="text/html; charset=utf-8")
        query = params.get("q", "")
        if not query:
            return Response("<html><body>empty query</body></html>", status=400,
                            content_type="text/html")
        language = params.get("language", "all")
        found = [p for p in self.pages if matches_all(query, p.title, p.text)
                 and (language in ("all", "auto") or language.split("-")[0] == p.lang)]
        results = []
        for i, page in enumerate(found):
            url = self.page_url(page)
            results.append({
                "url": url, "title": page.title, "content": page.paragraphs[0][:150],
                "publishedDate": None, "thumbnail": "", "engine": "duckduckgo",
                "template": "default.html", "parsed_url": ["http", url.split("/")[2],
                                                          page.path, "", "", ""],
                "img_src": "", "priority": "", "engines": ["duckduckgo", "brave"],
                "positions": [i + 1], "score": round(2.0 / (i + 1), 3), "category": "general",
            })
        body = {"query": query, "number_of_results": 0, "results": results, "answers": [],
                "corrections": [], "infoboxes": [], "suggestions": [],
                "unresponsive_engines": [["google", "Suspended: CAPTCHA"]]}
        return Response(json.dumps(body), content_type=JSON)


# --- Serper ---------------------------------------------------------------------------------

class SerperStandIn:
    """``POST /search`` with ``X-API-KEY``: 403 ``Unauthorized.`` for a wrong key,
    400 for a body without ``q``; otherwise the documented answer."""

    def __init__(self, pages: Iterable[Page], page_url: Callable[[Page], str], *, api_key: str):
        self.pages = list(pages)
        self.page_url = page_url
        self.api_key = api_key
        self.requests: list[dict[str, object]] = []

    def __call__(self, request: Request) -> Response:
        if request.headers.get("X-API-KEY") != self.api_key:
            return Response(json.dumps({"message": "Unauthorized.", "statusCode": 403}),
                            status=403, content_type=JSON)
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        if request.mimetype != "application/json" or not isinstance(body, dict) \
                or not body.get("q"):
            return Response(json.dumps({"message": "Missing query parameter", "statusCode": 400}),
                            status=400, content_type=JSON)
        self.requests.append(body)
        num = int(body.get("num", 10))
        hl = str(body.get("hl", "en"))
        found = [p for p in self.pages if matches_all(str(body["q"]), p.title, p.text)
                 and p.lang == hl][:num]
        organic = [{"title": p.title, "link": self.page_url(p), "snippet": p.paragraphs[0][:160],
                    "position": i + 1} for i, p in enumerate(found)]
        # Serper lists organic results by position; shuffle the order in the JSON so the
        # provider is seen to sort by position rather than trust the array order.
        organic.reverse()
        answer = {
            "searchParameters": {"q": body["q"], "gl": "us", "hl": hl, "num": num,
                                 "type": "search", "engine": "google"},
            "organic": organic,
            "peopleAlsoAsk": [{"question": "Why do octopuses change color?",
                               "snippet": "To hide and to signal.", "title": "Q&A",
                               "link": "https://example.org/q"}] if organic else [],
            "relatedSearches": [{"query": f"{body['q']} facts"}],
            "credits": 1,
        }
        return Response(json.dumps(answer), content_type=JSON)
