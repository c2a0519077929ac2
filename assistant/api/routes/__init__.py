"""One router per area: health, jobs, knowledge base, content, usage, live events, media
downloads. Each is mounted under ``/api/v1`` by :func:`assistant.api.app.create_api`."""
