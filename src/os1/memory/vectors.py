"""Dense vector search behind one method, so the index (brute force today) can change without callers noticing."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from os1.errors import StorageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

@functools.cache
def _one_blas_thread() -> None:
    """One BLAS thread for the whole process: a search runs the full-text query on one core and the vector
    scan on the other, and a second BLAS thread only fights them (10k-100k rows scan in a few ms anyway)."""
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(limits=1, user_api="blas")


Key = tuple[str, int]
"""(kind, id) of what a vector belongs to: ('turn', 12) or ('memory', 3)."""


class VectorIndex:
    """Brute-force cosine search over one user's unit vectors, held in memory as one float32 matrix.

    100k × 384 floats is 150 MB and one matrix-vector product (~10 ms on one core).
    """

    def __init__(self, dim: int) -> None:
        import numpy

        _one_blas_thread()
        self._np = numpy
        self.dim = dim
        self._matrix = numpy.zeros((0, dim), dtype=numpy.float32)
        self._keys: list[Key] = []
        self._rows: dict[Key, int] = {}
        self._pending: list[npt.NDArray[np.float32]] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Key, vector: npt.NDArray[np.float32]) -> None:
        """Add or replace one vector."""
        if vector.shape != (self.dim,):
            raise StorageError(f"A vector of shape {vector.shape} cannot join an index of dimension {self.dim}.")
        if key in self._rows:
            self._flush()
            self._matrix[self._rows[key]] = vector
            return
        self._rows[key] = len(self._keys)
        self._keys.append(key)
        self._pending.append(vector.astype(self._np.float32))

    def remove(self, keys: set[Key]) -> None:
        """Drop vectors (forgotten content)."""
        self._flush()
        keep = [i for i, k in enumerate(self._keys) if k not in keys]
        self._matrix = self._matrix[keep]
        self._keys = [self._keys[i] for i in keep]
        self._rows = {k: i for i, k in enumerate(self._keys)}

    def _flush(self) -> None:
        if self._pending:
            self._matrix = self._np.vstack([self._matrix, *self._pending])
            self._pending = []

    def search(self, query: npt.NDArray[np.float32], k: int) -> Hits:
        """The `k` nearest keys by cosine similarity, best first, and a way to read any other key's score."""
        self._flush()
        if not self._keys:
            return Hits({}, {}, None)
        scores = self._matrix @ query.astype(self._np.float32)
        k = max(0, min(k, len(self._keys)))
        top = self._np.argpartition(-scores, k - 1)[:k] if k else self._np.zeros(0, dtype=int)
        top = top[self._np.argsort(-scores[top])]
        return Hits({self._keys[int(r)]: float(scores[int(r)]) for r in top}, self._rows, scores)


@dataclass(frozen=True)
class Hits:
    """The nearest keys of one search, and every other key's similarity on demand."""

    top: dict[Key, float]
    rows: dict[Key, int]
    scores: npt.NDArray[np.float32] | None

    def score(self, key: Key) -> float | None:
        """The similarity of any key that has a vector."""
        if key in self.top:
            return self.top[key]
        row = self.rows.get(key)
        return None if row is None or self.scores is None else float(self.scores[row])
