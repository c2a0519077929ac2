"""Which database rows are a person's: found by walking the schema's foreign keys.

Starting from the profile, every row whose foreign key points at a row already found is the
person's too (their jobs, then those jobs' steps, artifacts, publications, their analytics,
...), for every table the models declare: a table another area adds later is covered without
a change here. Two kinds of reference do not make a row someone's:

- ``SET NULL`` references (an approval *assigned to* them in another person's job): the row
  is not theirs; deleting the profile clears the reference;
- ``organization_id`` references: a workspace's jobs, members and webhooks belong to the
  workspace, not to whoever owns it (:func:`shared_workspaces` says when that matters).

Some personal rows carry no foreign key; :func:`extra_rows` adds them by what they hold
(knowledge-base uploads by scope, the Telegram chat of a linked Telegram identity, pending
link codes of the person's identities).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, and_, select, tuple_
from sqlalchemy.orm import Session

from storage.models import Base, IdentityLink, Organization, OrganizationMember

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]  # table -> primary key -> row
CHUNK = 500
WORKSPACE_COLUMN = "organization_id"


def _pk(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for at in range(0, len(values), CHUNK):
        yield values[at:at + CHUNK]


def _edges() -> list[tuple[Table, str, str, str]]:
    """(table, its column, the referenced table, the referenced column) for every foreign
    key that makes a row someone's."""
    edges = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.ondelete == "SET NULL" or fk.parent.name == WORKSPACE_COLUMN:
                continue
            edges.append((table, fk.parent.name, fk.column.table.name, fk.column.name))
    return edges


def owned_rows(s: Session, profile_id: uuid.UUID) -> Rows:
    """Every row that is the profile's, by table (the profile's own row included)."""
    profiles = Base.metadata.tables["profiles"]
    found: Rows = {}
    me = s.execute(select(profiles).where(profiles.c.id == profile_id)).mappings().first()
    if me is None:
        return found
    found["profiles"] = {_pk(profiles, dict(me)): dict(me)}
    edges = _edges()
    changed = True
    while changed:  # until no table gains a row (the schema is a DAG: a few passes)
        changed = False
        for table, column, target, target_column in edges:
            keys = sorted({row[target_column] for row in found.get(target, {}).values()
                           if row.get(target_column) is not None}, key=str)
            for chunk in _chunks(keys):
                for row in s.execute(select(table).where(table.c[column].in_(chunk))
                                     ).mappings():
                    data = dict(row)
                    bucket = found.setdefault(table.name, {})
                    key = _pk(table, data)
                    if key not in bucket:
                        bucket[key] = data
                        changed = True
    return found


def extra_rows(s: Session, profile_id: uuid.UUID, username: str, found: Rows) -> None:
    """Add the personal rows that carry no foreign key to the profile (see the docstring)."""
    tables = Base.metadata.tables
    identities = [(i.channel, i.external_id) for i in s.scalars(
        select(IdentityLink).where(IdentityLink.user_id == profile_id))]
    channel, sep, external = username.partition(":")
    if sep and external:
        identities.append((channel, external))  # the natural identity ("telegram:42")

    def add(table: Table, where: Any) -> None:
        for row in s.execute(select(table).where(where)).mappings():
            found.setdefault(table.name, {})[_pk(table, dict(row))] = dict(row)

    uploads = tables.get("kb_uploads")
    if uploads is not None and "scope" in uploads.c:
        add(uploads, uploads.c.scope == f"user:{profile_id}")
    chats = tables.get("telegram_chats")
    telegram_ids = [int(e) for c, e in identities if c == "telegram" and e.lstrip("-").isdigit()]
    if chats is not None and telegram_ids:
        add(chats, chats.c.user_id.in_(telegram_ids))
    codes = tables.get("link_codes")
    if codes is not None and identities:
        add(codes, tuple_(codes.c.channel, codes.c.external_id).in_(identities))


def shared_workspaces(s: Session, profile_id: uuid.UUID) -> list[str]:
    """Workspaces the person owns that hold anyone else (their members or jobs would go with
    the owner): the names, so the deletion can be refused in words."""
    owned = list(s.scalars(select(Organization).where(Organization.owner_id == profile_id)))
    names = []
    jobs = Base.metadata.tables["jobs"]
    for org in owned:
        others = s.scalar(select(OrganizationMember.id).where(
            OrganizationMember.organization_id == org.id,
            OrganizationMember.user_id != profile_id).limit(1))
        foreign_job = s.scalar(select(jobs.c.id).where(and_(
            jobs.c.organization_id == org.id, jobs.c.user_id != profile_id)).limit(1))
        if others is not None or foreign_job is not None:
            names.append(org.name)
    return names


def delete_rows(s: Session, found: Rows) -> dict[str, int]:
    """Delete the rows, children before parents; how many per table."""
    deleted: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        rows = found.get(table.name)
        if not rows:
            continue
        pk = list(table.primary_key.columns)
        keys = list(rows)
        for chunk in _chunks(keys):
            where = (pk[0].in_([k[0] for k in chunk]) if len(pk) == 1
                     else tuple_(*pk).in_(chunk))
            s.execute(table.delete().where(where))
        deleted[table.name] = len(keys)
    return deleted
