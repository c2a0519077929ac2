"""Text extraction helpers and near-duplicate dropping."""

from __future__ import annotations

from research_web_standins import WEB_PAGES

from assistant.tools.research.base import Document
from assistant.tools.research.extract import (
    detect_language,
    drop_near_duplicates,
    html_to_text,
    jaccard,
    shingles,
)
from assistant.tools.research.fetch import drop_near_duplicates as exported


def doc(url: str, text: str) -> Document:
    return Document(url=url, title=url, text=text, provider="web")


ARTICLE = ("Octopuses change colour with chromatophores, small elastic sacs of pigment in the "
           "skin. Each sac is ringed by radial muscles controlled directly by the brain. When "
           "the muscles contract the sac stretches wide and its colour shows.")


def test_a_mirror_with_other_wrapping_is_dropped_and_the_first_copy_kept():
    mirror = "OCTOPUSES change colour with chromatophores — small elastic sacs of pigment " \
        "in the skin! " + ARTICLE.split("skin. ", 1)[1] + " Share this article."
    other = "A heat pump moves heat from cold outdoor air into a warm house in winter."
    kept = drop_near_duplicates([doc("a", ARTICLE), doc("b", mirror), doc("c", other)])
    assert [d.url for d in kept] == ["a", "c"]


def test_different_texts_on_one_topic_are_kept():
    texts = [p.text for p in WEB_PAGES]
    kept = drop_near_duplicates([doc(str(i), t) for i, t in enumerate(texts)])
    assert len(kept) == len(texts)


def test_the_threshold_is_a_parameter():
    half = ARTICLE[: len(ARTICLE) // 2]
    docs = [doc("a", ARTICLE), doc("b", half)]
    assert len(drop_near_duplicates(docs)) == 2
    assert len(drop_near_duplicates(docs, threshold=0.3)) == 1
    assert exported is drop_near_duplicates


def test_shingles_fold_case_accents_and_punctuation():
    assert shingles("Café au lait, s'il vous plaît!") == shingles("cafe AU lait s il vous plait")
    assert jaccard(frozenset(), frozenset()) == 1.0
    assert jaccard(shingles("a b c d e f"), frozenset()) == 0.0


def test_language_detection_is_stable_and_falls_back():
    spanish = "El pulpo cambia de color gracias a los cromatóforos que tiene en la piel."
    assert {detect_language(spanish) for _ in range(5)} == {"es"}
    assert detect_language("ok", default="fr") == "fr"
    assert detect_language("12345 67890 !!!", default="und") == "und"


def test_html_without_content_gives_empty_text():
    extracted = html_to_text(b"<html><body></body></html>", language_hint="en")
    assert (extracted.text, extracted.language) == ("", "en")
