"""``assistant api``: the REST API alone, on uvicorn, with its own conversation service (the
same job runner, slots and event bus as a chat server)."""

from __future__ import annotations

import socket

from assistant.config import Settings
from assistant.errors import ConfigError


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): pass "
                              "--port") from None


def serve(settings: Settings, host: str, port: int) -> int:
    """Run until stopped (Ctrl-C); returns the exit code."""
    import uvicorn

    from assistant.api.app import close_api, create_api
    from assistant.app.conversation import Conversation
    from assistant.app.runner import JobRunner
    from assistant.app.studio import Services

    check_port(host, port)
    svc = Services.create(settings)
    svc.kb().seed_sample_if_empty()
    runner = JobRunner(svc)
    conv = Conversation(svc, runner)
    app = create_api(conv, serve_media=True)
    try:
        print(f"REST API on http://{host}:{port}/api/v1 (docs: /api/v1/docs)", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        close_api(app)
        conv.close(5.0)
        runner.close()
        svc.close()
    return 0
