"""Options shared by the migration environment and ``Database.schema_diff()``.

Autogenerate and the schema test must compare the same way, so both take them from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeEngine

from storage.models import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our TypeDecorator as the plain type, so migrations never import the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """None: let Alembic decide; our decorator compares as the DateTime it stores."""
    if not isinstance(metadata_type, UTCDateTime):
        return None
    if not isinstance(inspected_type, DateTime):
        return True
    # SQLite keeps no zone, so its reflected DATETIME never says timezone=True
    return context.dialect.name != "sqlite" and not inspected_type.timezone


def compare_options() -> dict[str, Any]:
    return {"compare_type": compare_type, "render_item": render_item}
