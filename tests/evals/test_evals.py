"""The eval metrics must count what is wrong: hand-built scripts with one known defect each,
the dataset's own promises, and a small real run of two cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from assistant.config import Settings
from assistant.content import FORMATS, STYLES, Brief, Finding, Research, Script, Section, Source
from assistant.tools.knowledge.embeddings import Embedder, get_embedder
from assistant.tools.knowledge.loaders import split_sentences
from evals.metrics import fact_recall, length_fit, score
from evals.report import summary
from evals.run import KB_DIR, Result, load_cases, main, run_cases, select
from tests.conftest import SAMPLE_KB
from tests.fakes import FRAMING, scripted

TIDES = Source(id="src-tides", title="How Tides Work", uri=str(SAMPLE_KB / "how-tides-work.md"))
VAX = Source(id="src-vax", title="How Vaccines Work", uri=str(SAMPLE_KB / "how-vaccines-work.md"))
MOON = ("Ocean tides are driven mainly by the gravitational pull of the Moon, with a smaller "
        "contribution from the gravity of the Sun.")
FUNDY = ("The Bay of Fundy in eastern Canada has the largest tidal range in the world, reaching "
         "about 16 metres at the head of the bay.")
TWICE = ("On coasts with two tides each lunar day, successive high tides arrive about 12 hours "
         "and 25 minutes apart.")
VACCINE = ("Vaccines train the immune system to recognise a germ before a person ever meets the "
           "real infection.")
RESEARCH = Research(query="how tides work", sources=[TIDES, VAX], findings=[
    Finding(text=f"{MOON} {TWICE}", source_id="src-tides"),
    Finding(text=FUNDY, source_id="src-tides", chunk_index=1),
    Finding(text=VACCINE, source_id="src-vax"),
])


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


def piece(*sections: tuple[str, str], notes: list[str] | None = None) -> Script:
    return Script(
        format="blog", title="How Tides Work", hook="Why does the sea rise and fall twice a day?",
        sections=[Section(text=t, citations=[c]) for t, c in sections],
        call_to_action="Follow for more ocean science.", citations=[TIDES, VAX],
        notes=notes or [])


def brief_for(script: Script, words: int | None = None) -> Brief:
    return Brief.create("how tides work", words=words or script.word_count())


def test_a_faithful_piece_scores_clean(embedder: Embedder) -> None:
    s = piece((MOON, "src-tides"), (f"{FUNDY} {TWICE}", "src-tides"))
    got = score(s, RESEARCH, brief_for(s), ["tides"], [["Moon"], ["16 metres"]], embedder)
    assert (got.on_topic, got.unsupported, got.invented) == (1.0, 0.0, 0)
    assert (got.repeated_sentences, got.repeated_runs) == (0, 0)
    assert got.length_ok and got.fact_recall == 1.0 and got.source_recall == 1.0


def test_an_invented_number_is_counted(embedder: Embedder) -> None:
    s = piece((MOON, "src-tides"), (FUNDY.replace("16 metres", "31 metres"), "src-tides"))
    got = score(s, RESEARCH, brief_for(s), [], [], embedder)
    assert got.invented == 1
    assert got.unsupported > 0  # the sentence with it is not backed either


def test_invented_names_are_counted_one_by_one(embedder: Embedder) -> None:
    s = piece((f"{MOON} The Hartley Institute measured it in 1987.", "src-tides"))
    assert score(s, RESEARCH, brief_for(s), [], [], embedder).invented == 2


def test_a_repeated_sentence_is_counted(embedder: Embedder) -> None:
    s = piece((MOON, "src-tides"), (f"{FUNDY} {MOON}", "src-tides"))
    got = score(s, RESEARCH, brief_for(s), [], [], embedder)
    assert got.repeated_sentences == 1


def test_a_repeated_six_word_run_is_counted(embedder: Embedder) -> None:
    echo = "Coastal towns matter because of the gravitational pull of the Moon, as we saw."
    s = piece((MOON, "src-tides"), (echo, "src-tides"))
    assert score(s, RESEARCH, brief_for(s), [], [], embedder).repeated_runs >= 1


def test_an_off_topic_section_is_counted(embedder: Embedder) -> None:
    s = piece((MOON, "src-tides"), (VACCINE, "src-vax"))
    got = score(s, RESEARCH, brief_for(s), [], [], embedder)
    assert got.on_topic == 0.5
    assert got.unsupported == 0.0  # true, and cited: only off topic


def test_an_unsupported_sentence_is_counted(embedder: Embedder) -> None:
    made_up = "Dolphins schedule the tides by singing to underwater volcanoes every night."
    s = piece((MOON, "src-tides"), (made_up, "src-tides"))
    got = score(s, RESEARCH, brief_for(s), [], [], embedder)
    assert got.unsupported == pytest.approx(1 / got.sentences)
    assert got.invented == 0  # no number or name: support is what catches it


def test_a_too_short_piece_fails_length_unless_the_writer_says_so() -> None:
    s = piece((MOON, "src-tides"))
    ratio, ok, thin = length_fit(s, brief_for(s, words=200))
    assert ratio < 0.85 and not ok and not thin
    assert length_fit(s, brief_for(s, words=round(s.word_count() / 1.25)))[1] is False  # long
    assert length_fit(s, brief_for(s, words=round(s.word_count() / 1.10)))[1] is True
    # The same bounds as QA's length check: 102 of 120 words fits (round(120 * 0.85)).
    assert length_fit(s, brief_for(s, words=round(s.word_count() / 0.85)))[1] is True
    noted = piece((MOON, "src-tides"), notes=["length: sources too thin for 200 words"])
    assert length_fit(noted, brief_for(noted, words=200))[1:] == (True, True)


def test_key_facts_with_digits_or_capitals_must_be_kept_exactly() -> None:
    s = piece((f"{FUNDY} Works start on 3 March 2027.", "src-tides"))
    assert fact_recall(s, [["3 March 2027"]]) == 1.0
    assert fact_recall(s, [["March 3, 2027"]]) == 0.0
    assert fact_recall(s, [["16 metres"], ["16 m"], ["bay of fundy"]]) == pytest.approx(2 / 3)
    assert fact_recall(s, [["BAY OF FUNDY"]]) == 0.0  # a capital makes it exact


# --- pass / fail per case, and the summary -------------------------------------------------


def test_what_passes_depends_on_what_the_case_expects(embedder: Embedder) -> None:
    clean = score(piece((MOON, "src-tides")), RESEARCH, brief_for(piece((MOON, "src-tides"))),
                  [], [], embedder)
    off = score(piece((VACCINE, "src-vax")), RESEARCH, brief_for(piece((VACCINE, "src-vax"))),
                [], [], embedder)
    assert Result("a", "scored", 1, "content", clean).passed
    assert not Result("b", "scored", 1, "content", off).passed
    assert not Result("c", "scored", 1, "stop", clean).passed  # should have stopped
    assert Result("d", "stopped", 1, "stop").passed
    assert Result("e", "stopped", 1, "either").passed
    assert not Result("f", "stopped", 1, "content").passed
    assert not Result("g", "failed", 1, "stop").passed  # a crash is no honest stop
    results = [Result("a", "scored", 1, "content", clean, steps={"write": 2.0}),
               Result("f", "stopped", 1, "content", steps={"research": 1.0}),
               Result("c", "scored", 1, "stop", off, steps={"write": 4.0})]
    m = summary(results)
    assert (m["passed"], m["wrong_stops"], m["missed_stops"]) == (1, 1, 1)
    assert m["on_topic"] == 0.5 and m["seconds_per_step"] == {"research": 1.0, "write": 3.0}


# --- the dataset ----------------------------------------------------------------------------


def test_the_dataset_covers_formats_styles_and_traps() -> None:
    cases = load_cases()
    assert len(cases) >= 20
    assert len({c.id for c in cases}) == len(cases)
    assert {c.format for c in cases} == set(FORMATS)
    assert {c.style for c in cases} == set(STYLES)
    assert {c.expect for c in cases} == {"content", "stop", "either"}
    assert sum(bool(c.kb) and c.expect == "content" for c in cases) >= 4
    for case in cases:
        case.brief()  # a valid request


def test_source_only_facts_are_written_exactly_as_their_page_has_them() -> None:
    """A key fact of a local-page case must be in that page verbatim, or the case tests
    nothing (a writer cannot keep a fact its source never stated)."""
    for case in load_cases():
        pages = " ".join(" ".join((KB_DIR / p).read_text(encoding="utf-8").split())
                         for p in case.kb)
        for page in case.kb:
            assert (KB_DIR / page).is_file(), page
        if case.kb and case.expect == "content":
            for fact in case.facts:
                assert any(spelling in pages for spelling in fact), (case.id, fact)


def test_cases_are_chosen_by_id_or_pattern() -> None:
    cases = load_cases()
    chosen, unmatched = select(cases, ["tides-blog,trap-*", "nope"])
    assert [c.id for c in chosen][0] == "tides-blog"
    assert {c.id for c in chosen[1:]} == {c.id for c in cases if c.id.startswith("trap-")}
    assert unmatched == ["nope"]


def test_an_unknown_case_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert main(["--cases", "nope", "--out", str(tmp_path / "r.json")]) == 2
    assert "unknown case(s): nope" in capsys.readouterr().out
    assert not (tmp_path / "r.json").exists()


# --- a small real run -----------------------------------------------------------------------


def test_two_cases_run_through_research_and_write(settings: Settings) -> None:
    """The real pipeline (the scripted model frames): a local-page case is scored with its
    step times, and a made-up subject is either stopped or scored, never a crash."""
    cases, _ = select(load_cases(), ["water-notice-social,made-up-creature"])
    base = settings.model_copy(update={"research_providers": "kb"})
    results = run_cases(cases, base, Console(quiet=True), chat=scripted(FRAMING))
    notice, made_up = results
    assert notice.status == "scored", notice.error
    assert notice.scores is not None and notice.scores.words > 0
    assert notice.scores.citation_coverage == 1.0
    assert set(notice.steps) >= {"brief", "research", "write"}
    assert all(seconds > 0 for seconds in notice.steps.values())
    assert made_up.status in ("stopped", "scored"), made_up.error
    if made_up.status == "scored":
        assert not made_up.passed  # a piece on a made-up subject is a failure
    record = json.loads(json.dumps([r.as_dict() for r in results], default=str))
    assert record[0]["scores"]["invented"] == notice.scores.invented


@pytest.mark.slow
def test_evals_run_writes_the_table_and_json_for_the_configured_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_RESEARCH_PROVIDERS", "kb")
    out = tmp_path / "evals.json"
    main(["--cases", "tides-short,made-up-creature", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "cases pass" in printed and "mean seconds per step" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r["case"] for r in report["results"]] == ["tides-short", "made-up-creature"]
    assert report["summary"]["cases"] == 2 and report["llm"].startswith("embedded")
    tides = report["results"][0]
    assert tides["status"] == "scored", tides["error"]
    assert set(tides["scores"]) >= {"on_topic", "unsupported", "invented", "length_ok"}
    assert tides["steps"]["write"] > 0


def test_a_sentence_its_page_states_word_for_word_is_supported(embedder: Embedder) -> None:
    """Similarity to a whole passage is diluted by its other sentences: "The garden has 48
    raised beds ..." ranked its own three-sentence passage below three others about the
    garden, and QA called it unsupported. The passages holding its facts are checked too."""
    page = (KB_DIR / "alder-street-garden.md").read_text(encoding="utf-8")
    blocks = [b.partition("\n")[2].strip() for b in page.split("\n## ")]
    garden = Source(id="garden", title="Alder Street Community Garden", uri="kb://garden")
    research = Research(query="the Alder Street Community Garden", sources=[garden], findings=[
        Finding(text=text, source_id="garden", chunk_index=i) for i, text in enumerate(blocks)])
    beds = ("The garden has 48 raised beds, a polytunnel, a tool shed and a rainwater system "
            "that stores up to 6,000 litres.")
    assert beds in blocks[0]
    wrong = beds.replace("48", "84")
    for sentence, unsupported in ((beds, 0.0), (wrong, 1.0)):
        script = Script(format="video", title="The Alder Street Community Garden",
                        hook="", sections=[Section(text=sentence, citations=["garden"])],
                        call_to_action="Follow for more.", citations=[garden])
        brief = Brief.create("the Alder Street Community Garden", "video")
        got = score(script, research, brief, [], [], embedder)
        assert got.unsupported == unsupported, got.problems


def test_a_sentence_without_facts_copied_from_its_page_is_supported(embedder: Embedder) -> None:
    """neap-social quoted "Tidal power output peaks during spring tides ..." word for word
    and QA called it unsupported: it holds no number or name, and three other passages of
    the page were closer to it. A passage that states it word for word is checked too."""
    page = (SAMPLE_KB / "spring-and-neap-tides.md").read_text(encoding="utf-8")
    blocks = [b.partition("\n")[2].strip() for b in page.split("\n## ")]
    neap = Source(id="neap", title="Spring and Neap Tides", uri="kb://neap")
    research = Research(query="spring and neap tides", sources=[neap], findings=[
        Finding(text=text, source_id="neap", chunk_index=i) for i, text in enumerate(blocks)])
    power = next(s for b in blocks for s in split_sentences(b) if s.startswith("Tidal power"))
    script = Script(format="social", title="Spring and Neap Tides", hook="",
                    sections=[Section(text=power, citations=["neap"])],
                    call_to_action="Follow for more.", citations=[neap])
    got = score(script, research, Brief.create("spring and neap tides", "social"), [], [],
                embedder)
    assert got.unsupported == 0.0, got.problems
