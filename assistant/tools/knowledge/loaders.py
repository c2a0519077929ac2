"""Document loaders for the knowledge base: Markdown, plain text, HTML and PDF to plain text.

``load_document`` returns a :class:`Document` (title, plain text, sections by heading);
``split_sentences`` and ``chunk_sections`` (:mod:`.chunking`, re-exported here) turn it into
passages that hold whole sentences.
Every problem with a user's file is an :class:`InputError` whose message is one line.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import InputError
from assistant.tools.knowledge.chunking import chunk_sections, split_sentences
from assistant.tools.knowledge.documents import Chunk, DocKind, Document
from assistant.tools.knowledge.markdown import parse_markdown, strip_inline_markdown

KINDS: dict[str, DocKind] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(KINDS)
MAX_FILE_BYTES = 50 * 1024 * 1024


# --- loading -----------------------------------------------------------------------------


def load_document(path: Path | str) -> Document:
    """Read a .md/.markdown/.txt/.html/.htm/.pdf file into plain text with its sections."""
    path = Path(path).expanduser()
    kind = check_file(path)
    return parse_document(read_file(path), path, kind)


def check_file(path: Path, name: str | None = None) -> DocKind:
    """The kind of document at ``path`` (by ``name``'s extension if given, e.g. an upload
    saved under a random name); InputError if it is missing, a folder or unsupported."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory: give the files inside it instead")
    return kind_of(name or path.name)


def kind_of(name: str) -> DocKind:
    """The document kind for a file name; InputError naming the supported extensions."""
    suffix = Path(name).suffix
    kind = KINDS.get(suffix.lower())
    if kind is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        what = f"'{suffix}' files" if suffix else "files without an extension"
        raise InputError(f"{name}: {what} are not supported; use one of {supported}")
    return kind


def read_file(path: Path) -> bytes:
    """The file's bytes; InputError if it cannot be read or is too large."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"{path.name} is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB"
            )
        return path.read_bytes()
    except PermissionError as exc:
        raise InputError(f"{path.name} cannot be read: permission denied", detail=str(exc)) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"{path.name} cannot be read: {reason}", detail=str(exc)) from exc


def parse_document(data: bytes, path: Path, kind: DocKind | None = None) -> Document:
    """Parse a file's bytes; ``path`` names it (title fallback, messages), ``kind`` its type."""
    kind = kind or kind_of(path.name)
    name = path.name
    if kind == "pdf":
        title, sections = _parse_pdf(data, name)
    else:
        raw = _decode(data, name)
        if kind == "markdown":
            title, sections = parse_markdown(raw)
        elif kind == "html":
            title, sections = _parse_html(raw)
        else:
            title, sections = "", [("", _paragraphs(raw.splitlines()))]
    sections = [(h, t) for h, t in sections if t.strip()]
    if not sections:
        raise InputError(f"{name} has no text to read (it is empty or holds only markup/images)")
    parts: list[str] = []
    for heading, text in sections:
        if heading:
            parts.append(heading)
        parts.append(text)
    return Document(
        title=title or path.stem,
        text="\n\n".join(parts),
        sections=sections,
        path=path,
        kind=kind,
    )


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} cannot be read: invalid UTF-16 text") from exc
    if b"\x00" in data:
        raise InputError(f"{name} cannot be read: it looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _paragraphs(lines: list[str]) -> str:
    """Lines -> paragraphs separated by blank lines; lines inside a paragraph are joined."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        stripped = line.strip()
        if stripped:
            current.append(stripped)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


# --- html --------------------------------------------------------------------------------

_BREAK = "\x01"
_HEAD = "\x02"
_DROP_TAGS = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "form", "button"]
_SECTION_TAGS = ["h1", "h2", "h3"]
_BLOCK_TAGS = [
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote", "table", "tr", "td",
    "th", "section", "article", "main", "header", "footer", "aside", "figure", "figcaption",
    "h4", "h5", "h6", "address", "details", "summary", "caption", "hr",
]  # fmt: skip


def _parse_html(raw: str) -> tuple[str, list[tuple[str, str]]]:
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(raw.replace(_BREAK, " ").replace(_HEAD, " "), "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if title_tag else ""
    for tag in soup.find_all(["title", "head", *_DROP_TAGS]):
        tag.decompose()
    if not title and (h1 := soup.find("h1")):
        title = " ".join(h1.get_text(" ").split())
    for node in list(soup.find_all(string=True)):
        if type(node) is NavigableString:  # not comments, doctypes, CDATA
            node.replace_with(re.sub(r"\s+", " ", str(node)))
    for tag in soup.find_all(_SECTION_TAGS):
        text = " ".join(tag.get_text(" ").split())
        tag.replace_with(f"{_BREAK}{_HEAD}{text}{_BREAK}")
    for tag in soup.find_all("br"):
        tag.replace_with(_BREAK)
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_BREAK)
        tag.insert_after(_BREAK)
    root = soup.body or soup
    sections: list[tuple[str, str]] = []
    heading = ""
    paragraphs: list[str] = []
    for piece in root.get_text().split(_BREAK):
        piece = " ".join(piece.split())
        if piece.startswith(_HEAD):
            sections.append((heading, "\n\n".join(paragraphs)))
            heading, paragraphs = piece[1:].strip(), []
        elif piece:
            paragraphs.append(piece)
    sections.append((heading, "\n\n".join(paragraphs)))
    return title, sections


# --- pdf ---------------------------------------------------------------------------------


def _parse_pdf(data: bytes, name: str) -> tuple[str, list[tuple[str, str]]]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name} is password-protected: save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = " ".join(str(meta.title).split()) if meta and meta.title else ""
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError...)
        raise InputError(
            f"{name} cannot be read: it is not a valid PDF or it is damaged", detail=repr(exc)
        ) from exc
    sections: list[tuple[str, str]] = []
    for number, text in enumerate(pages, 1):
        text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
        sections.append(
            (f"Page {number}" if len(pages) > 1 else "", _paragraphs(text.splitlines()))
        )
    return title, sections


__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocKind",
    "Chunk",
    "Document",
    "check_file",
    "chunk_sections",
    "kind_of",
    "load_document",
    "parse_document",
    "read_file",
    "split_sentences",
    "strip_inline_markdown",
]
