"""Shared fixtures: a fresh data dir, real storage, a small real knowledge base."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app.studio import Services
from assistant.config import Settings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_KB = REPO / "assistant" / "data" / "sample_kb"

# Nothing in the tests may read the developer's own .env or environment.
for key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
    del os.environ[key]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False)  # type: ignore[call-arg]


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.close()


@pytest.fixture
def tides_kb(svc: Services) -> Services:
    """The knowledge base holding the two sample pages about tides."""
    pages = [SAMPLE_KB / "how-tides-work.md", SAMPLE_KB / "spring-and-neap-tides.md"]
    results = svc.kb().add(pages)
    assert all(r.status == "added" for r in results), results
    return svc
