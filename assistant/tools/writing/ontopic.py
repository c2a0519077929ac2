"""Is each section about the request? The relevance gate research and QA apply, applied first.

Research keeps passages its gate (assistant/tools/research/relevance.py: MiniLM similarity
to the topic and the topic's key terms, by weight) finds about the request; QA judges every
finished section with the same gate (assistant/tools/quality/topic.py). A section strung
from passages that merely share a word with the topic ("the Tyndall effect explains blue
eyes" in a piece on why the sky is blue) would pass the writer and fail QA, so the writer
asks the gate before it frames the piece and drops what it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.content import Brief, Source
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.quality.topic import gate_stats
from assistant.tools.research.relevance import Gate, Passage
from assistant.tools.writing.compose import Part


def gate(brief: Brief, embedder: Embedder) -> Gate:
    return Gate(brief.topic, embedder, gate_stats(brief.language), brief.language)


def kept(items: list[tuple[str, str, str]], brief: Brief, embedder: Embedder) -> list[bool]:
    """For each (sentence, source title, heading): whether the gate keeps it. One sentence is
    within the gate's calibration (a passage is up to 3 sentences; a long one stands alone),
    and the title and heading give it the context research judged it in."""
    passages = [Passage(text=text, doc=0, position=n, title=title, heading=heading)
                for n, (text, title, heading) in enumerate(items)]
    gate(brief, embedder).judge(passages)
    return [p.kept for p in passages]


def whole_pages(sources: Sequence[Source], brief: Brief, embedder: Embedder) -> set[str]:
    """The person's own pages (knowledge-base sources) whose title alone the gate keeps:
    a page titled "Harrowgate Lane Water Main Replacement: Notice to Residents" is about
    that request in every section, its "What Residents Should Do" included, though few of
    its sentences repeat the request's words. An encyclopedia page keeps the per-sentence
    judgement: its summary may only mention the topic."""
    own = [s for s in sources if s.provider == "kb" and s.title.strip()]
    passages = [Passage(text=s.title, doc=0, position=n) for n, s in enumerate(own)]
    gate(brief, embedder).judge(passages)
    return {s.id for s, judged in zip(own, passages, strict=True) if judged.kept}


def refused(parts: list[Part], brief: Brief, embedder: Embedder,
            titles: dict[str, str]) -> list[Part]:
    """The parts the gate does not keep, judged as QA will judge their sections."""
    if not parts:
        return []
    passages = []
    for number, part in enumerate(parts, 1):
        section = part.to_section()
        passages.append(Passage(
            text=section.text, doc=0, position=number, heading=section.heading,
            title=" / ".join(titles[c] for c in section.citations if c in titles)))
    gate(brief, embedder).judge(passages)
    return [part for part, judged in zip(parts, passages, strict=True) if not judged.kept]
