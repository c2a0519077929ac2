"""What every route is given: the application services the API was built with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from assistant.api.keys import ApiKeys
from assistant.infra.ratelimit import RateLimiter

if TYPE_CHECKING:
    from assistant.api.events import EventHub
    from assistant.app.conversation import Conversation
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services
    from assistant.config import Settings


@dataclass
class ApiContext:
    conv: Conversation
    keys: ApiKeys
    hub: EventHub
    limiter: RateLimiter  # job starts per user (decisions use the conversation's)
    heartbeat_s: float = 15.0
    extras: dict[str, object] = field(default_factory=dict)  # other areas' services

    @property
    def svc(self) -> Services:
        return self.conv.svc

    @property
    def runner(self) -> JobRunner:
        return self.conv.runner

    @property
    def settings(self) -> Settings:
        return self.conv.svc.settings


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx
