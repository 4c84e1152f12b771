"""The vector index: exact below a size, sign bits then exact cosine above it, and the same answers."""

from __future__ import annotations

import numpy as np
import pytest

from os1.memory import vectors
from os1.memory.vectors import VectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture
def clustered() -> np.ndarray:
    """Vectors in a few hundred clusters, as sentence embeddings are (random ones would make it too easy)."""
    rng = np.random.default_rng(3)
    centres = unit(rng.standard_normal((300, 384)))
    return unit(centres[rng.integers(0, 300, 6000)] + 0.6 * unit(rng.standard_normal((6000, 384))))


def exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-(matrix @ query))[:k]]


def test_large_stores_search_by_bits_then_exactly(clustered: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "EXACT_BELOW", 1000)
    monkeypatch.setattr(vectors, "RESCORE", 600)
    index = VectorIndex(384)
    for i, row in enumerate(clustered):
        index.add(("doc", i), row)
    rng = np.random.default_rng(9)
    agree = []
    for q in range(40):
        query = unit(clustered[q * 100] + 0.3 * unit(rng.standard_normal(384)))
        hits = index.search(query, 20)
        assert list(hits.top.values()) == sorted(hits.top.values(), reverse=True)
        expected = exact_top(clustered, query, 20)
        agree.append(len({key[1] for key in hits.top} & set(expected)) / 20)
        for key, score in hits.top.items():  # the scores are exact cosines
            assert score == pytest.approx(float(clustered[key[1]] @ query), abs=1e-5)
        other = next(i for i in range(6000) if ("doc", i) not in hits.top)
        assert hits.score(("doc", other)) == pytest.approx(float(clustered[other] @ query), abs=1e-5)
    assert np.mean(agree) >= 0.95, agree


def test_small_stores_are_exact_and_vectors_can_change(clustered: np.ndarray) -> None:
    index = VectorIndex(384)
    for i, row in enumerate(clustered[:500]):
        index.add(("doc", i), row)
    query = clustered[7]
    assert [key[1] for key in index.search(query, 10).top] == exact_top(clustered[:500], query, 10)
    index.add(("doc", 7), clustered[8])  # replaced
    index.remove({("doc", 8)})
    top = index.search(clustered[8], 3).top
    assert ("doc", 8) not in top and next(iter(top)) == ("doc", 7)
    assert len(index) == 499 and index.search(query, 1000).top.keys() == {("doc", i) for i in range(500) if i != 8}


def test_a_small_index_holds_little_memory(clustered: np.ndarray) -> None:
    """A server holds thousands of users' indexes: one of a few vectors must not reserve room for a thousand."""
    index = VectorIndex(384)
    for i, vector in enumerate(clustered[:7]):
        index.add(("turn", i), vector)
    index.search(clustered[0], 3)
    row = 384 * 4 + index.words * 8
    assert index.nbytes <= 2 * 7 * row
    for i, vector in enumerate(clustered[7:300], start=7):  # growing is by doubling: at most twice what is held
        index.add(("turn", i), vector)
        if i % 37 == 0:
            index.search(clustered[0], 3)
    index.search(clustered[0], 3)
    assert index.nbytes <= 2 * 300 * row
    assert [key[1] for key in index.search(clustered[5], 1).top] == [5]
