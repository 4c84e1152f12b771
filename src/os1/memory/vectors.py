"""Dense vector search behind one method, so the index can change without callers noticing.

Brute force, in two stages once a store is large: every vector's sign bits (48 bytes for MiniLM's 384
dimensions) are compared with the query's by Hamming distance, and only the `RESCORE` nearest by that measure are
scored exactly by cosine. At 124k vectors the exact scan reads 190 MB per search; the bits are 6 MB, and the
exact rows 12 MB. Below `EXACT_BELOW` vectors every one is scored exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from os1.errors import StorageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

EXACT_BELOW = 20_000
"""Stores up to this many vectors are scanned exactly (a few milliseconds, and no approximation at all)."""
RESCORE = 8_000
"""How many vectors, nearest by their sign bits, are scored exactly in a large store (at least 40 per result asked).
At 124k MiniLM vectors the 100 best found so are 99.8% of an exact scan's (4,000: 98.3%, 2,000: 94.2%), in 2.8 ms
instead of 6.7 (docs/benchmarks.md, memory at scale)."""


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
    """Cosine search over one user's unit vectors, held in memory: a float32 matrix and each row's sign bits
    (word by word, each word's bits of all rows side by side, so the Hamming scan streams through memory)."""

    def __init__(self, dim: int) -> None:
        import numpy

        _one_blas_thread()
        self._np = numpy
        self.dim = dim
        self.words = (dim + 63) // 64
        self._rows_used = 0
        self._matrix = numpy.zeros((0, dim), dtype=numpy.float32)
        """Rows in use, then spare capacity (the matrix grows by doubling: adding is not a copy of it all)."""
        self._bits = numpy.zeros((self.words, 0), dtype=numpy.uint64)
        self._keys: list[Key] = []
        self._rows: dict[Key, int] = {}
        self._pending: list[npt.NDArray[np.float32]] = []

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def nbytes(self) -> int:
        """Bytes the vectors and their sign bits take, spare capacity included."""
        return int(self._matrix.nbytes + self._bits.nbytes)

    def add(self, key: Key, vector: npt.NDArray[np.float32]) -> None:
        """Add or replace one vector."""
        if vector.shape != (self.dim,):
            raise StorageError(f"A vector of shape {vector.shape} cannot join an index of dimension {self.dim}.")
        if key in self._rows:
            self._flush()
            row = self._rows[key]
            self._matrix[row] = vector
            self._bits[:, row] = self._signs(vector[None, :])[:, 0]
            return
        self._rows[key] = len(self._keys)
        self._keys.append(key)
        self._pending.append(vector.astype(self._np.float32))

    def remove(self, keys: set[Key]) -> None:
        """Drop vectors (forgotten content)."""
        self._flush()
        keep = [i for i, k in enumerate(self._keys) if k not in keys]
        self._matrix = self._matrix[keep]
        self._bits = self._np.ascontiguousarray(self._bits[:, keep])
        self._rows_used = len(keep)
        self._keys = [self._keys[i] for i in keep]
        self._rows = {k: i for i, k in enumerate(self._keys)}

    def _signs(self, rows: npt.NDArray[np.float32]) -> npt.NDArray[np.uint64]:
        """Sign bits of rows, as `words` uint64 per row, one row per column."""
        np = self._np
        packed = np.packbits(rows > 0, axis=1)
        padded = np.zeros((rows.shape[0], self.words * 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        return padded.view(np.uint64).T  # type: ignore[no-any-return]

    def _flush(self) -> None:
        if not self._pending:
            return
        np = self._np
        new = np.vstack(self._pending)
        self._pending = []
        used, needed = self._rows_used, self._rows_used + len(new)
        if needed > len(self._matrix):
            capacity = needed if not used else max(needed, 2 * len(self._matrix))
            matrix = np.zeros((capacity, self.dim), dtype=np.float32)
            matrix[:used] = self._matrix[:used]
            bits = np.zeros((self.words, capacity), dtype=np.uint64)
            bits[:, :used] = self._bits[:, :used]
            self._matrix, self._bits = matrix, bits
        self._matrix[used:needed] = new
        self._bits[:, used:needed] = self._signs(new)
        self._rows_used = needed

    def search(self, query: npt.NDArray[np.float32], k: int) -> Hits:
        """The `k` nearest keys by cosine similarity, best first, and a way to read any other key's score."""
        self._flush()
        np = self._np
        n = len(self._keys)
        if not n:
            return Hits({}, {}, None, None)
        query = query.astype(np.float32)
        matrix = self._matrix[:n]
        k = max(0, min(k, n))
        rescore = max(RESCORE, 40 * k)
        popcount: Any = getattr(np, "bitwise_count", None)  # numpy >= 2
        if n <= max(EXACT_BELOW, rescore) or popcount is None:
            rows: npt.NDArray[Any] = np.arange(n)
            scores = matrix @ query
        else:
            rows = self._nearest_by_bits(query, rescore, popcount)
            scores = matrix[rows] @ query
        top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=int)
        top = top[np.argsort(-scores[top])]
        return Hits({self._keys[int(rows[i])]: float(scores[i]) for i in top}, self._rows, matrix, query)

    def _nearest_by_bits(self, query: npt.NDArray[np.float32], count: int, popcount: Any) -> npt.NDArray[Any]:
        """Rows whose sign bits are among the `count` nearest the query's by Hamming distance (ties included)."""
        np = self._np
        n = len(self._keys)
        signs = self._signs(query[None, :])[:, 0]
        distance = popcount(self._bits[0, :n] ^ signs[0]).astype(np.uint16)
        for word in range(1, self.words):
            distance += popcount(self._bits[word, :n] ^ signs[word])
        cumulative = np.cumsum(np.bincount(distance, minlength=self.dim + 1))
        cut = int(np.searchsorted(cumulative, count))
        return np.flatnonzero(distance <= cut)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Hits:
    """The nearest keys of one search, and every other key's similarity on demand."""

    top: dict[Key, float]
    rows: dict[Key, int]
    matrix: npt.NDArray[np.float32] | None
    query: npt.NDArray[np.float32] | None

    def score(self, key: Key) -> float | None:
        """The similarity of any key that has a vector."""
        if key in self.top:
            return self.top[key]
        row = self.rows.get(key)
        if row is None or self.matrix is None or self.query is None or row >= len(self.matrix):
            return None
        return float(self.matrix[row] @ self.query)
