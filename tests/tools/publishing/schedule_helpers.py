"""What the scheduling tests share: a job with an approved script, a publisher that records
every publish it is asked for (in a file, so several processes can be counted), and a clock
the test moves."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.content import Brief, Publication, Script, Section
from assistant.tools.publishing.base import Limits, PublishRequest
from assistant.tools.publishing.ledger import publish_once, schedule
from storage.jobs import JobRepository
from storage.records import PublicationRecord

BRIEF = Brief.create("how tides work", "short", "casual", user="alice")
SCRIPT = Script(format="short", title="How tides work", hook="The sea breathes twice a day.",
                sections=[Section(text="The moon pulls the water toward it.")])


@dataclass
class RecordingPublisher:
    """A publisher for one platform name that appends each publish to ``log`` (one JSON
    line: platform, job, the clock's time, pid) and answers like a platform does."""

    name: str
    log: Path
    now: Any = None  # a callable giving the test clock's time, recorded with each publish
    limits: Limits = field(default_factory=Limits)

    def check(self, request: PublishRequest) -> list[str]:
        return []

    def publish(self, request: PublishRequest) -> Publication:
        at = self.now() if self.now else datetime.now(UTC)
        line = json.dumps({"platform": self.name, "job": request.job_id, "at": at.isoformat(),
                           "pid": os.getpid()})
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        post = f"{self.name}-{request.job_id}"
        return Publication(platform=self.name, location=f"http://127.0.0.1/{post}",
                           url=f"http://127.0.0.1/{post}", post_id=post)


def publishes(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def make_job(repo: JobRepository, job_id: str = "job-0000c0de", user: str = "alice") -> str:
    repo.create_job(job_id, title=BRIEF.topic, content_type="short", user=user,
                    input_data=BRIEF.model_dump(mode="json"))
    return job_id


def schedule_rows(repo: JobRepository, job_id: str, times: dict[str, datetime],
                  log: Path) -> None:
    """What the publish step does for a plan with future times: a 'scheduled' row each."""
    for platform, when in times.items():
        request = PublishRequest(job_id=job_id, brief=BRIEF, script=SCRIPT, publish_at=when)
        schedule(RecordingPublisher(platform, log), request, repo)


def recording_due_publish(repo: JobRepository, log: Path, now: Any) -> Any:
    """The scheduler's DuePublish with the recording publishers, through the real ledger."""

    def publish(row: PublicationRecord) -> Publication:
        request = PublishRequest(job_id=row.job_id, brief=BRIEF, script=SCRIPT,
                                 publish_at=row.publish_at)
        return publish_once(RecordingPublisher(row.platform, log, now), request, repo)

    return publish


class FileClock:
    """A clock whose time is the ISO text of a file: the test moves it, a child reads it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, at: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(at.isoformat(), encoding="utf-8")
        os.replace(tmp, self.path)

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8")).astimezone(UTC)
