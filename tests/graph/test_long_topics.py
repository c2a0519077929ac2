"""Long topics (issue 12 item 7): a 70-character and a 500-character topic end with a clear
result, never a pydantic ValidationError, and every bounded field code fills from the topic
(the fallback title, a scene's visual prompt, the SEO keyword) is cut at a word boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app.studio import Services
from assistant.content import Brief, Script, clip_words
from assistant.graph.nodes import write
from assistant.graph.nodes.write import KEYWORD_CHARS, VISUAL_PROMPT_CHARS
from assistant.tools.writing import framing
from assistant.tools.writing.framing import Framing
from assistant.tools.writing.templates import style
from tests.cli.helpers import assistant
from tests.fakes import scripted
from tests.graph.test_write import research_of

T70 = "how tides work, and why the Moon and the Sun pull the seas up and down"
T75 = "how the Moon and the Sun together pull the oceans into two high tides a day"
# a request that goes on and on (the writer's pool wants the topic's words in its sources:
# a 500-character list of sub-questions is a research matter, not this test's)
T500 = ("how tides work: " + "why most coasts see two high tides and two low tides a day, " * 9
        )[:500]
FAST_MODEL = {"ASSISTANT_LLM_MODEL": "smollm2-135m"}  # these judge the ending, not prose


def at_word_boundary(cut: str, whole: str) -> bool:
    """``cut`` is ``whole`` itself, or whole words of it followed by the ellipsis."""
    if cut == whole:
        return True
    head = cut.removesuffix("…")
    return whole.startswith(head) and whole[len(head)] in " ,;:-"


def test_the_topics_are_the_lengths_they_claim() -> None:
    assert (len(T70), len(T75), len(T500)) == (70, 75, 500)


@pytest.mark.parametrize("name", ["casual", "professional", "academic", "viral"])
def test_the_fallback_title_is_cut_at_a_word(name: str) -> None:
    brief = Brief.create(T75, "short")
    title = framing.fallback_title(brief, style(name))
    assert len(title) <= 70 and at_word_boundary(title, framing.title_case(T75)), title
    Framing(title=title, hook="h", call_to_action="c", description="d")  # fits its field


def test_clip_words_keeps_whole_words() -> None:
    assert clip_words(T500, 80) == ("how tides work: why most coasts see two high tides and "
                                    "two low tides a day, why…")
    assert len(clip_words(T500, 80)) <= 80 and clip_words("tides", 80) == "tides"


@pytest.mark.parametrize("topic", [T70, T500], ids=["70", "500"])
def test_write_on_a_long_topic_ends_clearly(svc: Services, topic: str) -> None:
    """The grounded writer with a model whose framing never validates (every field falls
    back to what code fills from the topic)."""
    svc.set_chat(scripted("not json"))
    brief = Brief.create(topic, "short")
    research = research_of("how-tides-work.md", "src-tides", "How Tides Work")
    job = f"job-long{len(topic):04d}"
    svc.repo.create_job(job, title=brief.topic, content_type=brief.format)
    update = write.run({"job_id": job, "brief": brief, "research": research}, svc)
    script = update["script"]
    assert isinstance(script, Script)
    assert len(script.title) <= 80 and at_word_boundary(script.title, framing.title_case(
        topic.rstrip("?.! "))), script.title
    assert all(len(s.visual_prompt) <= VISUAL_PROMPT_CHARS for s in script.sections)
    assert all(len(k) <= KEYWORD_CHARS for k in script.seo_keywords)
    assert at_word_boundary(script.seo_keywords[0], topic.lower())


@pytest.mark.slow
@pytest.mark.parametrize("topic", [T70, T500], ids=["70", "500"])
def test_a_long_topic_through_the_cli_ends_clearly(tmp_path: Path, topic: str) -> None:
    result = assistant(tmp_path / "data", "make", topic, "-f", "short", "--yes", **FAST_MODEL)
    out = result.stdout + result.stderr
    assert "ValidationError" not in out and "Traceback" not in out, out
    # published (0), stopped with the reason and how to resume (1), or held at review (3)
    assert result.returncode in (0, 1, 3), out
    if result.returncode == 1:
        assert "stopped:" in out and "assistant resume job-" in out, out
