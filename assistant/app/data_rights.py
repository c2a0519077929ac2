"""A person's data: export it (access, portability) and delete it (erasure), PRD section 8.2.

(Personal data inside a request is another matter: :mod:`assistant.app.privacy`.)

- :meth:`Privacy.export`: a zip with ``rows/<table>.json`` (every database row that is theirs,
  found by :mod:`assistant.app.privacy_rows`; secrets such as password and key hashes,
  webhook secrets and platform tokens are withheld), ``artifacts/<job>/...`` (every file
  their jobs made), ``knowledge/<file>`` (the documents they added to the knowledge base)
  and ``README.txt`` saying what is where.
- :meth:`Privacy.delete`: those rows, the files (artifacts, the job's work and outbox folders
  and its Atom feed entry, their reports and exports), their knowledge-base documents with
  their vectors, and each job's LangGraph checkpoints. It is refused, in one line, while they
  own a workspace that holds other people (members or their jobs would go with it).

Channels ask before deleting: :meth:`Privacy.confirmation` issues a code (its sha256 kept in
the profile's preferences for CONFIRM_TTL_S), and ``/delete-my-data CONFIRM-<code>`` spends
it. The CLI (``--yes``) and the API (the username typed back) confirm their own way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from sqlalchemy import select

from assistant.app.privacy_rows import delete_rows, extra_rows, owned_rows, shared_workspaces
from assistant.errors import InputError, JobStateError
from assistant.graph.checkpoint import close_checkpointer, make_checkpointer
from assistant.tools.knowledge.scopes import user_scope
from storage.models import Profile

if TYPE_CHECKING:
    from assistant.graph.services import Services

log = logging.getLogger(__name__)

CONFIRM_TTL_S = 600
CONFIRM_KEY = "delete_confirmation"  # profiles.preferences: {"sha256", "expires"}
_WITHHELD = re.compile(r"password|secret|token|(^|_)hash$|^code_sha256$|^key_hash$")
ATOM = "http://www.w3.org/2005/Atom"
RUNNING = ("processing",)


@dataclass(frozen=True)
class Deletion:
    rows: dict[str, int]  # table -> rows deleted
    files: int
    knowledge_sources: int
    jobs: int


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "user"


def _jsonable(table: str, row: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[withheld]" if v is not None and _WITHHELD.search(k) else v)
            for k, v in row.items()}


class Privacy:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _profile(self, username: str) -> uuid.UUID:
        with self.svc.db.session() as s:
            found = s.scalar(select(Profile.id).where(Profile.username == username))
        if found is None:
            raise InputError(f"there is no data for {username!r} here")
        return uuid.UUID(str(found))

    # --- export -----------------------------------------------------------------------------

    def export(self, username: str) -> Path:
        """Write the zip (under <data>/exports/<user>/) and return its path."""
        profile_id = self._profile(username)
        with self.svc.db.session() as s:
            rows = owned_rows(s, profile_id)
            extra_rows(s, profile_id, username, rows)
        settings = self.svc.settings
        folder = settings.resolved_data_dir / "exports" / _safe(username)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"agenticai-export-{stamp}-{secrets.token_hex(3)}.zip"
        part = target.with_suffix(".zip.part")
        job_ids = [str(r["id"]) for r in rows.get("jobs", {}).values()]
        sources = self._sources(profile_id)
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for table, found in sorted(rows.items()):
                data = [_jsonable(table, r) for r in found.values()]
                zf.writestr(f"rows/{table}.json",
                            json.dumps(data, default=str, ensure_ascii=False, indent=1))
            for job_id in job_ids:
                root = settings.artifacts_dir / job_id
                for path in sorted(p for p in root.rglob("*") if p.is_file()):
                    zf.write(path, f"artifacts/{job_id}/{path.relative_to(root)}")
            for entry in sources:
                stored = _stored_path(entry)
                if stored is not None and stored.is_file():
                    zf.write(stored, f"knowledge/{entry['id']}-{_safe(entry.get('name') or '')}")
            zf.writestr("README.txt", _readme(username, rows, job_ids, sources))
        part.replace(target)
        log.info("exported the data of a profile (%d tables, %d jobs)", len(rows), len(job_ids))
        return target

    def _sources(self, profile_id: uuid.UUID) -> list[dict[str, Any]]:
        kb = self.svc.kb()
        found = []
        for source in kb.sources([user_scope(profile_id)]):
            entry = kb.entry(source.id)
            if entry is not None:
                found.append(entry)
        return found

    # --- confirmation -----------------------------------------------------------------------

    def confirmation(self, username: str) -> str:
        """A new one-time code for ``/delete-my-data CONFIRM-<code>``."""
        profile_id = self._profile(username)
        code = secrets.token_hex(3).upper()
        self._set_pending(profile_id, {"sha256": _digest(code),
                                       "expires": time.time() + CONFIRM_TTL_S})
        return code

    def confirm(self, username: str, code: str) -> None:
        """InputError unless ``code`` is the user's pending one (it is spent either way)."""
        profile_id = self._profile(username)
        with self.svc.db.session() as s:
            profile = s.get(Profile, profile_id)
            prefs = dict(profile.preferences or {}) if profile else {}
        pending = prefs.get(CONFIRM_KEY)
        self._set_pending(profile_id, None)
        given = code.strip().upper().removeprefix("CONFIRM-")
        if not pending or float(pending.get("expires", 0)) < time.time():
            raise InputError("that confirmation has expired or was never asked for: send "
                             "/delete-my-data again for a new code")
        if not secrets.compare_digest(str(pending.get("sha256")), _digest(given)):
            raise InputError("that confirmation code is not the one I sent: send "
                             "/delete-my-data again for a new code")

    def _set_pending(self, profile_id: uuid.UUID, value: dict[str, Any] | None) -> None:
        with self.svc.db.session() as s:
            profile = s.get(Profile, profile_id)
            if profile is None:
                return
            prefs = dict(profile.preferences or {})
            if value is None:
                prefs.pop(CONFIRM_KEY, None)
            else:
                prefs[CONFIRM_KEY] = value
            profile.preferences = prefs

    # --- delete -----------------------------------------------------------------------------

    def delete(self, username: str) -> Deletion:
        """Delete everything of ``username`` (see the module docstring)."""
        profile_id = self._profile(username)
        with self.svc.db.session() as s:
            shared = shared_workspaces(s, profile_id)
            rows = owned_rows(s, profile_id)
            extra_rows(s, profile_id, username, rows)
        if shared:
            raise JobStateError(
                f"you own the workspace {', '.join(shared)}, which holds other people: hand it "
                "over or remove them first, then delete your data")
        jobs = list(rows.get("jobs", {}).values())
        running = [str(j["id"]) for j in jobs if j.get("status") in RUNNING]
        if running:
            raise JobStateError(f"{', '.join(running)} is running: cancel it or let it finish, "
                                "then delete your data")
        job_ids = [str(j["id"]) for j in jobs]
        sources = self._sources(profile_id)
        kb = self.svc.kb()
        removed_sources = sum(1 for entry in sources if kb.remove(str(entry["id"])))
        self._delete_checkpoints(job_ids)
        files = self._delete_files(username, job_ids)
        with self.svc.db.session() as s:
            deleted = delete_rows(s, rows)
        _forget_cached_user(self.svc, username)
        log.info("deleted the data of a profile: %d rows, %d files, %d sources, %d jobs",
                 sum(deleted.values()), files, removed_sources, len(job_ids))
        return Deletion(deleted, files, removed_sources, len(job_ids))

    def _delete_checkpoints(self, job_ids: list[str]) -> None:
        if not job_ids:
            return
        saver = make_checkpointer(self.svc.settings)
        try:
            for job_id in job_ids:
                saver.delete_thread(job_id)
        finally:
            close_checkpointer(saver)

    def _delete_files(self, username: str, job_ids: list[str]) -> int:
        settings = self.svc.settings
        folders = [root / job_id for job_id in job_ids
                   for root in (settings.artifacts_dir, settings.work_dir, settings.outbox_dir)]
        folders += [settings.resolved_data_dir / "reports" / _safe(username),
                    settings.resolved_data_dir / "exports" / _safe(username)]
        count = 0
        for folder in folders:
            if folder.is_dir():
                count += sum(1 for p in folder.rglob("*") if p.is_file())
                shutil.rmtree(folder)
        _drop_feed_entries(settings.outbox_dir / "feed.xml", job_ids)
        return count


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _stored_path(entry: dict[str, Any]) -> Path | None:
    uri = str(entry.get("uri") or "")
    if not uri.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path))


def _forget_cached_user(svc: Services, username: str) -> None:
    """The repository remembers username -> profile id (profiles were never deleted before);
    a deleted profile must not be handed out again."""
    cache = getattr(svc.repo, "_user_ids", None)
    if isinstance(cache, dict):
        cache.pop(username, None)


def _drop_feed_entries(feed: Path, job_ids: list[str]) -> None:
    """Remove the jobs' entries from the outbox's Atom feed (the others stay as they were)."""
    if not feed.is_file() or not job_ids:
        return
    ET.register_namespace("", ATOM)
    tree = ET.parse(feed)
    root = tree.getroot()
    ids = {f"urn:agenticai-lab:job:{job_id}" for job_id in job_ids}
    gone = [e for e in root.findall(f"{{{ATOM}}}entry") if e.findtext(f"{{{ATOM}}}id") in ids]
    if not gone:
        return
    for entry in gone:
        root.remove(entry)
    with tempfile.NamedTemporaryFile("wb", dir=feed.parent, delete=False) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
    Path(tmp.name).replace(feed)


def _readme(username: str, rows: dict[str, Any], job_ids: list[str],
            sources: list[dict[str, Any]]) -> str:
    counts = "\n".join(f"  rows/{t}.json: {len(r)} rows" for t, r in sorted(rows.items()))
    return (f"Your data at AgenticAI Lab ({username}), exported "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
            f"Database rows, one JSON file per table (secrets are withheld):\n{counts}\n\n"
            f"artifacts/: every file your {len(job_ids)} jobs made, by job.\n"
            f"knowledge/: the {len(sources)} documents you added to the knowledge base.\n")
