"""The text QA rules, each on a hand-built script."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.content import Brief, Research, Script, Section, Source
from assistant.tools.quality.checks import check_hook
from assistant.tools.quality.text import (
    BrandRules,
    QAContext,
    check_brand,
    check_citations,
    check_length,
    reading_grade,
)


def make_script(text: str = "The Moon pulls the sea. " * 10, **kw: object) -> Script:
    fields: dict[str, object] = {
        "format": "blog",
        "title": "Tides",
        "hook": "Why do tides happen twice a day?",
        "sections": [Section(heading="Moon", text=text, citations=["src-1"])],
        "citations": [Source(id="src-1", title="Tides", uri="")],
    }
    fields.update(kw)
    return Script.model_validate(fields)


def ctx(
    script: Script,
    tmp_path: Path,
    brief: Brief | None = None,
    rules: BrandRules | None = None,
    markdown: str | None = None,
) -> QAContext:
    source_file = tmp_path / "tides.md"
    source_file.write_text("# Tides\n")
    for s in script.citations:
        s.uri = str(source_file)
    research = Research(
        query="tides", sources=[Source(id="src-1", title="Tides", uri=str(source_file))]
    )
    return QAContext(
        brief or Brief.create("how tides work", words=60),
        script,
        research,
        rules or BrandRules(),
        markdown or script.body_text(),
        10,
    )


def test_length_against_target(tmp_path: Path) -> None:
    assert check_length(ctx(make_script(), tmp_path)).passed  # ~60 words vs 60
    long = make_script("word " * 200)
    result = check_length(ctx(long, tmp_path))
    assert not result.passed and result.fixable and "too long" in result.message
    assert result.severity == "error"


@pytest.mark.parametrize("words,ok", [(50, False), (51, True), (69, True), (70, False)])
def test_length_allows_fifteen_percent_either_way(tmp_path: Path, words: int, ok: bool) -> None:
    hook = "Why do tides happen twice a day?"  # 7 words
    script = make_script("word " * (words - len(hook.split())), hook=hook)
    assert script.word_count() == words
    assert check_length(ctx(script, tmp_path)).passed is ok


def test_too_short_is_an_error_unless_the_writer_says_the_sources_are_too_thin(
        tmp_path: Path) -> None:
    short = make_script("The Moon pulls the sea. " * 4)
    result = check_length(ctx(short, tmp_path))
    assert not result.passed and result.severity == "error" and "too short" in result.message
    noted = make_script("The Moon pulls the sea. " * 4,
                        notes=["length: sources too thin for 60 words; stopped at 27"])
    result = check_length(ctx(noted, tmp_path))
    assert not result.passed and result.severity == "warning"
    assert "sources too thin" in result.message


def test_short_over_the_platform_limit_fails(tmp_path: Path) -> None:
    brief = Brief.create("how tides work", "short")
    script = make_script("word " * 170, format="short")
    result = check_length(ctx(script, tmp_path, brief))
    assert not result.passed and "limit is 60 s" in result.message


def test_hook_must_add_something_about_the_topic(tmp_path: Path) -> None:
    assert check_hook(ctx(make_script(), tmp_path)).passed
    off_topic = make_script(hook="Have you ever wondered about cheese?")
    assert not check_hook(ctx(off_topic, tmp_path)).passed
    assert not check_hook(ctx(make_script(hook=""), tmp_path)).passed
    restated = make_script(hook="Have you ever wondered how tides work?")
    result = check_hook(ctx(restated, tmp_path))
    assert not result.passed and "only restates the topic" in result.message
    assert result.severity == "warning"


def test_brand_rules(tmp_path: Path) -> None:
    rules = BrandRules(banned_phrases=["click here"], required_disclosure="Made with AI.")
    bad = check_brand(ctx(make_script(), tmp_path, rules=rules, markdown="Click HERE now"))
    assert not bad.passed and "click here" in bad.message and "disclosure" in bad.message
    good = check_brand(ctx(make_script(), tmp_path, rules=rules, markdown="Fine. Made with AI."))
    assert good.passed


def test_brand_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("banned_phrases: [foo]\nrequired_disclosure: Sponsored.\n")
    assert BrandRules.load(path).banned_phrases == ["foo"]


def test_citations_must_point_at_real_sources(tmp_path: Path) -> None:
    assert check_citations(ctx(make_script(), tmp_path)).passed
    unknown = make_script(sections=[Section(text="x", citations=["src-9"])])
    assert "unknown source src-9" in check_citations(ctx(unknown, tmp_path)).message
    uncited = make_script(sections=[Section(text="x")])
    assert "cites no source" in check_citations(ctx(uncited, tmp_path)).message
    context = ctx(make_script(), tmp_path)
    (tmp_path / "tides.md").unlink()
    assert "missing file" in check_citations(context).message


def test_reading_grade_orders_texts() -> None:
    easy = "The sea goes up. The sea goes down. The Moon pulls it."
    hard = (
        "Gravitational interactions between celestial bodies generate periodic "
        "oscillations characterised by considerable amplitude variability."
    )
    assert reading_grade(easy) < 4 < reading_grade(hard)
