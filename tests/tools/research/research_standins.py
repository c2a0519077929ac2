"""Local stand-ins for MediaWiki and arXiv, answering as each documents.

Each stand-in is a pytest-httpserver handler that checks what the real service checks (the
path, the required query parameters and their values, the User-Agent where the service
refuses anonymous clients) and answers in the service's documented shape and status codes.
A request the real service would reject is rejected here the same way.

Shapes follow MediaWiki's API:Search and Extension:TextExtracts (formatversion=2: pages as a
list, booleans as true, errors as HTTP 200 with an ``error`` object) and the arXiv API User's
Manual (Atom 1.0 with OpenSearch and arxiv extensions, hard-wrapped text, errors as a
one-entry feed whose id is under /api/errors). The web pages, SearXNG and Serper stand-ins
are in research_web_standins.py.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from research_web_standins import JSON, matches_all, words
from werkzeug import Request, Response

ATOM = "application/atom+xml; charset=UTF-8"

# --- MediaWiki ------------------------------------------------------------------------------

def _mw_error(code: str, info: str) -> Response:
    """MediaWiki answers API errors with HTTP 200 and an ``error`` object."""
    body = {
        "error": {"code": code, "info": info,
                  "docref": "See /w/api.php for API usage."},
        "servedby": "mw-standin",
    }
    return Response(json.dumps(body), status=200, content_type=JSON,
                    headers={"MediaWiki-API-Error": code})


def _snippet(text: str, query: str) -> str:
    """A search snippet as CirrusSearch makes it: HTML-escaped text with each matched
    word in ``<span class="searchmatch">``."""
    matched = set(words(query))
    out = []
    for token in re.split(r"(\w+)", text[:200]):
        escaped = html.escape(token)
        out.append(f'<span class="searchmatch">{escaped}</span>' if token.lower() in matched
                   else escaped)
    return "".join(out)


class MediaWikiStandIn:
    """``/w/api.php`` of one wiki: list=search and prop=extracts, formatversion=2.

    Like Wikimedia's servers, it refuses requests without an identifying User-Agent
    (403 and a plain-text notice)."""

    def __init__(self, articles: dict[str, str], *, redirects: dict[str, str] | None = None):
        self.articles = articles
        self.redirects = redirects or {}
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        ua = request.headers.get("User-Agent", "")
        if not ua or ua.startswith(("python-httpx", "python-requests", "curl")):
            return Response(
                "Please set a user-agent and respect our robot policy "
                "https://w.wiki/4wJS. See also T400119.",
                status=403, content_type="text/plain",
            )
        params = {k: request.args[k] for k in request.args}
        self.requests.append(params)
        if params.get("format") != "json":
            return Response("<api><error code='badformat'/></api>", status=200,
                            content_type="text/xml")
        if params.get("formatversion") != "2":
            return _mw_error("standin-formatversion", "the stand-in answers formatversion=2 only")
        if params.get("action") != "query":
            action = params.get("action", "")
            return _mw_error("badvalue", f'Unrecognized value for parameter "action": {action}.')
        if params.get("list") == "search":
            return self._search(params)
        if params.get("prop") == "extracts":
            return self._extracts(params)
        return Response(json.dumps({"batchcomplete": True}), content_type=JSON)

    def _search(self, params: dict[str, str]) -> Response:
        query = params.get("srsearch", "")
        if not query:
            return _mw_error("missingparam", 'The "srsearch" parameter must be set.')
        limit_raw = params.get("srlimit", "10")
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 500:
            return _mw_error("badinteger", f'Invalid value "{limit_raw}" for integer '
                             'parameter "srlimit".')
        found = [t for t, text in self.articles.items() if matches_all(query, t, text)]
        window = found[: int(limit_raw)]
        body: dict[str, object] = {"batchcomplete": True}
        if len(found) > len(window):
            body["continue"] = {"sroffset": len(window), "continue": "-||"}
        body["query"] = {
            "searchinfo": {"totalhits": len(found)},
            "search": [
                {"ns": 0, "title": t, "pageid": 1000 + i, "size": len(self.articles[t]),
                 "wordcount": len(self.articles[t].split()),
                 "snippet": _snippet(self.articles[t], query),
                 "timestamp": "2024-05-01T10:00:00Z"}
                for i, t in enumerate(window)
            ],
        }
        return Response(json.dumps(body), content_type=JSON)

    def _extracts(self, params: dict[str, str]) -> Response:
        if "explaintext" not in params:
            return _mw_error("standin-html", "the stand-in serves plain-text extracts only")
        titles = params.get("titles", "")
        if not titles:
            return _mw_error("missingparam", "One of the parameters titles, pageids, "
                             "revids is required.")
        asked = titles.split("|")[0]
        query: dict[str, object] = {}
        title = asked.replace("_", " ")
        title = title[:1].upper() + title[1:]
        if title != asked:
            query["normalized"] = [{"fromencoded": False, "from": asked, "to": title}]
        if "redirects" in params and title in self.redirects:
            query["redirects"] = [{"from": title, "to": self.redirects[title]}]
            title = self.redirects[title]
        if title in self.articles:
            index = list(self.articles).index(title)
            page: dict[str, object] = {"pageid": 1000 + index, "ns": 0, "title": title,
                                       "extract": self.articles[title]}
        else:
            page = {"ns": 0, "title": title, "missing": True}
        query["pages"] = [page]
        return Response(json.dumps({"batchcomplete": True, "query": query}), content_type=JSON)


# --- arXiv ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Paper:
    arxiv_id: str  # with version, "2101.00001v2"
    title: str
    summary: str
    authors: tuple[str, ...]
    published: str = "2021-01-01T18:00:00Z"
    category: str = "q-bio.NC"


def _atom_feed(query_title: str, entries: list[str], total: int, start: int, per_page: int,
               base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="{escape(base)}?{escape(query_title)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {escape(query_title)}</title>
  <id>http://arxiv.org/api/5hOvnxvDDdJPV0RV2gzvl9kHxNU</id>
  <updated>2024-05-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{per_page}</opensearch:itemsPerPage>
{"".join(entries)}</feed>
"""  # noqa: E501


def _atom_entry(paper: Paper) -> str:
    authors = "".join(f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>"
                      for a in paper.authors)
    # arXiv hard-wraps titles and abstracts; parsers must collapse the whitespace.
    summary = "\n  ".join(re.findall(r".{1,70}(?:\s|$)", paper.summary))
    return f"""  <entry>
    <id>http://arxiv.org/abs/{paper.arxiv_id}</id>
    <updated>{paper.published}</updated>
    <published>{paper.published}</published>
    <title>{escape(paper.title)}</title>
    <summary>  {escape(summary)}
</summary>{authors}
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">12 pages, 4 figures</arxiv:comment>
    <link href="http://arxiv.org/abs/{paper.arxiv_id}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{paper.arxiv_id}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{paper.category}" scheme="http://arxiv.org/schemas/atom"/>
    <category term="{paper.category}" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
"""  # noqa: E501


def arxiv_error_feed(message: str, anchor: str = "incorrect_id_format") -> str:
    """The one-entry feed arXiv answers a malformed request with."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: error</title>
  <id>http://arxiv.org/api/wDaqaYBSCsvdjMBg9WDz5LXhC1U</id>
  <updated>2024-05-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#{anchor}</id>
    <title>Error</title>
    <summary>{escape(message)}</summary>
    <updated>2024-05-01T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#{anchor}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
"""  # noqa: E501


class ArxivStandIn:
    """``/api/query``: search_query (``field:term`` joined by AND/OR), id_list, start,
    max_results; a bad start or max_results is a 400 with an error feed, as arXiv does."""

    def __init__(self, papers: Iterable[Paper], base: str = "http://export.arxiv.org/api/query"):
        self.papers = list(papers)
        self.base = base
        self.requests: list[dict[str, str]] = []

    def _matches(self, expression: str, paper: Paper) -> bool:
        # Clauses are ANDed unless joined by OR; "all:" searches title and abstract.
        for alternative in re.split(r"\s+OR\s+", expression):
            clauses = [c for c in re.split(r"\s+AND\s+", alternative) if c]
            if all(self._clause(c, paper) for c in clauses):
                return True
        return False

    @staticmethod
    def _clause(clause: str, paper: Paper) -> bool:
        field, _, term = clause.partition(":")
        fields = {"all": f"{paper.title} {paper.summary} {' '.join(paper.authors)}",
                  "ti": paper.title, "abs": paper.summary, "au": " ".join(paper.authors)}
        return field in fields and matches_all(term.replace("_", " "), fields[field])

    def __call__(self, request: Request) -> Response:
        params = {k: request.args[k] for k in request.args}
        self.requests.append(params)
        start_raw, max_raw = params.get("start", "0"), params.get("max_results", "10")
        if not start_raw.isdigit():
            return Response(arxiv_error_feed("start must be an integer", "start_must_be_an_"
                                             "integer"), status=400, content_type=ATOM)
        if not max_raw.isdigit():
            return Response(arxiv_error_feed("max_results must be an integer",
                                             "max_results_must_be_an_integer"),
                            status=400, content_type=ATOM)
        start, per_page = int(start_raw), int(max_raw)
        ids = [i for i in params.get("id_list", "").split(",") if i]
        expression = params.get("search_query", "")
        if ids:
            found = [p for p in self.papers
                     if any(p.arxiv_id == i or p.arxiv_id.split("v")[0] == i for i in ids)]
            if expression:
                found = [p for p in found if self._matches(expression, p)]
        else:
            found = [p for p in self.papers if expression and self._matches(expression, p)]
        window = found[start : start + per_page]
        query_title = (f"search_query={expression}&id_list={','.join(ids)}"
                       f"&start={start}&max_results={per_page}")
        feed = _atom_feed(query_title, [_atom_entry(p) for p in window], len(found), start,
                          per_page, self.base)
        return Response(feed, status=200, content_type=ATOM)


