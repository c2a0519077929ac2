"""publishing: connected accounts (tokens encrypted at rest), publication schedule and remote ids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

# PLACEHOLDER reserved for issue 13 (publishers): it must gain its real operations (or be removed and the
# chain relinked) before it is committed.

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
