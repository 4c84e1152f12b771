"""A disk cache of sentence vectors for the benchmarks: the same text always gets the same vector, so a second run
(or a change to ranking alone) skips the embedding, and its figures are the same as an uncached run's."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from os1.memory.embeddings import Embedder

if TYPE_CHECKING:
    from os1.memory.embeddings import Vectors

DEFAULT = Path.home() / ".cache" / "os1" / "bench-vectors.sqlite"


class CachedEmbedder(Embedder):
    """`inner`'s vectors, kept in a SQLite file by the text's hash."""

    def __init__(self, inner: Embedder, path: Path = DEFAULT) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self.name}\x00{text}".encode()).digest()

    def embed(self, texts: Sequence[str]) -> Vectors:
        keys = [self._key(t) for t in texts]
        with self._lock:
            found = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk).fetchall()
                found.update({bytes(k): np.frombuffer(v, dtype="<f4") for k, v in rows})
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            made = self.inner.embed([texts[i] for i in missing])
            with self._lock:
                self._db.execute("BEGIN")
                for i, vector in zip(missing, made, strict=True):
                    found[keys[i]] = vector
                    self._db.execute("INSERT OR REPLACE INTO vectors(key, vec) VALUES (?, ?)",
                                     (keys[i], vector.astype("<f4").tobytes()))
                self._db.execute("COMMIT")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out
