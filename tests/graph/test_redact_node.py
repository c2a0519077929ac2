"""The redact step on a hand-built state: what a model put in the script leaves before the
review, write's stored copies are replaced in place, approved contacts stay, and the
writer's brand rules keep contact sentences out of its pool."""

from __future__ import annotations

from pathlib import Path

from assistant.app.studio import Services
from assistant.content import Brief, Script, Section
from assistant.graph.nodes import redact
from assistant.graph.state import PipelineState
from assistant.tools.quality.text import BrandRules

EMAIL, PHONE = "jane.doe@hedgehog-rescue.org", "+44 20 7946 0958"


def leaky_script() -> Script:
    return Script(
        format="short", title="Injured hedgehogs", hook="Found a hedgehog out by day?",
        sections=[
            Section(heading="Warmth", text="Put it in a box with a towel. Keep it somewhere "
                    f"quiet and warm. Then call {PHONE}.", visual_prompt=f"A box; {EMAIL}"),
            Section(heading="Report it", text=f"Email {EMAIL} or call {PHONE}."),
        ],
        call_to_action="Follow for more wildlife first aid.",
        description=f"How to help an injured hedgehog. Contact: {EMAIL}",
    )


def state_for(svc: Services, script: Script) -> PipelineState:
    svc.repo.create_job("job-0000redact", title="hedgehogs", content_type="short")
    for name, text in (("script.json", script.model_dump_json()), ("script.md", EMAIL)):
        svc.objects.put("job-0000redact", name, text, step="write", type="script", version=1)
    return {"job_id": "job-0000redact", "brief": Brief.create("injured hedgehogs", "short"),
            "script": script}


def test_redact_takes_a_models_personal_data_out_and_overwrites_the_draft(
        svc: Services) -> None:
    update = redact.run(state_for(svc, leaky_script()), svc)
    script = update["script"]
    assert isinstance(script, Script)
    dumped = script.model_dump_json()
    assert EMAIL not in dumped and "7946" not in dumped
    assert [s.heading for s in script.sections] == ["Warmth"]  # the contact-only section went
    assert script.sections[0].text == "Put it in a box with a towel. Keep it somewhere quiet " \
        "and warm."
    assert script.description == "How to help an injured hedgehog."  # a contact line went
    assert "personal data taken out before review: 3 email addresses, 2 phone numbers" in \
        script.notes
    for name in ("script.json", "script.md"):
        assert svc.objects.list("job-0000redact")  # still one version each, rewritten
        record = svc.objects.get("job-0000redact", name)
        assert record is not None and record.version == 1
        assert EMAIL not in Path(record.path).read_text(encoding="utf-8"), name


def test_a_clean_script_is_not_touched(svc: Services) -> None:
    clean = leaky_script().model_copy(update={
        "sections": [Section(heading="Warmth", text="Put it in a box with a towel.")],
        "description": "How to help an injured hedgehog."})
    assert redact.run(state_for(svc, clean), svc) == {}


def test_an_approved_contact_stays(svc: Services, tmp_path: Path) -> None:
    rules = tmp_path / "brand.yaml"
    rules.write_text(f"allowed_contacts: ['{EMAIL}']\nphone_region: GB\n", encoding="utf-8")
    svc.settings.brand_rules_path = rules
    script = redact.run(state_for(svc, leaky_script()), svc)["script"]
    assert isinstance(script, Script)
    assert script.description.endswith(EMAIL) and "7946" not in script.model_dump_json()


def test_the_writers_brand_rules_keep_contact_sentences_out() -> None:
    rules = BrandRules(banned_phrases=["miracle cure"])
    assert rules.banned_in(f"Report it on {PHONE}.") == ["personal data (1 phone number)"]
    assert rules.banned_in("A miracle cure.") == ["miracle cure"]
    assert rules.banned_in("Hedgehogs hibernate from November to March.") == []
    approved = BrandRules(allowed_contacts=[PHONE])
    assert approved.banned_in(f"Report it on {PHONE}.") == []
