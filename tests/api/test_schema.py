"""schemathesis against the API's own OpenAPI document: for generated requests to every
operation (valid and invalid ones), no 500, and every response matches what the document
says (status code, content type, body schema, headers).

The app is the real one over the real conversation and storage, with a runner that does not
execute jobs (the pipeline is tests/api/test_flow.py), so a created job stays ``pending``.
``/events`` is left out: it is an endless stream (tests/api/test_flow.py reads it). Examples
are few per operation so the whole file stays well under two minutes.

Left out of the checks: ``positive_data_acceptance`` (a request the schema allows must not
be a 4xx). Some refusals are meant to go beyond what a JSON schema can say: a file type the
knowledge base cannot read, a platform this server has no publisher for, billing that is not
configured. Those answer 422/503 with the error body the document declares, which the
status-code and response-schema checks still hold them to.

(schemathesis' own ``pytest.from_fixture`` fails on pytest 9: it reads a private node
attribute that is gone; each operation's hypothesis strategy is driven here instead.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import stripe
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import update

from assistant.api import API_PREFIX, create_api
from assistant.api.app import routers
from assistant.api.keys import ApiKeys
from assistant.api.routes import media
from assistant.app.studio import Services
from assistant.config import Settings
from assistant.content import Brief
from storage.models import Profile
from tests.api.conftest import HEARTBEAT_S, IdleRunner, close, conversation
from tests.app.stripe_standin import API_KEY, PRICES, WEBHOOK_SECRET, StripeStandIn

MAX_EXAMPLES = 10
ENDLESS = {f"GET {API_PREFIX}/events"}


def operation_labels() -> list[str]:
    """``GET /api/v1/jobs``, ...: every operation the routers declare (read from the routes
    alone, at collection time, so each gets its own test id)."""
    bare = FastAPI()
    for router in routers():
        bare.include_router(router, prefix=API_PREFIX)
    bare.include_router(media.router)
    paths = bare.openapi()["paths"]
    return sorted(f"{method.upper()} {path}" for path, methods in paths.items()
                  for method in methods if f"{method.upper()} {path}" not in ENDLESS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Billing on, against the local Stripe stand-in (so its routes answer for real, and
    the tiers' quotas apply to every request)."""
    return Settings(_env_file=None, data_dir=tmp_path / "data", seed_sample_kb=False,
                    stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
                    stripe_price_starter=PRICES["starter"], stripe_price_pro=PRICES["pro"],
                    webhook_allow_private=True)


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStandIn]:
    server = StripeStandIn()
    monkeypatch.setattr(stripe, "api_base", server.url)
    yield server
    server.close()


@pytest.fixture
def live(svc: Services, standin: StripeStandIn) -> Iterator[tuple[Any, str]]:
    conv = conversation(svc, IdleRunner)
    app = create_api(conv, heartbeat_s=HEARTBEAT_S, serve_media=True)
    _, key = ApiKeys(svc.db).create("alice")
    with svc.db.session() as s:  # pro: no daily request cap, webhooks allowed
        s.execute(update(Profile).where(Profile.username == "alice")
                  .values(subscription_tier="pro"))
    conv.runner.create(Brief.create("how tides work", user="alice"))  # something to list
    yield schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", app), key
    close(conv, app)


def test_every_operation_is_covered(live: tuple[Any, str]) -> None:
    schema, _ = live
    found = {r.ok().label for r in schema.get_all_operations()} - ENDLESS
    assert found == set(operation_labels())


@pytest.mark.parametrize("label", operation_labels())
def test_the_api_keeps_its_openapi_document(live: tuple[Any, str], label: str) -> None:
    schema, key = live
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy())
    @examples(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"},
                               excluded_checks=[positive_data_acceptance])

    check()
