"""qa: check the piece: on topic, supported by what research retrieved, no invented facts,
no repetition, citations, length, platform limits, hook, call to action, reading level,
brand rules (assistant/tools/quality/checks.py), and the rendered media.

Personal data was taken out right after ``write`` (nodes/redact.py); QA looks again: in
the script (anything found is taken out and fails the check), and in what the voiceover
really says (its transcript) and the captions. Only counts by kind reach the report.
Fixable failures send the piece back to ``write`` at most ``max_qa_rounds`` times; after
that a person decides at review_final, with the report in front of them.
"""

from __future__ import annotations

from collections import Counter

from assistant.content import QACheck, QAReport
from assistant.graph.nodes.media_common import preset_for
from assistant.graph.progress import emit
from assistant.graph.services import Services
from assistant.graph.state import PipelineState
from assistant.tools.quality.checks import run_text_checks
from assistant.tools.quality.media import media_checks, personal_data_checks
from assistant.tools.quality.pii import describe
from assistant.tools.quality.platforms import platforms_for
from assistant.tools.quality.redaction import counts_from_notes, redact_script
from assistant.tools.quality.text import BrandRules, QAContext
from assistant.tools.quality.topic import gate_stats
from assistant.tools.writing.templates import render_markdown, style

STEP = "qa"


def run(state: PipelineState, svc: Services) -> dict[str, object]:
    brief, research = state["brief"], state["research"]
    rules = BrandRules.load(svc.settings.resolved_brand_rules)
    detector = rules.detector()
    script, again = redact_script(state["script"], detector)
    markdown = render_markdown(script, brief, rules.required_disclosure)
    ctx = QAContext(brief, script, research, rules, markdown, style(brief.style).max_grade,
                    embedder=svc.embedder(),
                    platforms=platforms_for(brief.format, svc.settings.publisher),
                    term_stats=gate_stats(brief.language))
    emit(STEP, "checking the text against what research retrieved", 5)
    checks: list[QACheck] = run_text_checks(ctx)
    for i, result in enumerate(checks):
        mark = "ok" if result.passed else ("FAIL" if result.severity == "error" else "warn")
        emit(STEP, f"{result.name}: {mark} — {result.message}", 10 + 80 * (i + 1) / len(checks))
    media = state.get("media")
    if brief.spoken and media is not None and media.output:
        emit(STEP, "measuring the rendered media", 90)
        checks += media_checks(media, preset_for(brief.format, svc), svc.settings.max_wer)
        checks += personal_data_checks(media, detector)
    redactions = counts_from_notes(script.notes)
    checks.append(_script_pii_check(again.counts, redactions))
    rounds = state.get("qa_rounds", 0) + 1
    grade = next((c.message for c in checks if c.name == "reading_grade"), "")
    report = QAReport(
        round=rounds, checks=checks, redactions=redactions,
        reading_grade=float(grade.split()[1]) if grade.startswith("grade") else None,
    )
    job = state["job_id"]
    svc.objects.put(job, "qa.json", report.model_dump_json(indent=2), step=STEP, type="qa",
                    mime="application/json", version=rounds)
    update: dict[str, object] = {"qa": report, "qa_rounds": rounds}
    if again.counts:
        update["script"] = script
        svc.objects.put(job, "script.md", markdown, step=STEP, type="script",
                        mime="text/markdown", version=script.version)
    # Fixable failures go back to write, a bounded number of times; then a person decides.
    retry = bool(report.fixable_failures) and rounds <= svc.settings.max_qa_rounds
    update["rewrite_reason"] = "qa" if retry else None
    failed = [c.name for c in checks if not c.passed and c.severity == "error"]
    emit(STEP, "all checks passed" if not failed else f"failed: {', '.join(failed)}", 100)
    return update


def _script_pii_check(left: Counter[str], taken_out: list[str]) -> QACheck:
    """The script's personal data check: ``redact`` took out ``taken_out``; anything QA
    still finds (``left``) got past it, and the media may carry it, so it is an error."""
    if left:
        return QACheck(name="pii", passed=False,
                       message="personal data was still in the script after redact (now "
                       "taken out; the media may hold it): " + ", ".join(describe(left)))
    if taken_out:
        return QACheck(name="pii", passed=True, severity="info",
                       message="taken out after write: " + ", ".join(taken_out) + "; none left")
    return QACheck(name="pii", passed=True, severity="info", message="no personal data found")
