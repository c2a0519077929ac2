"""Is a sentence supported by the passage it cites? The check the writer and QA share.

"Generate, then verify": a model may rephrase a source sentence, but the rephrasing is kept
only when

- every number, date, quantity and name it states appears in the passage (``facts.py``),
- it keeps the passage's polarity (no added or dropped "not", no "more" for "less"),
- its meaning stays close: MiniLM cosine similarity to the closest part of the passage of
  at least ``SIMILARITY_MIN``, and, below ``SIMILARITY_SURE``, most of its content words
  found in the passage (a fluent sentence about something else scores 0.6-0.75 with
  MiniLM, as high as a loose but faithful paraphrase; its words give it away),
- and, given the topic, it neither restates the topic nor leaves it.

The public surface is small and stable: ``facts_in``, ``FactSet``, ``missing_facts``,
``check_sentence``, ``check_sentences``, ``trace``, ``Verdict``, ``Trace``,
``content_words``, ``restates_topic`` and the threshold constants. Thresholds are
calibrated on evals/datasets/support.yaml (see tests/tools/test_support.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.tools.knowledge.embeddings import Embedder
from assistant.tools.knowledge.loaders import split_sentences
from assistant.tools.quality.facts import FactSet, facts_in, missing_facts

__all__ = [
    "NOVEL_WORDS_MAX", "SIMILARITY_MIN", "SIMILARITY_SURE", "TOPIC_SIMILARITY_MIN",
    "FactSet", "Trace", "Verdict", "check_sentence", "check_sentences", "content_words",
    "facts_in", "missing_facts", "restates_topic", "trace",
]

# Calibrated on evals/datasets/support.yaml (76 labelled source/rewrite pairs, 32 faithful);
# tests/tools/test_support.py recomputes precision and recall and fails if they drop. With
# the fact and polarity checks in front, every setting in SIMILARITY_MIN 0.40-0.70,
# SIMILARITY_SURE 0.80-0.90 and NOVEL_WORDS_MAX 0.30-0.40 separated the set; these are the
# middles of those plateaus. Similarity alone separates it badly: faithful paraphrases
# scored 0.73-1.00, wrong ones 0.05-1.00 (precision 0.44-0.55 at any cut).
SIMILARITY_MIN = 0.55  # below this a rewrite says something else
SIMILARITY_SURE = 0.85  # above this the wording may differ freely
NOVEL_WORDS_MAX = 0.35  # between the two: share of content words the passage lacks
# Not calibrated by the set (its off-topic rewrites already fail SIMILARITY_MIN): MiniLM puts
# unrelated pairs near 0 and related ones at 0.3-0.5, so 0.15 only refuses the unrelated.
TOPIC_SIMILARITY_MIN = 0.15

_STOP = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of",
    "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves", "much", "many", "may", "might", "must", "shall", "us", "let", "lets", "get",
    "gets", "got", "make", "makes", "made", "like", "even", "well", "way", "ways",
}
# Words that frame a statement without adding content ("the answer to the question of ...").
_FILLER = {
    "answer", "answers", "question", "questions", "reason", "reasons", "explain", "explains",
    "explained", "explainer", "simple", "simply", "thing", "things", "fact", "facts", "truth",
    "surprising", "ever", "wondered", "wonder", "know", "learn", "really", "actually", "happen",
    "happens", "exactly", "find", "discover", "today", "video", "post", "episode", "look", "here",
    "let's",
}
_NEGATIONS = {"not", "no", "never", "none", "nothing", "neither", "nor", "cannot", "without",
              "nobody", "nowhere"}
_OPPOSITES = [("more", "less"), ("more", "fewer"), ("larger", "smaller"), ("higher", "lower"),
              ("stronger", "weaker"), ("longer", "shorter"), ("faster", "slower"),
              ("increase", "decrease"), ("increases", "decreases"), ("before", "after"),
              ("above", "below"), ("most", "least"), ("largest", "smallest"),
              ("highest", "lowest"), ("closer", "farther"), ("warmer", "colder"),
              ("always", "never"), ("early", "late"), ("earlier", "later")]
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Verdict:
    """Whether one sentence is supported, and why not."""

    supported: bool
    missing_facts: list[str] = field(default_factory=list)
    similarity: float = 0.0
    reason: str = ""
    topic_similarity: float | None = None


@dataclass(frozen=True)
class Trace:
    """The passage that best supports a sentence (``passage`` is an index, -1 for none)."""

    passage: int
    verdict: Verdict


def _stem(word: str) -> str:
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    # British and American spellings meet: "colour"/"color", "metre"/"meter".
    if len(word) > 5 and word.endswith("our"):
        word = word[:-3] + "or"
    elif len(word) > 4 and word.endswith(("tre", "bre")):
        word = word[:-2] + "er"
    return word[:6]  # crude, but "scattered"/"scattering"/"scatters" meet at "scatte"


def content_words(text: str) -> set[str]:
    """The stemmed content words of ``text`` (no stop words, no framing filler)."""
    words = (w for w in _TOKEN.findall(text.lower().replace("’", "'"))
             if w not in _STOP and w not in _FILLER and not w.isdigit() and len(w) > 1)
    return {s for s in map(_stem, words) if s not in _FILLER}


def restates_topic(text: str, topic: str) -> bool:
    """True when ``text`` says nothing but the topic's own words ("Why is the sky blue? The
    answer to why the sky is blue ...")."""
    words = content_words(text)
    extra = words - content_words(topic) - {"work", "works", "worki"}
    return bool(words) and not extra


_CONTRAST = re.compile(r"\b(rather than|instead of|unlike)\b")


def _negated(text: str) -> bool:
    lowered = text.lower().replace("’", "'")
    tokens = _TOKEN.findall(lowered)
    # "from water rather than from carbon dioxide" negates as surely as "not from".
    return bool(_CONTRAST.search(lowered)) or any(
        t in _NEGATIONS or t.endswith("n't") for t in tokens)


def _comparison_sides(text: str) -> tuple[set[str], set[str]]:
    """The content words just before and just after "than" ("blue ... more than ... red")."""
    tokens = _TOKEN.findall(text.lower())
    if "than" not in tokens:
        return set(), set()
    at = tokens.index("than")
    before = [t for t in tokens[:at] if t not in _STOP][-3:]
    after = [t for t in tokens[at + 1:] if t not in _STOP][:3]
    sides = {_stem(t) for t in before}, {_stem(t) for t in after}
    shared = sides[0] & sides[1]  # "violet light than blue light": "light" takes no side
    return sides[0] - shared, sides[1] - shared


def _polarity_problem(sentence: str, passage: str) -> str | None:
    if _negated(sentence) != _negated(passage):
        return ("adds a negation the passage lacks" if _negated(sentence)
                else "drops the passage's negation")
    s_before, s_after = _comparison_sides(sentence)
    p_before, p_after = _comparison_sides(passage)
    if (s_before & p_after) and (s_after & p_before):
        return "swaps the two sides of the passage's comparison"
    said = set(_TOKEN.findall(sentence.lower()))
    there = set(_TOKEN.findall(passage.lower()))
    for a, b in _OPPOSITES:
        for word, opposite in ((a, b), (b, a)):
            if word in said and word not in there and opposite in there:
                return f"says {word!r} where the passage says {opposite!r}"
    return None


def _windows(passage: str) -> list[str]:
    """The passage, its sentences and adjacent pairs: a rewrite may merge two sentences."""
    sentences = split_sentences(passage) or [passage]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
    return list(dict.fromkeys([*sentences, *pairs, passage]))


def _judge(sentence: str, passage: str, windows: list[str], sims: np.ndarray,
           topic: str | None, topic_sim: float | None) -> Verdict:
    best = int(np.argmax(sims)) if len(sims) else 0
    similarity = float(sims[best]) if len(sims) else 0.0
    closest = windows[best] if windows else passage

    def verdict(ok: bool, reason: str, missing: list[str] | None = None) -> Verdict:
        return Verdict(ok, missing or [], round(similarity, 3), reason,
                       None if topic_sim is None else round(topic_sim, 3))

    if len(content_words(sentence)) == 0:
        return verdict(False, "says nothing")
    if topic and restates_topic(sentence, topic):
        return verdict(False, "only restates the topic")
    missing = missing_facts(sentence, passage, allowed=topic or "")
    if missing:
        return verdict(False, f"states {', '.join(missing)}, not in the passage", missing)
    problem = _polarity_problem(sentence, closest)
    if problem:
        return verdict(False, problem)
    if similarity < SIMILARITY_MIN:
        return verdict(False, f"means something else (similarity {similarity:.2f} "
                              f"< {SIMILARITY_MIN})")
    words = content_words(sentence) - content_words(topic or "")
    novel = sorted(words - content_words(passage))
    if similarity < SIMILARITY_SURE and words and len(novel) / len(words) > NOVEL_WORDS_MAX:
        return verdict(False, f"adds what the passage does not say ({', '.join(novel[:5])})")
    if topic and topic_sim is not None and topic_sim < TOPIC_SIMILARITY_MIN and not (
            content_words(sentence) & content_words(topic)):
        return verdict(False, f"is not about {topic!r}")
    return verdict(True, "supported")


def check_sentences(
    pairs: Sequence[tuple[str, str]], embedder: Embedder, *, topic: str | None = None
) -> list[Verdict]:
    """``check_sentence`` for many (sentence, passage) pairs, embedded in one batch."""
    if not pairs:
        return []
    windows = [_windows(p) for _, p in pairs]
    texts: list[str] = [s for s, _ in pairs]
    for w in windows:
        texts.extend(w)
    if topic:
        texts.append(topic)
    vectors = embedder.embed(texts)
    topic_vec = vectors[-1] if topic else None
    verdicts: list[Verdict] = []
    offset = len(pairs)
    for i, (sentence, passage) in enumerate(pairs):
        block = vectors[offset:offset + len(windows[i])]
        offset += len(windows[i])
        sims = block @ vectors[i]
        topic_sim = float(vectors[i] @ topic_vec) if topic_vec is not None else None
        verdicts.append(_judge(sentence, passage, windows[i], sims, topic, topic_sim))
    return verdicts


def check_sentence(
    sentence: str, passage: str, embedder: Embedder, *, topic: str | None = None
) -> Verdict:
    """Is ``sentence`` supported by ``passage`` (and, given ``topic``, on it)?"""
    return check_sentences([(sentence, passage)], embedder, topic=topic)[0]


def trace(
    sentences: Sequence[str], passages: Sequence[str], embedder: Embedder, *,
    topic: str | None = None, candidates: int = 3,
) -> list[Trace]:
    """For each sentence, the passage that supports it best (QA's "traced to a retrieved
    passage"): the ``candidates`` most similar passages are checked in full, then the
    passages that state it word for word and those that hold every number and name it
    states, and the first supporting one wins;
    with none, the most similar passage's verdict says why.

    The passages holding its facts are candidates too because similarity to a whole
    passage is diluted by its other sentences: "The garden has 48 raised beds ..." was
    closer to three passages about the garden's water and beds than to the three-sentence
    opening that states it word for word."""
    if not sentences:
        return []
    if not passages:
        return [Trace(-1, Verdict(False, reason="no passage to check against"))
                for _ in sentences]
    vectors = embedder.embed([*sentences, *passages])
    sims = vectors[len(sentences):] @ vectors[:len(sentences)].T  # passages x sentences
    flat_passages = [" ".join(p.lower().split()) for p in passages]
    order = []
    for j, sentence in enumerate(sentences):
        ranked = [int(p) for p in np.argsort(-sims[:, j])]
        words = " ".join(sentence.lower().split())
        verbatim = [p for p in ranked[candidates:] if words in flat_passages[p]]
        holding = ([p for p in ranked[candidates:] if p not in verbatim
                    and not missing_facts(sentence, passages[p])] if facts_in(sentence) else [])
        order.append(ranked[:candidates] + verbatim[:1] + holding[:candidates])
    flat = [(sentences[j], passages[int(p)]) for j in range(len(sentences)) for p in order[j]]
    verdicts = check_sentences(flat, embedder, topic=topic)
    out: list[Trace] = []
    k = 0
    for j in range(len(sentences)):
        mine = verdicts[k:k + len(order[j])]
        k += len(order[j])
        pick = next((n for n, v in enumerate(mine) if v.supported), 0)
        out.append(Trace(int(order[j][pick]), mine[pick]))
    return out
