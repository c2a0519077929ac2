"""Fixtures for the production-mode tests.

``postgres_database_url`` is the storage suite's: a uniquely named database on the real
PostgreSQL server for this session, dropped at the end; the tests FAIL when it is down.
"""

from __future__ import annotations

from tests.storage.conftest import postgres_database_url

__all__ = ["postgres_database_url"]
