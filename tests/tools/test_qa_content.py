"""The content checks of QA, each on a hand-built script with one known defect.

Research is built from the real sample pages (paragraphs as passages) and the real MiniLM
embedder: every check must flag the defect it exists for, say where it is, and pass the
same script without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.content import Brief, Finding, QACheck, Research, Script, Section, Source
from assistant.tools.knowledge.embeddings import Embedder, get_embedder
from assistant.tools.quality.checks import (
    check_call_to_action,
    check_citations,
    check_hook,
    check_invented,
    check_on_topic,
    check_platform_limits,
    check_repeated_runs,
    check_repetition,
    check_support,
    run_text_checks,
)
from assistant.tools.quality.platforms import platforms_for
from assistant.tools.quality.text import BrandRules, QAContext
from assistant.tools.quality.topic import gate_stats
from tests.conftest import SAMPLE_KB

PAGES = {"src-tides": "how-tides-work.md", "src-sky": "why-the-sky-is-blue.md",
         "src-vax": "how-vaccines-work.md"}
TIDES_URL = "https://en.wikipedia.org/wiki/Tide"

# Sentences copied from the sample pages.
MOON = ("Ocean tides are driven mainly by the gravitational pull of the Moon, with a smaller "
        "contribution from the gravity of the Sun.")
FUNDY = ("The Bay of Fundy in eastern Canada has the largest tidal range in the world, reaching "
         "about 16 metres at the head of the bay.")
TWICE = ("On coasts with two tides each lunar day, successive high tides arrive about 12 hours "
         "and 25 minutes apart.")
VACCINE = ("Vaccines train the immune system to recognise a germ before a person ever meets the "
           "real infection.")
SKY = ("Scattered blue light reaches our eyes from every direction, so the whole dome of the "
       "sky appears to glow blue.")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="module")
def research() -> Research:
    findings, sources = [], []
    for sid, name in PAGES.items():
        path = SAMPLE_KB / name
        text = path.read_text(encoding="utf-8")
        title = text.splitlines()[0].lstrip("# ")
        url = TIDES_URL if sid == "src-tides" else ""
        sources.append(Source(id=sid, title=title, uri=str(path), url=url))
        for i, para in enumerate(p for p in text.split("\n\n") if not p.startswith("#")):
            findings.append(Finding(text=para.strip(), source_id=sid, chunk_index=i))
    return Research(query="how tides work", findings=findings, sources=sources)


def script(*texts: str, cite: str = "src-tides", **kw: object) -> Script:
    fields: dict[str, object] = {
        "format": "blog", "title": "How Tides Work",
        "hook": "Why does the sea rise and fall twice a day?",
        "sections": [Section(heading=f"Part {i}", text=t, citations=[cite])
                     for i, t in enumerate(texts, 1)],
        "call_to_action": "Follow for more ocean science.",
        "description": "A sourced explainer on tides: the Moon, the Sun and the coast.",
        "citations": [],
    }
    fields.update(kw)
    return Script.model_validate(fields)


def ctx(s: Script, research: Research, embedder: Embedder | None, topic: str = "how tides work",
        platforms: list[str] | None = None) -> QAContext:
    s.citations = [src for src in research.sources
                   if any(src.id in sec.citations for sec in s.sections)]
    brief = Brief.create(topic, s.format, words=max(s.word_count(), 1))
    return QAContext(brief, s, research, BrandRules(), s.body_text(), 12, embedder,
                     platforms or [])


def failed(check: QACheck) -> bool:
    return not check.passed


def test_a_faithful_script_passes_every_error_check(research: Research,
                                                    embedder: Embedder) -> None:
    checks = run_text_checks(ctx(script(MOON, f"{FUNDY} {TWICE}"), research, embedder))
    errors = [c for c in checks if c.severity == "error" and not c.passed]
    assert errors == []


# --- invented facts -----------------------------------------------------------------------


def test_an_invented_number_is_flagged_where_it_is(research: Research) -> None:
    bad = FUNDY.replace("16 metres", "37 metres")
    result = check_invented(ctx(script(MOON, bad), research, None))
    assert failed(result) and result.severity == "error"
    assert "section 2" in result.message and "37" in result.message
    assert "16" not in result.message.split("(")[0]  # the true figure is not blamed


def test_an_invented_name_and_year_anywhere_are_flagged(research: Research) -> None:
    cta = "Join the Severn Tide Club, founded in 1998."
    result = check_invented(ctx(script(MOON, call_to_action=cta), research, None))
    assert failed(result)
    assert "call to action" in result.message
    assert "1998" in result.message and "Severn Tide Club" in result.message


def test_facts_from_the_passages_or_the_request_are_not_invented(research: Research) -> None:
    s = script(MOON, FUNDY, title="Tides in 3 Minutes")
    assert failed(check_invented(ctx(s, research, None)))  # "3" is nowhere
    s = script(MOON, FUNDY, title="The Bay of Fundy and 16 metres of tide")
    assert check_invented(ctx(s, research, None, topic="tides in 3 minutes")).passed


# --- support --------------------------------------------------------------------------------


def test_a_made_up_sentence_is_unsupported(research: Research, embedder: Embedder) -> None:
    made_up = "Dolphins schedule the tides by singing to underwater volcanoes every night."
    result = check_support(ctx(script(MOON, made_up), research, embedder))
    assert failed(result) and result.severity == "error"
    assert "1 of " in result.message and "section 2" in result.message
    assert "Dolphins schedule" in result.message


def test_a_changed_number_is_unsupported_even_when_the_words_match(
        research: Research, embedder: Embedder) -> None:
    changed = TWICE.replace("12 hours", "14 hours")
    result = check_support(ctx(script(changed), research, embedder))
    assert failed(result) and "14" in result.message


def test_a_sentence_from_a_source_the_section_does_not_cite(
        research: Research, embedder: Embedder) -> None:
    s = script(MOON)
    s.sections.append(Section(text=VACCINE, citations=["src-tides"]))
    result = check_support(ctx(s, research, embedder))
    assert failed(result) and "backed only by 'How Vaccines Work'" in result.message


def test_a_description_claim_is_checked_but_a_description_of_the_piece_is_not(
        research: Research, embedder: Embedder) -> None:
    assert check_support(ctx(script(MOON), research, embedder)).passed
    claim = "Tides are a sustainable water supply provider that uses advanced technology."
    result = check_support(ctx(script(MOON, description=claim), research, embedder))
    assert failed(result) and "description" in result.message


def test_a_paraphrase_is_supported(research: Research, embedder: Embedder) -> None:
    paraphrase = "Mostly it is the Moon's pull that makes the ocean tides, with some help " \
                 "from the Sun."
    assert check_support(ctx(script(paraphrase), research, embedder)).passed


# --- on topic -------------------------------------------------------------------------------


def test_an_off_topic_section_is_named(research: Research, embedder: Embedder) -> None:
    s = script(MOON, VACCINE, FUNDY)
    s.sections[1].citations = ["src-vax"]
    result = check_on_topic(ctx(s, research, embedder))
    assert failed(result) and result.severity == "error"
    assert "1 of 3 sections off topic" in result.message and "section 2" in result.message


def test_shared_words_do_not_make_a_section_on_topic(research: Research,
                                                     embedder: Embedder) -> None:
    # The trap: a piece on blue whales built from the page on why the sky is blue.
    s = script(SKY, cite="src-sky")
    result = check_on_topic(ctx(s, research, embedder, topic="how big blue whales grow"))
    assert failed(result) and "whale" in result.message
    assert check_on_topic(ctx(s, research, embedder, topic="why the sky is blue")).passed


# --- repetition -----------------------------------------------------------------------------


def test_a_repeated_sentence_is_an_error_naming_both_places(research: Research) -> None:
    result = check_repetition(ctx(script(MOON, f"{FUNDY} {MOON}"), research, None))
    assert failed(result) and result.severity == "error"
    assert "section 2: repeats a sentence from section 1" in result.message


def test_a_repeated_six_word_run_is_a_warning(research: Research) -> None:
    s = script(MOON, "Tides matter because they are driven mainly by the gravitational pull.")
    result = check_repeated_runs(ctx(s, research, None))
    assert failed(result) and result.severity == "warning"
    assert "driven mainly by the gravitational pull" in result.message
    assert check_repeated_runs(ctx(script(MOON, FUNDY), research, None)).passed


# --- hook and call to action ----------------------------------------------------------------


@pytest.mark.parametrize("hook", [
    "The answer to the question of how tides work is how tides work.",
    "Ever wondered how tides work?",
    "How Tides Work",
])
def test_a_hook_that_restates_the_topic_fails(research: Research, hook: str) -> None:
    result = check_hook(ctx(script(MOON, hook=hook), research, None))
    assert failed(result) and result.severity == "warning"


@pytest.mark.parametrize("cta,why", [
    ("How Tides Work", "asks for no action"),
    ("Tides matter to every coast.", "asks for no action"),
    ("Visit the Bay of Fundy, where tides reach 16 metres.", "states facts"),
])
def test_a_call_to_action_must_ask_and_state_no_facts(research: Research, cta: str,
                                                      why: str) -> None:
    result = check_call_to_action(ctx(script(MOON, call_to_action=cta), research, None))
    assert failed(result) and why in result.message


def test_a_real_call_to_action_passes(research: Research) -> None:
    s = script(MOON, call_to_action="Share this with someone who lives by the sea.")
    assert check_call_to_action(ctx(s, research, None)).passed


# --- citations ------------------------------------------------------------------------------


def test_only_urls_this_job_retrieved_may_be_cited(research: Research) -> None:
    c = ctx(script(MOON), research, None)
    assert check_citations(c).passed
    c.script.citations = [c.script.citations[0].model_copy(
        update={"url": "https://example.com/tides"})]
    result = check_citations(c)
    assert failed(result) and "https://example.com/tides" in result.message
    linked = script(f"{MOON} See https://en.wikipedia.org/wiki/Moon for more.")
    result = check_citations(ctx(linked, research, None))
    assert failed(result) and "did not retrieve" in result.message
    retrieved = script(f"{MOON} See {TIDES_URL} for more.")
    assert check_citations(ctx(retrieved, research, None)).passed


# --- platform limits ------------------------------------------------------------------------


def test_platforms_come_from_the_format_and_the_publisher() -> None:
    assert platforms_for("short") == ["youtube", "tiktok", "instagram"]
    assert platforms_for("social") == ["x", "instagram"]
    assert platforms_for("blog") == []
    assert platforms_for("blog", "youtube") == ["youtube"]
    assert platforms_for("blog", "outbox") == []


def test_a_post_over_280_characters_fails_on_x(research: Research) -> None:
    s = script(f"{MOON} {FUNDY}", format="social", hashtags=["#tides"])
    errors = check_platform_limits(ctx(s, research, None, platforms=["x"]))
    assert failed(errors[0]) and errors[0].severity == "error"
    assert "x post 1" in errors[0].message and "(limit 280)" in errors[0].message
    short = script("Tides rise twice a day.", format="social", hook="Why?",
                   call_to_action="Follow.", hashtags=["#tides"])
    assert check_platform_limits(ctx(short, research, None, platforms=["x"]))[0].passed


def test_youtube_title_and_hashtag_limits(research: Research) -> None:
    s = script(MOON, format="short", title="T" * 101)
    result = check_platform_limits(ctx(s, research, None, platforms=["youtube"]))[0]
    assert failed(result) and "youtube title: 101 characters (limit 100)" in result.message
    tags = [f"#t{i}" for i in range(31)]
    result = check_platform_limits(ctx(script(MOON, hashtags=tags), research, None,
                                       platforms=["instagram"]))[0]
    assert failed(result) and "31 hashtags (limit 30)" in result.message


def test_hashtags_over_the_platforms_advice_are_a_warning(research: Research) -> None:
    s = script("Tides rise twice a day.", format="social", hashtags=["#a", "#b", "#c"])
    checks = check_platform_limits(ctx(s, research, None, platforms=["x"]))
    assert checks[0].passed
    assert checks[1].name == "platform_advice" and checks[1].severity == "warning"
    assert failed(checks[1]) and "advises at most 2" in checks[1].message


def test_every_section_cites_the_file_it_came_from(research: Research, tmp_path: Path) -> None:
    # A knowledge-base source whose stored file is gone cannot be cited.
    page = tmp_path / "tides.md"
    page.write_text("# Tides\n", encoding="utf-8")
    gone = research.model_copy(update={"sources": [
        s.model_copy(update={"uri": str(page)}) if s.id == "src-tides" else s
        for s in research.sources]})
    c = ctx(script(MOON), gone, None)
    assert check_citations(c).passed
    page.unlink()
    assert "missing file" in check_citations(c).message


def test_the_gate_weighs_key_terms_as_research_does(research: Research,
                                                    embedder: Embedder) -> None:
    stats = gate_stats("en")
    if stats is None:
        pytest.skip("the offline encyclopedia is not installed: key terms weigh alike")
    s = script(SKY, cite="src-sky")
    c = ctx(s, research, embedder, topic="how big blue whales grow")
    c.term_stats = stats
    assert failed(check_on_topic(c))
    c = ctx(script(MOON, FUNDY), research, embedder)
    c.term_stats = stats
    assert check_on_topic(c).passed
