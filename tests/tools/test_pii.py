"""Personal data: each detector on true values and on look-alikes, the script's redaction
(what is heard, what is read), approved contacts, and its speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.content import MediaAssets, Script, Section, Source
from assistant.tools.quality.media import caption_text, personal_data_checks
from assistant.tools.quality.pii import Detector, describe, iban_valid, luhn_valid
from assistant.tools.quality.redaction import NOTE_PREFIX, counts_from_notes, redact_script
from assistant.tools.quality.text import BrandRules

US, GB = Detector("US"), Detector("GB")


def kinds(text: str, detector: Detector = US) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in detector.find(text)]


@pytest.mark.parametrize("text,kind,value", [
    ("write to ana@example.org today", "email", "ana@example.org"),
    ("Mail Jane.Doe+rescue@wildlife-trust.co.uk.", "email", "Jane.Doe+rescue@wildlife-trust.co.uk"),
    ("jane dot doe at example dot org", "email", "jane dot doe at example dot org"),
    ("contact jane [at] example [dot] org", "email", "jane [at] example [dot] org"),
    ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
    ("call +1 415-555-0132.", "phone", "+1 415-555-0132"),
    ("call (415) 555-0132 now", "phone", "(415) 555-0132"),
    ("or +33 1 42 68 53 00 in Paris", "phone", "+33 1 42 68 53 00"),
    ("phone 555-0132 after six", "phone", "555-0132"),  # local: the cue word says so
    ("card 4111 1111 1111 1111 please", "card", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005", "card", "3782-822463-10005"),
    ("SSN 123-45-6789 on file", "ssn", "123-45-6789"),
    ("IBAN GB82 WEST 1234 5698 7654 32 and", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("pay DE89370400440532013000 NOW", "iban", "DE89370400440532013000"),
])
def test_personal_data_is_found(text: str, kind: str, value: str) -> None:
    assert kinds(text) == [(kind, value)]


@pytest.mark.parametrize("text", [
    "From 1998-2004 the colony grew, and in 1987-88 it halved.",
    "ISBN 978-0-306-40615-7 and ISBN 0-306-40615-2 describe it.",
    "Requires version 3.11.4 or 2.14.1.",
    "On 2024-05-17 at 10:30 the tide peaked.",
    "The Bay of Fundy has a 16 m range; La Rance makes 240 MW since 1966.",
    "Between 1,000,000 and 2,500,000 hedgehogs live at 51.5074, -0.1278.",
    "card 4111 1111 1111 1112",  # fails Luhn
    "order 9780306406157 arrived",  # an ISBN-13, not a card prefix
    "SSN 000-12-3456 and 666-12-3456 are never issued",
    "GB82 WEST 1234 5698 7654 33",  # fails mod 97
    "look at the sky, then at the sea",
    "the file report.pdf at example sites",
])
def test_look_alikes_are_not_personal_data(text: str) -> None:
    assert kinds(text) == [] and kinds(text, GB) == []


def test_national_formats_follow_the_region() -> None:
    assert kinds("ring 020 7946 0958 please", GB) == [("phone", "020 7946 0958")]
    assert kinds("ring 020 7946 0958 please", US) == [("phone", "020 7946 0958")]  # cue word
    assert kinds("the office, 020 7946 0958, opens at nine", US) == []
    assert kinds("the office, 020 7946 0958, opens at nine", GB) == [("phone", "020 7946 0958")]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST1234569876543")


def test_a_match_never_shows_its_value() -> None:
    match = US.find("mail ana@example.org")[0]
    assert "ana@" not in repr(match) and "ana@" not in str(match)
    assert describe({"email": 2, "phone": 1}) == ["2 email addresses", "1 phone number"]


def test_transcripts_are_read_for_spoken_forms() -> None:
    spoken = [
        "call five five five zero one three two now",
        "call 415 555 0132",
        "0 2 0 7 9 4 6 0 9 5 8",
        "write to jane at example dot org",
        # what faster-whisper tiny.en heard in a voiceover that read out
        # "+44 20 7946 0958" and "jane.doe@hedgehog-rescue.org" (before redaction existed)
        "phone the rescue coordinator, Jane Doe, on plus 4427,946-0958, reporting",
        "by email to jane.dowathedjogrescue.org with the photo",
    ]
    for text in spoken:
        assert US.find_spoken(text), text
    for text in ["from 1998-2004 it grew", "it costs 1500 dollars in 2024", "one or two of them",
                 "about 1,500,000 hedgehogs", "pi is 3.14159265", "Follow for more, like this."]:
        assert US.find_spoken(text) == [], text
    assert US.count("to jane.dowathedjogrescue.org", spoken=True) == {"address": 1}
    approved = Detector("US", ["https://www.hedgehog-rescue.org/report"])
    assert approved.find_spoken("visit hedgehog-rescue.org today") == []


def test_approved_contacts_stay() -> None:
    rules = BrandRules(allowed_contacts=["press@rescue.org", "+1 (415) 555-0100",
                                         "https://wa.me/14155550199"])
    detector = rules.detector()
    text = ("Email press@rescue.org or call 415-555-0100 or message https://wa.me/14155550199;"
            " never jane@rescue.org or 415-555-0132.")
    assert kinds(text, detector) == [("email", "jane@rescue.org"), ("phone", "415-555-0132")]


SHORT_TEXT = ("Keep an injured hedgehog warm in a box with a towel. Report it to the coordinator "
              "at jane.doe@example.org or on +1 415-555-0132. Never give it milk.")


def script(fmt: str, text: str = SHORT_TEXT, **kw: object) -> Script:
    fields: dict[str, object] = {
        "format": fmt, "title": "Injured hedgehogs", "hook": "Found a hurt hedgehog?",
        "sections": [Section(heading="What to do", text=text, citations=["src-1"],
                             visual_prompt="A hedgehog in a box. A card reading "
                             "jane.doe@example.org.")],
        "citations": [Source(id="src-1", title="Hedgehog rescue", uri="")],
        "call_to_action": "Call 415-555-0132 to report one.",
        "description": "Email jane.doe@example.org with questions.",
        "hashtags": ["#hedgehogs", "#jane.doe@example.org"],
    }
    fields.update(kw)
    return Script.model_validate(fields)


def test_a_spoken_script_leaves_contact_sentences_out() -> None:
    redacted, redaction = redact_script(script("short"), US)
    dumped = redacted.model_dump_json()
    assert "jane.doe" not in dumped and "555-0132" not in dumped
    section = redacted.sections[0]
    assert section.text == ("Keep an injured hedgehog warm in a box with a towel. "
                            "Never give it milk.")
    assert section.visual_prompt == "A hedgehog in a box."
    assert redacted.call_to_action == ""  # it was only a contact line
    assert redacted.description == ""  # so was this, though it is read
    assert redacted.hashtags == ["#hedgehogs"]
    assert "[" not in " ".join(redacted.spoken_scenes())  # nothing bracketed is spoken
    assert redaction.counts == {"email": 4, "phone": 2}
    assert counts_from_notes(redacted.notes) == ["4 email addresses", "2 phone numbers"]
    assert redacted.notes[0].startswith(NOTE_PREFIX)


def test_a_written_script_keeps_placeholders_where_the_sentence_still_says_something() -> None:
    redacted, _ = redact_script(script("blog"), US)
    text = redacted.sections[0].text
    assert "Report it to the coordinator at [email] or on [phone]." not in text  # contact only
    kept = script("blog", text="Questions about hedgehog rescue and winter feeding go to "
                  "jane.doe@example.org.\n\nFeed them cat food.")
    text = redact_script(kept, US)[0].sections[0].text
    assert text == ("Questions about hedgehog rescue and winter feeding go to [email].\n\n"
                    "Feed them cat food.")


def test_a_section_of_contact_lines_goes_but_never_the_whole_body() -> None:
    two = script("short", sections=[
        Section(heading="Facts", text="Hedgehogs hibernate from November.", citations=["s"]),
        Section(heading="Contact", text="Call 415-555-0132.", citations=["s"])])
    redacted, redaction = redact_script(two, US)
    assert [s.heading for s in redacted.sections] == ["Facts"]
    assert redaction.sections_dropped == 1
    alone = script("short", sections=[Section(heading="Contact", text="Call 415-555-0132.")])
    assert redact_script(alone, US)[0].sections[0].text == "Call [phone]."


def test_a_clean_script_is_left_as_it_is() -> None:
    clean = script("short", text="Hedgehogs eat beetles.", call_to_action="Follow for more.",
                   description="Hedgehog facts.", hashtags=["#hedgehogs"],
                   sections=[Section(heading="Food", text="Hedgehogs eat beetles.")])
    redacted, redaction = redact_script(clean, US)
    assert not redaction.counts and redacted == clean


def test_detection_is_fast_enough_for_every_script() -> None:
    # A long piece: a 1,500-word blog with contacts in it, and every field of it.
    body = " ".join([SHORT_TEXT] + ["Hedgehogs forage at night for beetles and worms, "
                                    "covering up to 2 km between 1998 and 2004."] * 80)
    long = script("blog", text=body)
    redact_script(long, US)  # warm: the phone metadata and the sentence splitter load once
    started = time.perf_counter()
    for _ in range(5):
        redact_script(long, US)
    per_script = (time.perf_counter() - started) / 5
    assert per_script < 0.05, f"{per_script * 1000:.1f} ms per script"


def test_the_voiceover_and_captions_are_checked(tmp_path: Path) -> None:
    srt = tmp_path / "captions.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nCall 415 555\n\n"
                   "2\n00:00:02,000 --> 00:00:04,000\n0132 today\n", encoding="utf-8")
    ass = tmp_path / "captions.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, "
                   "Fontsize\nStyle: Default,DejaVu Sans,40\n\n[Events]\nFormat: Layer, Start, "
                   "End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,"
                   "0:00:00.00,0:00:02.00,Default,,0,0,0,,{\\k20}Hedgehogs {\\k30}sleep\n",
                   encoding="utf-8")
    assert caption_text(srt) == "Call 415 555 0132 today"
    media = MediaAssets(transcript="Report it to Jane at example dot org.",
                        captions_srt=str(srt), captions_ass=str(ass))
    checks = {c.name: c for c in personal_data_checks(media, US)}
    assert not checks["voiceover_pii"].passed and checks["voiceover_pii"].severity == "error"
    assert "email address" in checks["voiceover_pii"].message
    assert "example" not in checks["voiceover_pii"].message
    assert not checks["captions_srt_pii"].passed and "phone number" in \
        checks["captions_srt_pii"].message
    assert checks["captions_ass_pii"].passed
