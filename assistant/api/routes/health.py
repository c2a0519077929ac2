"""``GET /health``: the API answers (no key needed; for load balancers and uptime checks)."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api import schemas

router = APIRouter(tags=["health"])


@router.get("/health", response_model=schemas.Health)
def health() -> schemas.Health:
    return schemas.Health(status="ok", version=schemas.API_VERSION)
