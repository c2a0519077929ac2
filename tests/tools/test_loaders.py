"""Document loaders, sentence splitting and chunking, on real small files."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.tools.knowledge.loaders import (
    Document,
    chunk_sections,
    load_document,
    parse_document,
    split_sentences,
)

VOLCANO_LINES = ["Volcanoes erupt when molten rock called magma rises to the surface."]

# --- each kind -------------------------------------------------------------------------------


def test_markdown_title_sections_and_stripped_syntax(docs: dict[str, Path]) -> None:
    doc = load_document(docs["md"])
    assert doc.kind == "markdown" and doc.path == docs["md"]
    assert doc.title == "Why the Sky Is Blue"
    assert [h for h, _ in doc.sections] == ["Why the Sky Is Blue", "Rayleigh scattering", "Sunsets"]
    intro = doc.sections[0][1]
    assert "all colours" in intro and "**" not in intro
    assert "the NASA page" in intro and "https://" not in intro and "](" not in intro
    rayleigh = doc.sections[1][1]
    assert "```" not in doc.text
    assert "described the effect in 1871." in rayleigh
    assert "code" not in doc.text and "wavelength **" not in doc.text  # code blocks dropped
    assert "Sunsets" in doc.text and "Rayleigh scattering" in doc.text


def test_markdown_without_h1_uses_the_stem_and_handles_setext_and_front_matter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tide-notes.markdown"
    path.write_text(
        "---\nauthor: me\n---\nIntro with __bold__ and *italic* and snake_case_name.\n\n"
        "Spring tides\n------------\n\n- The moon and sun align.\n- Tides are [higher][1].\n\n"
        "[1]: https://example.com\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.title == "tide-notes"
    assert doc.sections[0] == ("", "Intro with bold and italic and snake_case_name.")
    assert doc.sections[1] == ("Spring tides", "The moon and sun align.\n\nTides are higher.")
    assert "author" not in doc.text and "example.com" not in doc.text


def test_text_utf8_and_latin1(tmp_path: Path) -> None:
    utf8 = tmp_path / "notes.txt"
    utf8.write_bytes("\ufeffCafé culture.\nIt spread in Paris.\n\nSecond paragraph.".encode())
    doc = load_document(utf8)
    assert doc.title == "notes" and doc.kind == "text"
    assert doc.sections == [("", "Café culture. It spread in Paris.\n\nSecond paragraph.")]
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Crème brûlée is a dessert.".encode("latin-1"))
    assert load_document(latin).text == "Crème brûlée is a dessert."


def test_html_title_sections_and_dropped_chrome(docs: dict[str, Path]) -> None:
    doc = load_document(docs["html"])
    assert doc.kind == "html"
    assert doc.title == "How Honeybees Make Honey"
    headings = [h for h, _ in doc.sections]
    assert headings == ["Honeybees", "From nectar to honey", "Capping the cells"]
    assert "Bees pass the nectar from mouth to mouth" in doc.sections[1][1]
    assert "The honey is stored in wax cells.\n\nBees seal" in doc.sections[2][1]
    for chrome in ("tracking", "color: red", "Shop", "Home"):
        assert chrome not in doc.text


def test_html_without_title_uses_h1(tmp_path: Path, docs: dict[str, Path]) -> None:
    path = tmp_path / "page.htm"
    html = docs["html"].read_text("utf-8")
    path.write_text(html.replace("<title>How Honeybees Make Honey</title>", ""), "utf-8")
    assert load_document(path).title == "Honeybees"


def test_pdf_text_title_and_pages(tmp_path: Path, pdf_writer: Callable[..., Path]) -> None:
    path = pdf_writer(
        tmp_path / "volcanoes.pdf", [VOLCANO_LINES, ["Iceland has (many) volcanoes."]], "Lava"
    )
    doc = load_document(path)
    assert doc.kind == "pdf" and doc.title == "Lava"
    assert [h for h, _ in doc.sections] == ["Page 1", "Page 2"]
    assert "molten rock called magma" in doc.sections[0][1]
    assert doc.sections[1][1] == "Iceland has (many) volcanoes."


def test_pdf_without_metadata_title_uses_the_stem(
    tmp_path: Path, pdf_writer: Callable[..., Path]
) -> None:
    doc = load_document(pdf_writer(tmp_path / "eruptions.pdf", [VOLCANO_LINES]))
    assert doc.title == "eruptions"
    assert doc.sections[0][0] == ""


# --- errors ----------------------------------------------------------------------------------


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_document(path)
    message = caught.value.user_message
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.md", b""), ("blank.txt", b"  \n\n \t\n"), ("title-only.md", b"# Just a title\n")],
)
def test_empty_documents(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert "no text" in _error(path)


def test_html_with_only_scripts_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><body><script>run()</script><nav>Menu</nav></body></html>", "utf-8")
    assert "no text" in _error(path)


def test_unsupported_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04 not really a docx")
    message = _error(path)
    assert "'.docx'" in message and ".md" in message and ".pdf" in message


def test_garbage_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(os.urandom(2048))
    assert "not a valid PDF" in _error(path)


def test_truncated_pdf(tmp_path: Path, pdf_writer: Callable[..., Path]) -> None:
    path = pdf_writer(tmp_path / "cut.pdf", [VOLCANO_LINES])
    path.write_bytes(path.read_bytes()[:120])
    message = _error(path)
    assert "not a valid PDF" in message or "no text" in message


def test_binary_text_file(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"\x00\x01\x02binary\x00")
    assert "binary" in _error(path)


def test_directory_and_missing_path(tmp_path: Path) -> None:
    assert "is a directory" in _error(tmp_path)
    assert "no such file" in _error(tmp_path / "nowhere.md")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("# Secret\n\nText.", "utf-8")
    path.chmod(0)
    try:
        assert "permission denied" in _error(path)
    finally:
        path.chmod(0o600)


def test_permission_denied_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.md"
    path.write_text("# Locked\n\nText.", "utf-8")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)  # root ignores file modes, so simulate it
    assert "permission denied" in _error(path)


def test_parse_document_takes_the_kind_from_the_name(tmp_path: Path, docs: dict[str, Path]) -> None:
    doc = parse_document(docs["md"].read_bytes(), tmp_path / "upload.md")
    assert doc.title == "Why the Sky Is Blue"


# --- sentences -------------------------------------------------------------------------------


def test_split_sentences_keeps_abbreviations_decimals_and_initials() -> None:
    text = (
        "Dr. Smith paid $3.50 for 2.5 kg of apples, e.g. Braeburn. Was it worth it? Yes! "
        'J. R. R. Tolkien wrote about the U.S. Army, i.e. Not really. "Quoted," she said. '
        "See No. 5 on p. 12 of the report. That was all.\n\nA new paragraph without a stop"
    )
    assert split_sentences(text) == [
        "Dr. Smith paid $3.50 for 2.5 kg of apples, e.g. Braeburn.",
        "Was it worth it?",
        "Yes!",
        "J. R. R. Tolkien wrote about the U.S. Army, i.e. Not really.",
        '"Quoted," she said.',
        "See No. 5 on p. 12 of the report.",
        "That was all.",
        "A new paragraph without a stop",
    ]


def test_split_sentences_ends_at_lowercase_abbreviation_like_words() -> None:
    assert split_sentences("The answer was no. Then we left.") == [
        "The answer was no.",
        "Then we left.",
    ]
    assert split_sentences("") == []


# --- chunks ----------------------------------------------------------------------------------


def _long_document(tmp_path: Path) -> Document:
    sentences = [
        f"Fact {i} says the tide rises about {i}.5 metres, e.g. at Dr. Jones's pier in St. Ives."
        if i % 3 == 0
        else f"Observation {i} notes that the moon pulls the ocean and the water moves."
        for i in range(90)
    ]
    body = "\n\n".join(" ".join(sentences[i : i + 6]) for i in range(0, 90, 6))
    path = tmp_path / "tides.md"
    path.write_text(f"# Tides\n\n{body}\n\n## Short\n\nOne sentence here.\n", "utf-8")
    return load_document(path)


def test_chunks_hold_whole_sentences_within_max_words(tmp_path: Path) -> None:
    doc = _long_document(tmp_path)
    chunks = chunk_sections(doc, target_words=120, max_words=180)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len(chunks) > 3
    for heading, text in doc.sections:
        sentences = split_sentences(text)
        mine = [c for c in chunks if c.heading == heading]
        rebuilt: list[str] = []
        for chunk in mine:
            assert chunk.words <= 180
            parts = split_sentences(chunk.text)
            assert all(p in sentences for p in parts)  # never a cut sentence
            rebuilt.extend(parts)
        assert rebuilt == sentences  # nothing lost, nothing repeated, order kept
    assert chunks[-1].heading == "Short" and chunks[-1].text == "One sentence here."
    assert all(c.words >= 60 for c in chunks if c.heading == "Tides")  # short tail folded


def test_an_overlong_sentence_is_cut_to_max_words(tmp_path: Path) -> None:
    path = tmp_path / "run-on.txt"
    path.write_text(" ".join(f"word{i}," if i % 40 == 39 else f"word{i}" for i in range(500)))
    chunks = chunk_sections(load_document(path), target_words=50, max_words=80)
    assert all(c.words <= 80 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == path.read_text().split()


def test_chunk_sizes_must_make_sense(docs: dict[str, Path]) -> None:
    with pytest.raises(ValueError):
        chunk_sections(load_document(docs["md"]), target_words=200, max_words=100)


def test_markdown_chunk_text_has_no_markup(docs: dict[str, Path]) -> None:
    for chunk in chunk_sections(load_document(docs["md"])):
        assert not re.search(r"\*\*|\]\(|```", chunk.text)
