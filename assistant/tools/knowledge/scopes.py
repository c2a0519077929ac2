"""Who may read a knowledge-base document: its scope.

A document belongs to a person (``user:<profile id>``), a workspace (``org:<organization
id>``) or everyone (``shared``: what the operator adds with `assistant kb add`, the bundled
sample pages, and every document added before scopes existed). A person sees the shared
documents, their own and those of every workspace they are in (a member with any role, or
its owner); a job's research reads the shared ones, its owner's and its workspace's only, so
one person's upload never reaches another's script.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from storage.db import Database
from storage.models import Job, Organization, OrganizationMember

SHARED = "shared"


def user_scope(profile_id: str | uuid.UUID) -> str:
    return f"user:{profile_id}"


def org_scope(organization_id: str | uuid.UUID) -> str:
    return f"org:{organization_id}"


def scope_of(entry: dict[str, Any]) -> str:
    """A manifest entry's scope; one from before scopes is shared."""
    return str(entry.get("scope") or SHARED)


def visible_scopes(db: Database, profile_id: str) -> list[str]:
    """What a person may list and search: shared, their own, their workspaces'."""
    actor = uuid.UUID(profile_id)
    with db.session() as s:
        orgs = s.scalars(
            select(Organization.id)
            .outerjoin(OrganizationMember, OrganizationMember.organization_id == Organization.id)
            .where(or_(Organization.owner_id == actor, OrganizationMember.user_id == actor))
            .distinct()
        ).all()
    return [SHARED, user_scope(actor), *sorted(org_scope(o) for o in orgs)]


def job_scopes(db: Database, job_id: str) -> list[str]:
    """What a job's research may read: shared, the job owner's own, the job's workspace's
    (not every workspace its owner is in: a private job stays private)."""
    with db.session() as s:
        row = s.execute(select(Job.user_id, Job.organization_id).where(Job.id == job_id)).first()
    if row is None:
        return [SHARED]
    owner, org = row
    return [SHARED, *([user_scope(owner)] if owner else []), *([org_scope(org)] if org else [])]


def workspace_scope(db: Database, slug: str) -> str | None:
    """The scope of the workspace (organization) with this slug; None if there is none."""
    with db.session() as s:
        found = s.scalar(select(Organization.id).where(Organization.slug == slug))
    return org_scope(found) if found is not None else None
