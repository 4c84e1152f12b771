"""Plain baselines over the raw turns of one conversation, for `memory_recall.py` to print beside OS1: BM25 (SQLite
FTS5's Okapi BM25, k1 = 1.2, b = 0.75, Porter stemming, one document per turn, the question's words ORed), and
BM25 fused by rank with MiniLM cosine over the same raw turns (reciprocal rank fusion, k = 60)."""

from __future__ import annotations

import sqlite3

import numpy as np

from os1.memory.embeddings import Embedder
from os1.memory.textproc import fts_query, keywords

RRF_K = 60
DEPTH = 100


class RawTurns:
    """One conversation's turns, verbatim, indexed for the baselines."""

    def __init__(self, texts: list[str], keys: list[str], embedder: Embedder | None) -> None:
        self.keys = keys
        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE VIRTUAL TABLE turns USING fts5(body, tokenize = 'porter unicode61')")
        self._db.executemany("INSERT INTO turns(rowid, body) VALUES (?, ?)", enumerate(texts))
        self._embedder = embedder
        self._matrix = embedder.embed(texts) if embedder is not None else None

    def bm25(self, question: str, k: int = DEPTH) -> list[str]:
        """The `k` best turns by BM25, best first."""
        match = fts_query(keywords(question))
        if match is None:
            return []
        rows = self._db.execute("SELECT rowid FROM turns WHERE turns MATCH ? ORDER BY bm25(turns) LIMIT ?",
                                (match, k)).fetchall()
        return [self.keys[int(r[0])] for r in rows]

    def dense(self, question: str, k: int = DEPTH) -> list[str]:
        """The `k` nearest turns by MiniLM cosine, best first."""
        if self._embedder is None or self._matrix is None:
            return []
        scores = self._matrix @ self._embedder.embed([question])[0]
        return [self.keys[int(i)] for i in np.argsort(-scores)[:k]]

    def fused(self, question: str, k: int = DEPTH) -> list[str]:
        """BM25 and dense fused by reciprocal rank."""
        score: dict[str, float] = {}
        for ranking in (self.bm25(question), self.dense(question)):
            for rank, key in enumerate(ranking):
                score[key] = score.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(score, key=lambda key: -score[key])[:k]

    def close(self) -> None:
        self._db.close()
