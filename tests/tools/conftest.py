"""Shared fixtures for the tools tests: real small documents, the real embedder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.tools.knowledge.embeddings import MiniLMEmbedder


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A minimal valid PDF: one Helvetica text line per string, one page per list."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for lines in pages:
        page_id = len(objects) + 1
        kids.append(f"{page_id} 0 R")
        shown = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
        content = f"BT /F1 11 Tf 14 TL 72 740 Td {shown} ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    info = ""
    if title is not None:
        objects.append(f"<< /Title ({_pdf_string(title)}) >>".encode("latin-1"))
        info = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


SKY_MD = """\
# Why the Sky Is Blue

Sunlight looks white, but it is a mix of **all colours**. See [the NASA page](https://nasa.gov)
for pictures.

## Rayleigh scattering

Air molecules scatter short wavelengths far more than long ones. Blue light is scattered
about 5.5 times more strongly than red light, e.g. by nitrogen and oxygen molecules. Dr. Rayleigh
described the effect in 1871.

```
# this is code, not a heading
scatter = 1 / wavelength ** 4
```

## Sunsets

At sunset the light crosses much more air. Most blue light is scattered away before it
reaches us, so the sky near the horizon turns orange and red.
"""

BREAD_TXT = """\
Sourdough bread rises without commercial yeast. A starter of flour and water collects wild
yeast and lactic acid bacteria from the environment.

Feed the starter every day with equal weights of flour and water. After about a week it
doubles in size within hours of a feeding, and it is ready to leaven a loaf of bread.
"""

BEES_HTML = """\
<!doctype html>
<html><head><title>How Honeybees Make Honey</title><style>p { color: red }</style>
<script>console.log("tracking")</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<h1>Honeybees</h1>
<p>Worker bees collect nectar from flowers and carry it back to the hive.</p>
<h2>From nectar to honey</h2>
<p>Bees pass the nectar from mouth to mouth, adding enzymes that break sugars down.
They fan it with their wings until most of the water evaporates.</p>
<h3>Capping the cells</h3>
<ul><li>The honey is stored in wax cells.</li><li>Bees seal each cell with a wax cap.</li></ul>
</body></html>
"""

VOLCANO_LINES = [
    "Volcanoes erupt when molten rock called magma rises to the surface.",
    "Gas bubbles in the magma expand and drive explosive eruptions.",
    "Lava flows can reach temperatures above 1,100 degrees Celsius.",
]


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real offline model, loaded once for the whole session."""
    model = MiniLMEmbedder(threads=2)
    model.load()
    return model


@pytest.fixture
def kb_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        qdrant_url=None,
        qdrant_collection="knowledge",
        seed_sample_kb=True,
        research_top_k=5,
        research_min_score=0.25,
    )


@pytest.fixture
def docs(tmp_path: Path) -> dict[str, Path]:
    """One small document of each supported kind, each on its own topic."""
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = {
        "md": folder / "sky.md",
        "txt": folder / "sourdough.txt",
        "html": folder / "bees.html",
        "pdf": folder / "volcanoes.pdf",
    }
    paths["md"].write_text(SKY_MD, encoding="utf-8")
    paths["txt"].write_text(BREAD_TXT, encoding="utf-8")
    paths["html"].write_text(BEES_HTML, encoding="utf-8")
    write_pdf(paths["pdf"], [VOLCANO_LINES], title="All About Volcanoes")
    return paths


@pytest.fixture
def pdf_writer() -> Callable[..., Path]:
    return write_pdf
