"""Query embeddings made together: every user's recall embeds its query, and one thread embeds all that wait.

A sentence model's cost per call is mostly fixed (some 280 graph nodes run whatever the batch), so four short
queries embedded in one call cost about 60 % of four calls (all-MiniLM-L6-v2 here: 3.9 ms for one, 9.3 ms
for four). One thread takes every query waiting when it is free, up to `max_batch` of them: alone, a query is
embedded at once as before; when many users talk at the same moment, they share calls, and the CPU a server
spends on queries falls as its load rises. Queries for different embedders are never mixed in one call.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from os1.memory.embeddings import Embedder, Vectors

MAX_BATCH = 8


class QueryBatcher:
    """Embeds queries on one thread of its own (started on first use), each call taking the waiting ones."""

    def __init__(self, *, max_batch: int = MAX_BATCH, name: str = "os1-query") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.max_batch = max_batch
        self._name = name
        self._waiting: deque[tuple[Embedder, str, Future[Vectors]]] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.calls = 0
        """Calls made to embedders so far (each embeds one batch)."""

    def submit(self, embedder: Embedder, text: str) -> Future[Vectors]:
        """A future of the text's vector (one row of `embedder.embed`)."""
        future: Future[Vectors] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the query embedder is closed")
            self._waiting.append((embedder, text, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return future

    def _take(self) -> list[tuple[Embedder, str, Future[Vectors]]] | None:
        """The next batch: the oldest query and those waiting behind it for the same embedder."""
        with self._ready:
            while not self._waiting and not self._closed:
                self._ready.wait()
            if not self._waiting:
                return None
            embedder = self._waiting[0][0]
            batch: list[tuple[Embedder, str, Future[Vectors]]] = []
            left: deque[tuple[Embedder, str, Future[Vectors]]] = deque()
            while self._waiting:
                job = self._waiting.popleft()
                (batch if job[0] is embedder and len(batch) < self.max_batch else left).append(job)
            self._waiting = left
        return [job for job in batch if job[2].set_running_or_notify_cancel()]

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            if not batch:
                continue
            self.calls += 1
            try:
                vectors = batch[0][0].embed([text for _, text, _ in batch])
            except BaseException as exc:  # every waiter hears of it; the thread goes on for the next ones
                for _, _, future in batch:
                    future.set_exception(exc)
                continue
            for row, (_, _, future) in enumerate(batch):
                future.set_result(vectors[row])

    def close(self) -> None:
        """Stop the thread once the batch in hand is done; queries still waiting are cancelled."""
        with self._ready:
            self._closed = True
            waiting, self._waiting = self._waiting, deque()
            self._ready.notify_all()
        for _, _, future in waiting:
            future.cancel()
