"""The research step with online providers, against the local MediaWiki and SearXNG
stand-ins: it cites the pages it fetched by their own URLs and keeps them as artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_UA
from pytest_httpserver import HTTPServer

from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief, Research
from assistant.graph.nodes import research


@pytest.fixture
def online(server: HTTPServer, mediawiki: object, tmp_path: Path,
           encyclopedia_root: Path) -> Iterator[Services]:
    base = server.url_for("/{lang}").replace("%7B", "{").replace("%7D", "}")
    settings = Settings.model_validate({
        "data_dir": tmp_path / "data", "seed_sample_kb": False, "encyclopedia_dir":
        encyclopedia_root, "research_providers": "kb,wikipedia", "wikipedia_url": base,
        "research_user_agent": TEST_UA, "fetch_allow_private": True,
    })
    svc = Services.create(settings)
    yield svc
    svc.close()


def test_online_research_cites_what_it_fetched(online: Services, server: HTTPServer) -> None:
    brief = Brief.create("how octopuses change colour", "blog")
    online.repo.create_job("job-online01", title=brief.topic, content_type="blog",
                           input_data=brief.model_dump())
    found = research.run({"job_id": "job-online01", "brief": brief}, online)["research"]
    assert isinstance(found, Research)
    site = server.url_for("/en/wiki/")
    urls = {s.url for s in found.sources}
    assert urls and all(u.startswith(site) for u in urls), urls
    assert f"{site}Octopus" in urls
    assert "Heat pump" not in {s.title for s in found.sources}
    assert {s.provider for s in found.sources} == {"wikipedia"}
    # The stand-in's article says how: chromatophores, controlled by muscles.
    assert {c.facet: c.covered for c in found.coverage}["mechanism"] is True
    stored = {a.meta.get("url") for a in online.objects.list("job-online01")
              if a.name.startswith("research/")}
    assert urls <= stored  # every cited page is one this job fetched and kept
