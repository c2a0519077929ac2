"""scheduled publications and pulled analytics

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

# PLACEHOLDER reserved for issue 13 (scheduling, analytics): it must gain its real operations (or be removed and the
# chain relinked) before it is committed.

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
