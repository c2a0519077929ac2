"""The REST API (FastAPI): how other systems (n8n, Zapier, a CMS, a script) drive the studio.

Why here and not under ``channels/``: the chat channels are conversations (free text,
buttons, one identity per chat account); the API is a typed, key-authenticated contract with
its own OpenAPI document, error shape and event stream. It is a surface *beside* the
channels: like them it talks only to the application layer (:mod:`assistant.app`: the
:class:`~assistant.app.conversation.Conversation` that starts, decides and cancels jobs, and
its :class:`~assistant.app.runner.JobRunner` for state), never to the graph, so a job started
here runs, reports and waits for review exactly as one started in chat. The web channel
mounts it at ``/api/v1`` in the Chainlit server; ``assistant api`` serves it alone.

Layout: :mod:`.app` (the factory), :mod:`.auth` (API keys on requests), :mod:`.keys` (issuing
and revoking keys), :mod:`.errors` (the JSON error shape), :mod:`.schemas` (response models),
:mod:`.events` (live events for SSE) and ``routes/`` (one router per area).
"""

from assistant.api.app import API_PREFIX, create_api

__all__ = ["API_PREFIX", "create_api"]
