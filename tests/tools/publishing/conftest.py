"""Fixtures for the publishing tests: a real WordPress (wp_server.py), started once per
session, and the stand-ins for the services that cannot run here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from wp_server import WordPressSite, start, unavailable  # noqa: E402


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPressSite]:
    """Debian's WordPress on the local MariaDB, served on 127.0.0.1 by PHP's built-in server;
    skipped (with the reason) only where the package cannot be installed or MariaDB is down."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    site = start(tmp_path_factory.mktemp("wordpress"))
    yield site
    site.stop()


@pytest.fixture
def settings(settings: Any) -> Any:
    """The stand-ins and the real WordPress listen on 127.0.0.1: the publishers' public-only
    connections are allowed private addresses here (ASSISTANT_PUBLISH_ALLOW_PRIVATE), as a
    self-hosted site on a LAN would need."""
    return settings.model_copy(update={"publish_allow_private": True})
