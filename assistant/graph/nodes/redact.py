"""redact: take personal data out of the script right after ``write``.

Before a reviewer reads it and before any renderer speaks, pictures or captions it: every
field (title, hook, each section's heading, text and visual prompt, call to action,
description, hashtags) goes through the detector (tools/quality/pii.py) with the brand
rules' region and approved business contacts, and redaction.py decides per field how the
value leaves (a sentence left out of what is heard, a placeholder in what is read).
``write`` stored its draft as script.json and script.md; this step stores the redacted one
under the same version, in place, so no stored copy of the script keeps a value. Only counts
by kind are reported: in the script's notes, this step's progress line, and QA's report.
"""

from __future__ import annotations

from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.quality.pii import describe
from assistant.tools.quality.redaction import redact_script
from assistant.tools.quality.text import BrandRules
from assistant.tools.writing.templates import render_markdown

STEP = "redact"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    rules = BrandRules.load(svc.settings.resolved_brand_rules)
    script, redaction = redact_script(state["script"], rules.detector())
    if not redaction.changed:
        emit(STEP, "no personal data in the script", 100)
        return {}
    job, version = state["job_id"], script.version
    svc.objects.put(job, "script.json", script.model_dump_json(indent=2), step=STEP,
                    type="script", mime="application/json", version=version)
    svc.objects.put(job, "script.md", render_markdown(script, state["brief"],
                                                      rules.required_disclosure),
                    step=STEP, type="script", mime="text/markdown", version=version)
    where = [f"{', '.join(describe(redaction.counts))} from the piece"] if redaction.counts else []
    where += [f"{', '.join(describe(redaction.in_notes))} from the writer's notes"
              ] if redaction.in_notes else []
    emit(STEP, "took out " + "; ".join(where), 100)
    return {"script": script}
