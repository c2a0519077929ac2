"""The write node on hand-built states: real embedder, real verifier, a stand-in model.

The stand-in reads what it is shown (tests/fakes.py ``reading``) so it can plant a wrong
number in a rewrite of whichever sentence the writer chose; ``scripted`` drafts plant a false
number and an off-topic paragraph in generative mode.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assistant.app.studio import Services
from assistant.content import Brief, Finding, Research, Script, Source
from assistant.graph.nodes import review, write
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.support import facts_in, restates_topic, trace
from assistant.tools.quality.topic import off_topic_sections
from assistant.tools.writing.compose import runs
from tests.fakes import reading, scripted

SAMPLE_KB = Path(__file__).resolve().parents[2] / "assistant" / "data" / "sample_kb"
_SOURCE = re.compile(r"<source id=(\d+)>\n(.*?)\n</source>", re.S)


def research_of(page: str, source_id: str, title: str) -> Research:
    text = (SAMPLE_KB / page).read_text(encoding="utf-8")
    findings = []
    for i, block in enumerate(text.split("\n## ")):
        heading, _, body = block.partition("\n")
        findings.append(Finding(text=body.strip(), source_id=source_id, chunk_index=i,
                                heading="" if heading.startswith("# ") else heading.strip()))
    return Research(query=title, findings=findings,
                    sources=[Source(id=source_id, title=title, uri=f"kb://{page}")])


def run_write(svc: Services, brief: Brief, research: Research) -> Script:
    job = f"job-write-{brief.format}"
    svc.repo.create_job(job, title=brief.topic, content_type=brief.format)
    update = write.run({"job_id": job, "brief": brief, "research": research}, svc)
    script = update["script"]
    assert isinstance(script, Script)
    return script


def all_sentences(script: Script) -> list[str]:
    return [s for section in script.sections for s in split_sentences(section.text)]


def assert_truthful(script: Script, research: Research, svc: Services,
                    topic: str | None) -> None:
    """Every body sentence traced to a passage; citations are the passages' sources; no
    repeated sentence or six-word run anywhere the audience reads or hears. With a topic,
    each sentence must also be near it on its own (None: as QA traces, the sections' topic
    is the relevance gate's to judge)."""
    passages = [f.text for f in research.findings]
    sentences = all_sentences(script)
    for sentence, found in zip(sentences, trace(sentences, passages, svc.embedder(),
                                                 topic=topic), strict=True):
        assert found.verdict.supported, (sentence, found.verdict.reason)
    for section in script.sections:
        owners = {f.source_id for f in research.findings
                  if any(s in f.text for s in split_sentences(section.text))}
        assert section.citations and set(section.citations) <= {s.id for s in research.sources}
        assert owners <= set(section.citations)
    seen: set[tuple[str, ...]] = set()
    for text in [script.hook, *sentences, script.call_to_action]:
        grams = runs(text)
        assert not grams & seen, text
        seen |= grams


def planting_model(prompt: str) -> str | dict[str, Any]:
    """Rewrites every sentence faithfully except the first (a wrong number and a year) and
    the second (an invented name); frames with a restated topic and a fact-laden CTA."""
    if "Rewrite each source" in prompt:
        out = []
        for number, text in _SOURCE.findall(prompt):
            n = int(number)
            rewrite = "In fact, " + text[0].lower() + text[1:]  # faithful, but reworded
            if n == 1:
                rewrite = text.rstrip(".") + ", about 42 metres in 1999."
            elif n == 2:
                rewrite = "According to Dr Brindlewood, " + text[0].lower() + text[1:]
            out.append({"source": n, "text": rewrite})
        return {"sentences": out}
    return {"title": "Why the Sky Is Blue", "hook": "Why is the sky blue? Because the sky is "
            "blue.", "call_to_action": "Follow us: NASA says 98% of skies are blue.",
            "description": "The sky is blue because of Rayleigh scattering."}


def test_a_short_refuses_planted_facts_a_restated_hook_and_a_factual_cta(svc: Services) -> None:
    svc.set_chat(reading(planting_model))
    research = research_of("why-the-sky-is-blue.md", "sky", "Why the Sky Is Blue")
    brief = Brief.create("why the sky is blue", "short")
    script = run_write(svc, brief, research)
    text = " ".join([script.hook, *all_sentences(script), script.call_to_action])
    assert "42 metres" not in text and "1999" not in text and "Brindlewood" not in text
    assert not restates_topic(script.hook, brief.topic)
    assert not facts_in(script.call_to_action) and "98%" not in text
    assert any("refused by the verifier" in n for n in script.notes)
    assert any(n.startswith("hook") for n in script.notes)
    assert 3 <= len(script.sections) <= 4
    # Faithful rewrites (source 3 onwards) were kept as the model wrote them.
    assert any("rephrased" in n and not n.startswith("rephrased 0") for n in script.notes)
    assert_truthful(script, research, svc, brief.topic)
    assert script.word_count() <= brief.target_words * 1.15


def test_a_hook_question_is_answered_by_the_body(svc: Services) -> None:
    def model(prompt: str) -> str | dict[str, Any]:
        if "Rewrite each source" in prompt:
            return "no"
        return {"title": "How Tides Work", "call_to_action": "Share this with a friend.",
                "hook": "Why does the sea rise and fall, and what does the Moon have to do "
                        "with it?",
                "description": "Tides are the regular rise and fall of sea level."}

    svc.set_chat(reading(model))
    research = research_of("how-tides-work.md", "tides", "How Tides Work")
    script = run_write(svc, Brief.create("how tides work", "short"), research)
    assert script.hook.startswith("Why does the sea rise and fall")
    body = " ".join(all_sentences(script))
    assert "rise and fall" in body and "Moon" in body
    assert script.call_to_action == "Share this with a friend."
    assert_truthful(script, research, svc, "how tides work")


def test_a_blog_on_the_tides_page_reaches_its_length(svc: Services) -> None:
    svc.set_chat(scripted("not json"))
    research = research_of("how-tides-work.md", "tides", "How Tides Work")
    brief = Brief.create("how tides work", "blog")
    script = run_write(svc, brief, research)
    assert 680 <= script.word_count() <= 920, (script.word_count(), script.notes)
    assert not any(n.startswith("sources too thin") for n in script.notes)
    assert len({s.heading for s in script.sections}) == len(script.sections)
    assert_truthful(script, research, svc, brief.topic)


def test_a_blog_on_thin_sources_stops_short_and_the_review_says_so(svc: Services) -> None:
    svc.set_chat(scripted("not json"))
    full = research_of("how-tides-work.md", "tides", "How Tides Work")
    thin = full.model_copy(update={"findings": full.findings[:1]})
    brief = Brief.create("how tides work", "blog")
    script = run_write(svc, brief, thin)
    assert script.word_count() < 200
    assert script.notes[0].startswith(f"sources too thin: {script.word_count()} of 800 words")
    assert "research found 1 passages" in script.notes[0]
    sentences = all_sentences(script)
    assert len(sentences) == len(set(sentences))
    state = {"job_id": "job-write-blog", "brief": brief, "research": thin, "script": script}
    request = review.build_request(state, "review_script")  # type: ignore[arg-type]
    assert request["action_request"]["args"]["writer_notes"][0] == script.notes[0]


@pytest.fixture
def tides() -> Research:
    return research_of("how-tides-work.md", "tides", "How Tides Work")


def test_generative_mode_catches_a_false_number_and_an_off_topic_paragraph(
    svc: Services, tides: Research
) -> None:
    svc.settings.writer_mode = "generative"
    svc.set_chat(scripted({
        "title": "How Tides Work", "hook": "What makes the sea rise and fall twice a day?",
        "sections": [
            {"heading": "The pull of the Moon", "citations": ["tides"],
             "text": "Tides are the regular rise and fall of sea level along the coasts of "
                     "the world, repeated roughly twice every day. The Moon orbits about "
                     "250,000 kilometres from Earth on average, close enough for the lunar "
                     "tidal force to dominate the oceans."},
            {"heading": "Markets", "citations": ["tides"],
             "text": "Stock markets rose sharply in 2021 as investors bought technology "
                     "shares. Analysts at Goldman Sachs expect further gains next year."},
        ],
        "call_to_action": "Follow for more ocean science.",
        "description": "How the Moon drives the tides.", "hashtags": [], "seo_keywords": [],
    }))
    brief = Brief.create("how tides work", "short")
    script = run_write(svc, brief, tides)
    text = " ".join(all_sentences(script))
    assert "250,000" not in text and "384,400 kilometres" in text
    assert "Stock markets" not in text and "Goldman" not in text
    assert "Markets" not in [s.heading for s in script.sections]
    assert any("replaced 1 sentences" in n and "250,000" in n for n in script.notes)
    assert any("removed 2 sentences" in n for n in script.notes)
    assert script.writer.startswith("generative")
    assert_truthful(script, tides, svc, brief.topic)


def test_look_alike_passages_never_make_a_section_qa_would_refuse(svc: Services) -> None:
    """Passages that share a word with the topic ("blue") but are about something else: the
    writer asks the relevance gate QA uses, so no section of them survives."""
    svc.set_chat(scripted("no"))
    sky = research_of("why-the-sky-is-blue.md", "sky", "Why the Sky Is Blue")
    whale = Finding(source_id="whale", heading="", chunk_index=0, text=(
        "The blue whale is a marine mammal and the largest animal known to have ever existed. "
        "Blue whales feed almost only on krill and can eat about 4 tonnes a day. An optical "
        "effect called the Tyndall effect explains blue eyes."))
    research = sky.model_copy(update={
        "findings": [whale, *sky.findings[:3]],
        "sources": [*sky.sources, Source(id="whale", title="Blue whale", uri="kb://whale")]})
    brief = Brief.create("why the sky is blue", "short")
    script = run_write(svc, brief, research)
    text = script.body_text()
    assert "whale" not in text.lower() and "Tyndall" not in text
    assert off_topic_sections(script, research, brief, svc.embedder()) == []


# --- the person's own pages, framing that reads right -----------------------------------

EVAL_KB = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "kb"


def own_page(page: str, source_id: str) -> Research:
    """A knowledge-base page as research hands it over: one finding per section, the page
    a ``kb`` source titled by its first heading."""
    text = (EVAL_KB / page).read_text(encoding="utf-8")
    title = text.splitlines()[0].removeprefix("# ").strip()
    findings = []
    for i, block in enumerate(text.split("\n## ")):
        heading, _, body = block.partition("\n")
        findings.append(Finding(text=body.strip(), source_id=source_id, chunk_index=i,
                                heading=title if heading.startswith("# ") else heading.strip()))
    return Research(query=title, findings=findings, sources=[
        Source(id=source_id, title=title, uri=f"file://{page}", provider="kb")])


NOTICE_FACTS = ["3 March 2027", "28 May 2027", "214 households", "9:00 and 15:00",
                "St Aidan's Church Hall", "2 minutes", "SVW-4471"]


def test_the_persons_notice_fills_its_beats_with_its_facts_in_order(svc: Services) -> None:
    """Few sentences of a notice repeat its request's words ("Residents should fill a
    kettle ...", the "What Residents Should Do" section scores 0.27): on the person's own
    page about the request they fill the beats all the same, in the notice's order."""
    svc.set_chat(scripted("not json"))
    research = own_page("harrowgate-lane-water-main.md", "notice")
    brief = Brief.create("the Harrowgate Lane water main replacement", "blog", "professional",
                         words=500)
    script = run_write(svc, brief, research)
    text = script.body_text()
    kept = [fact for fact in NOTICE_FACTS if fact in text]
    assert len(kept) == len(NOTICE_FACTS), (kept, script.notes)
    headings = [s.heading for s in script.sections]
    assert headings.index("Who Is Affected") < headings.index("What Residents Should Do")
    assert headings[-1] == "Contact"  # further sections go before a notice's contact
    assert "science" not in script.call_to_action  # a style's CTA for explainers
    # "No household will lose its supply for more than 3 days ..." is 0.12 from the request
    # on its own, and exactly what residents need: the gate judges the sections instead.
    assert off_topic_sections(script, research, brief, svc.embedder()) == []
    assert_truthful(script, research, svc, None)


def test_a_short_notice_says_who_is_affected_and_what_to_do(svc: Services) -> None:
    svc.set_chat(scripted("not json"))
    research = own_page("harrowgate-lane-water-main.md", "notice")
    brief = Brief.create("the Harrowgate Lane water main replacement", "short", "professional")
    script = run_write(svc, brief, research)
    text = script.body_text()
    assert "214 households" in text and "Residents should" in text
    assert script.word_count() <= brief.target_words * 1.15
    assert off_topic_sections(script, research, brief, svc.embedder()) == []
    assert_truthful(script, research, svc, None)


def test_a_hook_cta_or_description_that_repeats_the_title_falls_back(svc: Services) -> None:
    """The small model's 'hook' was the title again ("The Tides Work: How the Earth's Tides
    Work"), its call to action "Read the" + title: each field falls back, none repeats."""
    from assistant.tools.writing import framing
    from assistant.tools.writing.compose import Said
    from assistant.tools.writing.templates import style

    research = research_of("how-tides-work.md", "tides", "How Tides Work")
    body = split_sentences(research.findings[0].text)
    title = "Tides Work: How the Earth's Tides Work"
    proposed = framing.Framing(title=title, hook=f"The {title}",
                               call_to_action=f"Read the {title}", description=title)
    brief = Brief.create("how tides work", "short")
    frame = framing.settle(brief, style("casual"), proposed, body=body[1:], evidence=body,
                           reserved=None, embedder=svc.embedder(), said=Said(*body[1:]))
    assert frame.title == title  # names the topic, states nothing new: it may stay
    assert frame.hook != proposed.hook and frame.call_to_action != proposed.call_to_action
    assert frame.description != title
    for field in (frame.hook, frame.call_to_action, frame.description):
        assert not Said(title).repeats(field), (field, frame.fallbacks)
    assert any("call to action repeats the title" in f for f in frame.fallbacks)
    assert any("description" in f for f in frame.fallbacks)


@pytest.mark.parametrize(("fmt", "cta", "wrong"), [
    ("video", "Watch the full video to see more tides!", True),
    ("short", "Watch this short again and share it.", True),
    ("podcast", "Watch our channel for the next episode.", True),
    ("podcast", "Listen to the episode again tomorrow.", True),
    ("blog", "Listen to the tide tables every morning.", True),
    ("video", "Subscribe for more ocean science.", False),
    ("blog", "Share this post with a friend who loves the sea.", False),
    ("podcast", "Follow the show for the next episode.", False),
    ("blog", "Discover the Tides Work", True),  # a verb stuck on the topic
    ("podcast", "Share the How Tides Work", True),
    ("short", "Share your thoughts on tides below.", False),
])
def test_a_call_to_action_suits_its_format(fmt: str, cta: str, wrong: bool) -> None:
    from assistant.tools.writing.framing import call_to_action_problem

    brief = Brief.create("how tides work", fmt)  # type: ignore[arg-type]
    assert (call_to_action_problem(cta, brief) is not None) is wrong
