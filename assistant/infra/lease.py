"""One runner at a time per job: a lease on the job row, renewed while the job runs.

Two processes (two CLIs, the web chat and a bot, two app replicas) that resume the same job
at once must not both drive its graph. ``JobLeases.hold(job_id)`` takes the job's lease with
one conditional UPDATE of the job row (:meth:`storage.jobs.JobRepository.acquire_lease`):
atomic on SQLite and PostgreSQL, no Redis needed. The holder renews it every third of its
time to live; a process that dies stops renewing, and its lease expires. On the same host a
dead holder (SIGKILL, power loss of a container) is recognised at once by its pid, so a
restarted app takes over without waiting for the expiry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import JobStateError
from storage.jobs import JobRepository

log = logging.getLogger(__name__)

LEASE_TTL_S = 30.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) runs nothing
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return True


def dead_holder(owner: str | None) -> bool:
    """Whether ``owner`` ("host:pid:token") is a process of this host that no longer runs."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid))


class JobLeases:
    """The leases this process holds; ``hold`` is re-entrant within one thread."""

    def __init__(self, repo: JobRepository, ttl_s: float = LEASE_TTL_S) -> None:
        self.repo = repo
        self.ttl_s = ttl_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, int]] = {}  # job -> (thread ident, depth)

    @contextlib.contextmanager
    def hold(self, job_id: str) -> Iterator[None]:
        me = threading.get_ident()
        with self._lock:
            holder = self._held.get(job_id)
            if holder is not None and holder[0] != me:
                raise JobStateError(f"job is busy: {job_id} is already running in this "
                                    "process; try again when it stops")
            if holder is not None:  # re-entered by the same thread
                self._held[job_id] = (me, holder[1] + 1)
        if holder is not None:
            try:
                yield
            finally:
                with self._lock:
                    self._held[job_id] = (me, self._held[job_id][1] - 1)
            return
        self._take(job_id)
        with self._lock:
            self._held[job_id] = (me, 1)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(job_id, stop), daemon=True,
                                   name=f"lease-{job_id}")
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join(timeout=5)
            with self._lock:
                self._held.pop(job_id, None)
            try:
                self.repo.release_lease(job_id, self.owner)
            except Exception:  # expiry frees it anyway
                log.warning("could not release the lease of %s", job_id, exc_info=True)

    def _take(self, job_id: str) -> None:
        if self.repo.acquire_lease(job_id, self.owner, self.ttl_s):
            return
        owner, expires = self.repo.lease(job_id)
        if dead_holder(owner) and self.repo.acquire_lease(
                job_id, self.owner, self.ttl_s, replacing=owner):
            log.warning("job %s: took over the lease of %s, which is no longer running",
                        job_id, owner)
            return
        if owner is None and self.repo.acquire_lease(job_id, self.owner, self.ttl_s):
            return  # it expired in between
        host, _, rest = (owner or "?:?").partition(":")
        log.info("job %s: lease held by %s until %s", job_id, owner, expires)
        raise JobStateError(f"job is busy: {job_id} is being run by another process (pid "
                            f"{rest.partition(':')[0]} on {host}); try again when it stops")

    def _renew(self, job_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.ttl_s / 3):
            try:
                if not self.repo.acquire_lease(job_id, self.owner, self.ttl_s):
                    log.error("job %s: lost its lease to another process", job_id)
                    return
            except Exception:
                log.warning("job %s: could not renew its lease", job_id, exc_info=True)
