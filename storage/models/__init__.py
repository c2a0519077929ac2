"""SQLAlchemy models after the PRD schema (section 5.1), portable between SQLite and PostgreSQL.

Differences from the PRD, on purpose:

- ids are ``Uuid`` generated in Python (native UUID on PostgreSQL, CHAR(32) on SQLite), except
  ``jobs.id`` which is a readable string chosen by the app (``job-3f9a1c2b``);
- enums are plain strings (the allowed values are the constants in :mod:`.base`), arrays
  are JSON lists;
- there is no ``agents`` table: pipeline steps are graph nodes, so steps store the node name and
  logs the agent name;
- ``approvals`` has ``stage`` / ``round`` (unique per job) and ``decided_by`` / ``decided_at``;
  ``content_artifacts`` has ``step`` and ``sha256``; ``publications`` is unique per platform;
- timestamps are set in Python (UTC), and ``updated_at`` on every ORM update; there are no
  triggers, extensions or row-level security policies;
- indexes that the PRD declares ``DESC`` are plain: a b-tree is read backwards just as fast.

The models live in one module per area (:mod:`.base`, :mod:`.accounts`, :mod:`.jobs`,
:mod:`.hooks`, :mod:`.chat`, :mod:`.channels`, :mod:`.platforms`); every name is importable
from ``storage.models``.
"""

from __future__ import annotations

from storage.models.accounts import (
    IdentityLink,
    LinkCode,
    Organization,
    OrganizationMember,
    Profile,
)
from storage.models.api import ApiKey
from storage.models.base import (
    APPROVAL_STATUSES,
    CONTENT_TYPES,
    JOB_FINISHED,
    JOB_ID,
    JOB_STATUSES,
    NAMING_CONVENTION,
    STEP_STATUSES,
    Base,
    JSONType,
    UTCDateTime,
    utcnow,
)
from storage.models.billing import (
    BillingAccount,
    StripeEvent,
)
from storage.models.channels import (
    DiscordRoute,
    TelegramChat,
)
from storage.models.chat import (
    CHAT_ID,
    ChatElement,
    ChatFeedback,
    ChatStep,
    ChatThread,
)
from storage.models.hooks import (
    Webhook,
    WebhookDelivery,
    WorkflowTemplate,
)
from storage.models.jobs import (
    AgentLog,
    Analytics,
    ApiUsage,
    Approval,
    ContentArtifact,
    Job,
    JobStep,
    Publication,
)
from storage.models.knowledge import KbUpload
from storage.models.platforms import ConnectedAccount
from storage.models.schedule import PublicationLease, ReportDelivery

__all__ = [
    "APPROVAL_STATUSES",
    "AgentLog",
    "Analytics",
    "ApiKey",
    "ApiUsage",
    "Approval",
    "Base",
    "BillingAccount",
    "CHAT_ID",
    "CONTENT_TYPES",
    "ChatElement",
    "ChatFeedback",
    "ChatStep",
    "ChatThread",
    "ConnectedAccount",
    "ContentArtifact",
    "DiscordRoute",
    "IdentityLink",
    "JOB_FINISHED",
    "JOB_ID",
    "JOB_STATUSES",
    "JSONType",
    "Job",
    "JobStep",
    "KbUpload",
    "LinkCode",
    "NAMING_CONVENTION",
    "Organization",
    "OrganizationMember",
    "Profile",
    "TelegramChat",
    "Publication",
    "PublicationLease",
    "ReportDelivery",
    "STEP_STATUSES",
    "StripeEvent",
    "UTCDateTime",
    "Webhook",
    "WebhookDelivery",
    "WorkflowTemplate",
    "utcnow",
]
