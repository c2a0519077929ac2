"""JobRunner: start, resume and inspect jobs. Channels and the CLI talk to this.

A job is one LangGraph thread (``thread_id`` = job id) with a durable checkpointer,
so a process killed at any point resumes from the last finished step. The runner
keeps the jobs table's status in step with the graph: processing while it runs,
review while it waits for a person, then published, rejected or failed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Command

from assistant.app import webhooks
from assistant.app.privacy import CONFIG_KEY, request_notice, scrub_brief
from assistant.app.quotas import meter_render, meter_tokens, reserve_job
from assistant.content import Brief, ReviewDecision
from assistant.errors import AssistantError, JobNotFound, JobStateError
from assistant.graph.build import STEP_DONE, build_graph
from assistant.graph.checkpoint import close_checkpointer, make_checkpointer
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.infra import token_meter
from assistant.infra.lease import JobLeases
from assistant.infra.observability import record_job
from assistant.tools.quality.pii import Detector
from assistant.tools.quality.text import BrandRules

log = logging.getLogger(__name__)

FINISHED = ("published", "rejected", "cancelled")


@dataclass
class Event:
    """Something a channel may show: progress, a finished step, a review request, an error."""

    kind: str  # progress | step | review | done | error
    job_id: str
    step: str = ""
    message: str = ""
    percent: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    job_id: str
    status: str
    review: dict[str, Any] | None = None
    error: str | None = None
    publication: str | None = None


EventSink = Callable[[Event], None]


def observed_status(job_id: str, status: str, error: str | None = None) -> None:
    """Count a job reaching ``status`` (Prometheus) and log it with the job id."""
    record_job(status)
    log.info("job %s is %s%s", job_id, status, f": {error}" if error else "",
             extra={"job_id": job_id, "status": status})


def new_job_id() -> str:
    return f"job-{secrets.token_hex(4)}"


class JobRunner:
    def __init__(self, svc: Services, *, operator: bool = False) -> None:
        """``operator``: the operator's own tool (the CLI), not held to a tier's quotas."""
        self.svc = svc
        self.operator = operator
        self.checkpointer = make_checkpointer(svc.settings)
        self.graph = build_graph(svc, self.checkpointer)
        self.leases = JobLeases(svc.repo)  # one process runs a job at a time

    def close(self) -> None:
        close_checkpointer(self.checkpointer)

    # --- lifecycle ---------------------------------------------------------------------

    def create(self, brief: Brief) -> str:
        """A new job for ``brief``; QuotaExceeded, before anything exists, when the user's
        tier has no job left this month (the chat channels and the API both start here).
        Personal data in the request is replaced by placeholders in ``brief`` itself
        (app/privacy.py), so the reply, the title and the logs never show it."""
        counts = scrub_brief(brief, self._detector())
        configuration: dict[str, Any] = {"style": brief.style,
                                         "llm": self.svc.settings.llm_provider}
        if counts:
            configuration[CONFIG_KEY] = dict(counts)
        job_id = new_job_id()
        if brief.user:
            reserve_job(self.svc.db, self.svc.settings, self.svc.repo.ensure_user(brief.user),
                        job_id, check=not self.operator)
        self.svc.repo.create_job(
            job_id,
            title=brief.topic,
            content_type=brief.format,
            user=brief.user,
            configuration=configuration,
            input_data=brief.model_dump(),
        )
        webhooks.job_created(self.svc, job_id)
        return job_id

    def start(self, job_id: str, brief: Brief, on_event: EventSink | None = None) -> Outcome:
        # create() has scrubbed a brief it was given; one that did not come through it is
        # scrubbed here, before any step, progress line or log sees it.
        counts = scrub_brief(brief, self._detector())
        job = self.svc.repo.get_job(job_id)
        notice = request_notice(counts or (job.configuration.get(CONFIG_KEY, {}) if job else {}))
        initial: PipelineState = {"job_id": job_id, "brief": brief}
        with self.leases.hold(job_id):
            if notice and on_event is not None:
                on_event(Event("progress", job_id, "brief", notice))
            return self._run(job_id, initial, on_event)

    def _detector(self) -> Detector:
        return BrandRules.load(self.svc.settings.resolved_brand_rules).detector()

    def resume(
        self, job_id: str, decision: ReviewDecision | None = None,
        on_event: EventSink | None = None,
    ) -> Outcome:
        """Continue a job: answer its pending review, or re-run the step that failed.
        Raises JobStateError ("job is busy") while another process runs the job."""
        self._job(job_id)  # an unknown job is JobNotFound, before any lease is asked for
        with self.leases.hold(job_id):
            return self._resume(job_id, decision, on_event)

    def _resume(
        self, job_id: str, decision: ReviewDecision | None, on_event: EventSink | None,
    ) -> Outcome:
        job = self._job(job_id)  # read under the lease: the last holder may have ended it
        if job.status in FINISHED:
            raise JobStateError(f"job {job_id} is already {job.status}; nothing to resume")
        snapshot = self.graph.get_state(self._config(job_id))
        pending = _review_of(snapshot)
        if pending is not None:
            if decision is None:
                return Outcome(job_id, "review", review=pending)
            return self._run(job_id, Command(resume=decision.model_dump()), on_event)
        if decision is not None:
            raise JobStateError(f"job {job_id} is not waiting for a review")
        if not snapshot.next:
            if not snapshot.values:  # created but the process died before the first step
                brief = Brief.model_validate(job.input_data)
                return self.start(job_id, brief, on_event)
            raise JobStateError(f"job {job_id} has nothing left to run")
        return self._run(job_id, None, on_event)

    def pending_review(self, job_id: str) -> dict[str, Any] | None:
        return _review_of(self.graph.get_state(self._config(job_id)))

    def state(self, job_id: str) -> dict[str, Any]:
        self._job(job_id)
        return dict(self.graph.get_state(self._config(job_id)).values)

    # --- internals -----------------------------------------------------------------------

    def _job(self, job_id: str) -> Any:
        job = self.svc.repo.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r}: `assistant jobs` lists them")
        return job

    @staticmethod
    def _config(job_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": job_id}}

    def _run(self, job_id: str, graph_input: Any, on_event: EventSink | None) -> Outcome:
        """Run the graph, counting the model tokens this run uses into the job's meter."""
        with token_meter.metering() as tokens:
            try:
                return self._run_graph(job_id, graph_input, on_event)
            finally:
                meter_tokens(self.svc.db, job_id, tokens.total)

    def _run_graph(self, job_id: str, graph_input: Any, on_event: EventSink | None) -> Outcome:
        emit = webhooks.runner_sink(self.svc, on_event)
        repo = self.svc.repo
        repo.set_status(job_id, "processing")
        observed_status(job_id, "processing")
        try:
            # Only the nodes' own events ("custom"): progress, and each step's end with its
            # duration (see graph.build.tracked). The "updates" stream would add a state
            # diff per step that nothing here reads.
            for chunk in self.graph.stream(graph_input, self._config(job_id),
                                           stream_mode="custom", durability="sync"):
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("type") == STEP_DONE:
                    emit(Event("step", job_id, chunk["step"], "done",
                               data={"seconds": chunk.get("seconds")}))
                else:
                    emit(Event("progress", job_id, chunk.get("step", ""),
                               chunk.get("message", ""), chunk.get("percent"), chunk))
        except AssistantError as exc:
            repo.set_status(job_id, "failed", error=exc.user_message)
            observed_status(job_id, "failed", exc.user_message)
            emit(Event("error", job_id, getattr(exc, "step", ""), exc.user_message))
            return Outcome(job_id, "failed", error=exc.user_message)
        return self._settle(job_id, emit)

    def _settle(self, job_id: str, emit: EventSink) -> Outcome:
        meter_render(self.svc.db, job_id)
        snapshot = self.graph.get_state(self._config(job_id))  # read once: a checkpoint
        review = _review_of(snapshot)
        if review is not None:
            self.svc.repo.set_status(job_id, "review")
            observed_status(job_id, "review")
            emit(Event("review", job_id, review["action_request"]["action"],
                       review["description"], data=review))
            return Outcome(job_id, "review", review=review)
        values = snapshot.values
        status = values.get("status", "failed")
        if status not in FINISHED:
            status = "failed"
        publication = values.get("publication")
        location = publication.location if publication else None
        self.svc.repo.set_status(job_id, status)
        observed_status(job_id, status)
        emit(Event("done", job_id, message=status, data={"location": location}))
        return Outcome(job_id, status, publication=location)


def _review_of(snapshot: Any) -> dict[str, Any] | None:
    """The review a graph state snapshot waits for (its interrupt's payload), if any."""
    for task in snapshot.tasks:
        for interrupt in task.interrupts:
            return dict(interrupt.value)
    return None
