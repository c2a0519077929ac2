"""Command groups: importing this package registers every group's slash commands.

Each area adds its module to the list below (explicit, so what /help offers is greppable).
"""

from __future__ import annotations

from assistant.app import command_registry
from assistant.app.groups import billing, data_rights, platforms, reports, schedule

__all__ = ["billing", "command_registry", "data_rights", "platforms", "reports", "schedule"]
