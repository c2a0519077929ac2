"""Alembic migrations of the storage schema; run them with ``Database.migrate()``."""
