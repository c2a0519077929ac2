"""What the audience needs, in order: the beats of a piece, per kind of topic and format.

An explainer answers what it is, how or why it works, gives an example or a number and ends
on why it matters; a notice (a recall, a closure, an announcement) says what happened, who
is affected, what to do and whom to contact. Longer formats get more beats. Each beat is a
retrieval query: the composer fills it with the source sentences closest to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.content import Brief, Finding

Kind = Literal["explainer", "notice"]


@dataclass(frozen=True)
class Beat:
    key: str
    heading: str  # used when the sources' own heading does not fit
    query: str  # "{topic}" is replaced by the brief's topic
    share: float  # of the body's words
    # Words that mark a sentence doing this beat's job ("because" explains, a year dates).
    # MiniLM alone ranks every beat by the topic, so each beat would take the same sentences.
    cue: str = ""
    wants_facts: bool = False  # an example or a date: sentences with numbers and names
    facets: tuple[str, ...] = ()  # research facets (tools/research/planning.py) it draws on

    def query_for(self, topic: str) -> str:
        return self.query.format(topic=topic)

    def cues_in(self, text: str) -> int:
        return len(re.findall(self.cue, text, re.IGNORECASE)) if self.cue else 0


_NOTICE = re.compile(
    r"\b(recall(ed|s)?|clos(ure|ed|ing)|shut ?down|announce(ment|d|s)?|notice|advisory|"
    r"warning|alert|outage|cancel(l?ed|lation)?|suspend(ed)?|evacuat\w*|withdraw\w*|"
    r"do not (use|eat|drink)|stop using)\b",
    re.IGNORECASE,
)

_CAUSE = (r"\b(because|so|when|causes?|caused|due to|as a result|which is why|depends on|"
          r"drives?|driven|pulls?|scatters?|makes?)\b")
EXPLAINER = {
    "what": Beat("what", "What it is", "What {topic} is: a definition and the basic idea", 0.25,
                 cue=r"\b(is|are) (a|an|the)\b|\b(refers to|means|is called|comes from)\b"),
    "how": Beat("how", "How it works", "How and why {topic} happens: the cause, the mechanism",
                0.3, cue=_CAUSE),
    "deeper": Beat("deeper", "A closer look", "The detail behind {topic}: forces, parts and "
                   "steps, explained", 0.2, cue=_CAUSE + r"|\b(than|between|stronger|weaker)\b"),
    "example": Beat("example", "An example", "A concrete example of {topic}, with a number, a "
                    "place or a measurement", 0.2,
                    cue=r"\b(for example|such as|including|reaching|largest|smallest|record)\b",
                    wants_facts=True),
    "variety": Beat("variety", "Not always the same", "How {topic} differs from place to place "
                    "and case to case: the kinds and exceptions", 0.2,
                    cue=r"\b(some|many|not every|differ\w*|varies|vary|mixed|except\w*)\b"),
    "history": Beat("history", "How we know", "Who discovered {topic}, when, and how scientists "
                    "measure and predict it", 0.15,
                    cue=r"\b(discovered|showed|described|named after|scientists?|physicists?|"
                        r"built|measured|predict\w*|century|\d{4}s?)\b", wants_facts=True),
    "takeaway": Beat("takeaway", "Why it matters", "Why {topic} matters: what it means for "
                     "people and everyday life", 0.15,
                     cue=r"\b(matters?|everyday|essential|important|remains?|helps?|useful|"
                         r"shapes?|explains?|shows how)\b"),
}
NOTICE = {
    "happened": Beat("happened", "What happened", "What happened: the {topic} announced, what "
                     "and when", 0.3,
                     cue=r"\b(announced|recall\w*|clos\w*|since|today|has been|have been|"
                         r"(turned|switched|shut) off|interrupt\w*|outage)\b",
                     wants_facts=True),
    "affected": Beat("affected", "Who is affected", "Who and which products, places or "
                     "people are affected by the {topic}", 0.25,
                     cue=r"\b(affect(s|ed)?|customers|owners|residents|anyone|people who|models?|"
                         r"batch|lot|bought|sold)\b", wants_facts=True),
    "todo": Beat("todo", "What to do", "What you should do now about the {topic}: steps, "
                 "stop using, return, refund", 0.3,
                 cue=r"\b(should|must|stop|return|do not|bring|refund|replace\w*|check)\b"),
    "contact": Beat("contact", "Who to contact", "Whom to contact about the {topic}: phone, "
                    "website, address, hours", 0.15,
                    cue=r"\b(call|phone|email|website|visit|contact|hours|helpline|questions|quoting|"
                        r"reference|enquir\w*|updates|www\.|https?://)"),
}

FACETS = {"what": ("overview",), "how": ("mechanism",), "deeper": ("mechanism",),
          "example": ("examples", "numbers"), "variety": ("examples",),
          "history": ("history",), "takeaway": ("impact",)}

# Per format, the beats in order (keys into the kind's table).
LAYOUTS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "explainer": {
        "short": ("what", "how", "example", "takeaway"),
        "social": ("what", "how", "example"),
        "video": ("what", "how", "deeper", "example", "variety", "takeaway"),
        "podcast": ("what", "how", "deeper", "example", "variety", "history", "takeaway"),
        "blog": ("what", "how", "deeper", "example", "variety", "history", "takeaway"),
    },
    "notice": {
        "short": ("happened", "affected", "todo", "contact"),
        "social": ("happened", "todo", "contact"),
        "video": ("happened", "affected", "todo", "contact"),
        "podcast": ("happened", "affected", "todo", "contact"),
        "blog": ("happened", "affected", "todo", "contact"),
    },
}
# Sentences per beat at most: a short's scene is one or two spoken sentences.
MAX_PER_BEAT = {"short": 2, "social": 1, "video": 5, "podcast": 7, "blog": 8}


# A notice's own sections: "Who Is Affected", "What Residents Should Do", "Contact".
_NOTICE_HEADING = re.compile(
    r"\b(notice|affected|what to do|contact(ing)?|helpline|what (residents|owners|customers|"
    r"you|users|parents|passengers|tenants|patients) (should|must|need to|can) do)\b",
    re.IGNORECASE,
)


def kind_of(brief: Brief, findings: Sequence[Finding] = ()) -> Kind:
    """A notice when the topic says so, when its sources' headings are a notice's (two of
    "Notice to Residents", "Who Is Affected", "What Residents Should Do", "Contact": a
    water-main replacement names no "recall" or "closure"), or when the best passages read
    like one."""
    if _NOTICE.search(brief.topic):
        return "notice"
    headings = {f.heading.lower() for f in findings if f.heading}
    if sum(bool(_NOTICE_HEADING.search(h)) for h in headings) >= 2:
        return "notice"
    top = sorted(findings, key=lambda f: -f.score)[:3]
    hits = sum(len(_NOTICE.findall(f.text)) for f in top)
    return "notice" if hits >= 3 else "explainer"


def outline(brief: Brief, kind: Kind) -> list[Beat]:
    table = EXPLAINER if kind == "explainer" else NOTICE
    beats = [table[key] for key in LAYOUTS[kind][brief.format]]
    total = sum(b.share for b in beats)
    return [Beat(b.key, b.heading, b.query, b.share / total, b.cue, b.wants_facts,
                 FACETS.get(b.key, ())) for b in beats]
