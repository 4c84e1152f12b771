"""Query embeddings made together: what waits is embedded in one call, each caller gets its own row."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING

import numpy as np
import pytest

from os1.memory.batching import QueryBatcher
from os1.memory.embeddings import Embedder, MiniLMEmbedder

if TYPE_CHECKING:
    from os1.memory.embeddings import Vectors


class Recording(Embedder):
    """Each text becomes [len(text), tag]; the first call waits until let go, so others queue behind it."""

    dim = 2

    def __init__(self, tag: float = 0.0, fail: bool = False) -> None:
        self.tag, self.fail = tag, fail
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.go = threading.Event()

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        self.entered.set()
        assert self.go.wait(10)
        if self.fail:
            raise ValueError("the model broke")
        return np.array([[len(t), self.tag] for t in texts], dtype=np.float32)


def test_queries_waiting_behind_a_call_share_the_next_one() -> None:
    batcher = QueryBatcher(max_batch=3)
    model = Recording()
    try:
        first = batcher.submit(model, "a")
        assert model.entered.wait(10)
        waiting = [batcher.submit(model, "b" * n) for n in range(2, 7)]  # five wait while "a" is embedded
        model.go.set()
        assert first.result(10).tolist() == [1, 0]
        assert [f.result(10).tolist() for f in waiting] == [[n, 0] for n in range(2, 7)]
        assert model.calls == [["a"], ["bb", "bbb", "bbbb"], ["bbbbb", "bbbbbb"]]  # oldest first, 3 at most
        assert batcher.calls == 3
    finally:
        batcher.close()


def test_two_embedders_are_never_mixed_in_one_call() -> None:
    batcher = QueryBatcher()
    one, two = Recording(1.0), Recording(2.0)
    try:
        blocker = batcher.submit(one, "x")
        assert one.entered.wait(10)
        futures = [batcher.submit(one, "one"), batcher.submit(two, "two"), batcher.submit(one, "uno")]
        two.go.set()
        one.go.set()
        assert blocker.result(10).tolist() == [1, 1]
        assert [f.result(10).tolist() for f in futures] == [[3, 1], [3, 2], [3, 1]]
        assert one.calls == [["x"], ["one", "uno"]] and two.calls == [["two"]]
    finally:
        batcher.close()


def test_a_failure_reaches_every_query_of_its_call_and_the_next_call_works() -> None:
    batcher = QueryBatcher()
    broken, fine = Recording(fail=True), Recording()
    try:
        first = batcher.submit(broken, "a")
        assert broken.entered.wait(10)
        second = batcher.submit(broken, "b")
        broken.go.set()
        for future in (first, second):
            with pytest.raises(ValueError, match="the model broke"):
                future.result(10)
        fine.go.set()
        assert batcher.submit(fine, "ok").result(10).tolist() == [2, 0]
    finally:
        batcher.close()


def test_closing_cancels_what_waits_and_refuses_more() -> None:
    batcher = QueryBatcher()
    model = Recording()
    first = batcher.submit(model, "a")
    assert model.entered.wait(10)
    waiting = batcher.submit(model, "b")
    batcher.close()
    model.go.set()
    assert first.result(10).tolist() == [1, 0]  # the call in hand finishes
    with pytest.raises(CancelledError):
        waiting.result(10)
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(model, "c")


def test_a_query_embedded_with_others_gets_the_vector_it_gets_alone() -> None:
    """Padding a short query to a longer one's length must not change its vector (the attention mask)."""
    model = MiniLMEmbedder(threads=1)
    texts = ["Where does Amy live?", "What did I say about my sister's birthday party next week in Lisbon?",
             "gym"]
    alone = np.stack([model.embed([t])[0] for t in texts])
    together = model.embed(texts)
    assert np.abs(alone - together).max() < 1e-4
