"""Infrastructure every layer may use: the Redis client, caches, rate limits, job leases and
slots, signing, observability, preflight checks and the Celery client. Imports none of app,
graph, tools or channels."""
