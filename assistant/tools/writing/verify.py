"""Verify a piece a capable model wrote whole (generative mode), sentence by sentence.

Each sentence of each section is traced to the source sentence that supports it best
(``support.trace``). A supported sentence stays and cites the source it was traced to,
whatever the model cited; an unsupported one is replaced by the source sentence it was
closest to, when it was close (a planted wrong number: the passage's own words come
back), or removed (an off-topic paragraph: nothing in the sources is near it). Sections
left empty go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.content import Brief
from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.support import SIMILARITY_MIN, missing_facts, trace
from assistant.tools.writing.compose import Line, Part, Said
from assistant.tools.writing.outline import Beat
from assistant.tools.writing.pool import Pool


@dataclass
class DraftPart:
    heading: str
    text: str
    visual_prompt: str = ""


@dataclass
class Report:
    kept: int = 0
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        out = []
        if self.replaced:
            out.append(f"verifier replaced {len(self.replaced)} sentences with the sources' "
                       "words: " + "; ".join(self.replaced[:3]))
        if self.removed:
            out.append(f"verifier removed {len(self.removed)} sentences no source supports: "
                       + "; ".join(self.removed[:3]))
        return out


def verify_draft(drafts: list[DraftPart], brief: Brief, pool: Pool, embedder: Embedder,
                 said: Said) -> tuple[list[Part], Report]:
    report = Report()
    passages = [s.text for s in pool.sentences]
    evidence = pool.text_of()
    parts: list[Part] = []
    for number, draft in enumerate(drafts, 1):
        sentences = [s for s in split_sentences(draft.text) if s.strip()]
        traces = trace(sentences, passages, embedder, topic=brief.topic)
        part = Part(Beat(f"draft{number}", draft.heading, "", 0.0), heading=draft.heading)
        for sentence, found in zip(sentences, traces, strict=True):
            where = f"section {number}: {sentence[:70]!r}"
            source = pool.sentences[found.passage] if found.passage >= 0 else None
            if found.verdict.supported and source is not None:
                if source.index in pool.used or said.repeats(sentence):
                    report.removed.append(f"{where} says again what the piece has said")
                    continue
                part.lines.append(Line(sentence, source, rewritten=True))
                report.kept += 1
            elif (source is not None and found.verdict.similarity >= SIMILARITY_MIN
                  and source.index not in pool.used and not said.repeats(source.text)):
                part.lines.append(Line(source.text, source))
                report.replaced.append(f"{where} {found.verdict.reason}")
            else:
                report.removed.append(f"{where} {found.verdict.reason}")
                continue
            pool.use(part.lines[-1].source)
            said.add(part.lines[-1].text)
        if not part.lines:
            continue
        if missing_facts(part.heading, evidence, allowed=brief.topic) or not part.heading:
            part.heading = part.lines[0].source.heading
        if draft.visual_prompt and not missing_facts(draft.visual_prompt, evidence,
                                                     allowed=brief.topic):
            part.visual = draft.visual_prompt
        parts.append(part)
    return parts, report
