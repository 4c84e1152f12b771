"""The public memory API the companion (and the benchmarks) use: remember, recall, and background indexing.

Writing a turn is a durable insert plus a full-text index entry, a few milliseconds; its vector and the memory
items derived from it are made in the background, never in the reply's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from os1.memory import facts, ranking, textproc
from os1.memory.backlog import Backlog
from os1.memory.batching import QueryBatcher
from os1.memory.embeddings import Embedder
from os1.memory.extract import Extracted, extract
from os1.memory.store import Turn, TurnStatus, UserStore, now
from os1.memory.tables import DONE, EMBED, Item, MemoryTables, memory_doc, turn_doc
from os1.memory.timeparse import describe, iso_span
from os1.memory.vectors import VectorIndex

Extractor = Callable[[Turn], Awaitable[list[Extracted]]]
"""Finds memory items in a turn beside the rules, e.g. `LLMExtractor` with a capable model."""
BATCH = 32


@dataclass(frozen=True, slots=True)
class Recollection:
    """One thing recalled: a turn said verbatim, or a memory item derived from turns."""

    kind: str
    """`turn`, or the item's kind (`fact`, `event`, `person`…)."""
    text: str
    at: datetime
    """When it was said, or since when the item holds."""
    turn_ids: tuple[int, ...]
    """The turns behind it."""
    score: float
    speaker: str = ""
    valid_until: datetime | None = None
    """For a fact that has since changed: when it stopped being true."""
    own: bool = False
    """A turn the OS itself said."""

    def render(self) -> str:
        """One line for the model's context (which is the OS's: its own words are "You said")."""
        if self.kind == "turn":
            who = "You said: " if self.own else f"{self.speaker}: " if self.speaker else ""
            stale = f" (no longer true since {describe(self.valid_until)})" if self.valid_until else ""
            return f"({describe(self.at)}) {who}{self.text}{stale}"
        if self.valid_until is not None:
            span = f"from {describe(self.at)} until {describe(self.valid_until)}"
            return f"{self.text.rstrip('.')} ({span}; no longer true)"
        return self.text


OWN_LINES = 2
"""At most this many of the OS's own turns in what the companion recalls for the model: its past words help
("what was that book you suggested?") but must not crowd out what the user said."""


def fewer_own(found: list[Recollection], most: int = OWN_LINES) -> list[Recollection]:
    """`found` with no more than `most` of the OS's own turns (the best of them), in order."""
    own = [r for r in found if r.own][:most]
    return [r for r in found if not r.own or any(r is o for o in own)]


def _background_priority() -> None:
    """Lower the calling thread's CPU priority (Linux: per thread): background embedding then takes only
    the time that replies leave free."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


@dataclass(frozen=True)
class Workers:
    """The threads memory works on: one embeds in the background (at the lowest priority), two search the
    full-text index, one embeds queries (those waiting together: `QueryBatcher`). A server shares them among
    all its users (thousands of users must not mean thousands of threads)."""

    embed: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-embed",
                                                   initializer=_background_priority))
    search: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="os1-search"))
    queries: QueryBatcher = field(default_factory=QueryBatcher)
    backlog: Backlog = field(default_factory=Backlog)
    """Users whose background work waits for the embedding thread: two run at a time."""

    def close(self) -> None:
        """Stop the threads, dropping work not yet started."""
        self.embed.shutdown(wait=False, cancel_futures=True)
        self.search.shutdown(wait=False, cancel_futures=True)
        self.queries.close()


class Memory:
    """One user's long-term memory over the shared database."""

    def __init__(self, store: UserStore, *, embedder: Embedder | None = None,
                 extractor: Extractor | None = None, workers: Workers | None = None) -> None:
        self.store = store
        self.tables = MemoryTables(store._db, store.user_id)
        self.embedder = embedder
        self.extractor = extractor
        self._index: VectorIndex | None = None
        self._worker: asyncio.Task[None] | None = None
        self._own_workers = workers is None
        self._workers = workers or Workers()
        self._pool = self._workers.embed
        self._searcher = self._workers.search
        self._speakers: set[str] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._model_call: asyncio.Future[list[Extracted]] | None = None
        self._dirty: set[int] = set()
        """Turns asked to be embedded again while the worker had them in hand."""
        self.corrupt_vectors = 0
        """Vectors found damaged at load; their turns are queued to be embedded again."""

    # writing ------------------------------------------------------------------------------------
    def remember(self, text: str, *, speaker: str, role: Literal["user", "assistant"] = "user",
                 at: datetime | None = None, session_id: int | None = None,
                 status: TurnStatus = "complete") -> int:
        """Store a turn verbatim (durable on return, unless it is a reply's streaming placeholder, which its
        finished text replaces durably) and index its words; vectors and items follow."""
        with self.store.transaction(durable=status != "streaming"):
            turn_id = self.store.add_turn(role, text, session_id=session_id, status=status, at=at, speaker=speaker)
            if status == "complete":
                self.index_turn(turn_id, new=True)
        if self._speakers is not None and speaker:
            self._speakers.add(speaker)
        return turn_id

    def keep(self, text: str, *, speaker: str, at: datetime | None = None, session_id: int | None = None) -> int:
        """Store an assistant turn verbatim that recall must never return (it only repeats memories)."""
        with self.store.transaction():
            turn_id = self.store.add_turn("assistant", text, session_id=session_id, at=at, speaker=speaker)
            self.tables.mark([turn_id], DONE)
        return turn_id

    def index_turn(self, turn_id: int, *, new: bool = False) -> None:
        """Put a complete turn in the full-text index, refresh its predecessor (whose context it now is),
        and queue the background work of both. `new`: the turn was inserted in this transaction, so it is not in
        the index yet (a finished reply may be: a voice's speculative reply is indexed as it goes)."""
        with self.store.transaction():
            self._index_turn(turn_id, new)
        self.kick()

    def _index_turn(self, turn_id: int, new: bool = False) -> None:
        turn = self.store.turns_by_id([turn_id]).get(turn_id)
        if turn is None:
            return
        before = self.tables.neighbour(turn_id, after=False)
        self._index_text(turn_id, turn.speaker, turn.text, before, self.tables.neighbour(turn_id, after=True),
                         new=new)
        if before is not None:
            # The predecessor's next complete turn is this one, unless this one is not complete.
            after_before = (turn_id, turn.speaker, turn.text) if turn.status == "complete" else \
                self.tables.neighbour(before[0], after=True)
            self._index_text(before[0], before[1], before[2], self.tables.neighbour(before[0], after=False),
                             after_before)
            self.tables.mark([before[0]], EMBED)
            self._dirty.add(before[0])

    def _index_text(self, turn_id: int, speaker: str, text: str, before: tuple[int, str, str] | None,
                    after: tuple[int, str, str] | None, *, new: bool = False) -> None:
        """Index one turn with its neighbours, given as (id, speaker, text) rows."""
        document = ranking.document(speaker, text, before[1:] if before else None, after[1:] if after else None)
        self.tables.index(turn_doc(turn_id), document, new=new)

    def _neighbours(self, turn_id: int) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """(speaker, text) of the turns around this one in its session."""
        found = [self.tables.neighbour(turn_id, after=after) for after in (False, True)]
        before, after = ((n[1], n[2]) if n else None for n in found)
        return before, after

    def kick(self) -> None:
        """Queue the background work, unless it is running (needs a running event loop; it starts when the
        shared backlog has a free slot)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._worker is None or self._worker.done():
            self._workers.backlog.add(self, self._start)

    def _start(self) -> asyncio.Task[None]:
        worker = self._worker = asyncio.get_running_loop().create_task(self._work())
        worker.add_done_callback(self._stopped)
        return worker

    def _stopped(self, worker: asyncio.Task[None]) -> None:
        if self._worker is worker:
            self._worker = None  # a finished task holds objects; thousands of users hold thousands of them

    async def flush(self) -> None:
        """Wait until every stored turn has its vector and memory items (starting the work now, ahead of
        other users' waiting work)."""
        while True:
            worker = self._worker
            if worker is None or worker.done():
                self._workers.backlog.discard(self)
                if not self._has_work():
                    return
                worker = self._start()
            await asyncio.shield(worker)

    def _has_work(self) -> bool:
        return bool(self.tables.pending_turns(1) or (self.embedder and self.tables.unembedded_items(1)))

    async def _work(self) -> None:
        await self._idle.wait()  # after the reply: the user's turn is then embedded once, with its reply around it
        while (pending := self.tables.pending_turns(BATCH)) or (self.embedder and self.tables.unembedded_items(1)):
            self._dirty -= set(pending)
            turns = self.store.turns_by_id(list(pending))
            await self._process([turns[i] for i in pending if i in turns], pending)
            self.tables.mark([t for t in pending if t not in self._dirty], DONE)

    async def _process(self, turns: list[Turn], states: dict[int, int]) -> None:
        """Derive items from a batch of turns, then embed the turns and the new items together."""
        docs: list[int] = []
        texts: list[str] = []
        if self.embedder is not None and not turns:
            for stored in self.tables.items(self.tables.unembedded_items(BATCH)):
                docs.append(memory_doc(stored.id))
                texts.append(stored.text)
        for turn in turns:
            docs.append(turn_doc(turn.id))
            texts.append(ranking.embedding_text(turn.speaker, turn.text, *self._neighbours(turn.id)))
            if states.get(turn.id) == EMBED:
                continue
            items = await self._extract(turn)
            if not items:
                continue
            slots = [await self._same_slot(item) for item in items]
            with self.store.transaction(durable=False):  # derived: made again from the turn if lost
                for item, same in zip(items, slots, strict=True):
                    memory_id = self.tables.add_item(item, turn.created_at, [turn.id], same_slot=same)
                    if memory_id is not None:
                        self.tables.index(memory_doc(memory_id), ranking.item_document(item.subject, item.text))
                        docs.append(memory_doc(memory_id))
                        texts.append(item.text)
                        if item.kind == "vocabulary":
                            self.tables.add_term(item.subject, item.value)
        if self.embedder is None or not docs:
            return
        embedder = self.embedder
        vectors = await asyncio.get_running_loop().run_in_executor(self._pool, self._workers.backlog.paced,
                                                                   embedder.embed, texts)
        index = self._vectors()
        with self.store.transaction(durable=False):
            for doc, vector in zip(docs, vectors, strict=True):
                self.tables.save_vector(doc, vector)
        if index is not None:
            for doc, vector in zip(docs, vectors, strict=True):
                index.add(("doc", doc), vector)

    async def _same_slot(self, item: Extracted) -> list[int]:
        """The subject's current facts whose attribute is the new fact's under another name ("favorite movie" for
        "favourite film"): by the rules, else by the embedder (`facts.SAME_SLOT_COSINE`)."""
        if item.kind != "fact" or not item.attribute:
            return []
        others = [f for f in self.tables.current_facts(item.subject) if f.attribute != item.attribute]
        same = [f.id for f in others if facts.same_slot(f.attribute, item.attribute)]
        rest = [f for f in others if f.id not in same]
        if rest and self.embedder is not None:
            names = [item.attribute, *(f.attribute for f in rest)]
            vectors = await asyncio.get_running_loop().run_in_executor(self._pool, self._workers.backlog.paced,
                                                                       self.embedder.embed, names)
            same += [f.id for f, v in zip(rest, vectors[1:], strict=True)
                     if float(v @ vectors[0]) >= facts.SAME_SLOT_COSINE]
        return same

    async def _extract(self, turn: Turn) -> list[Extracted]:
        if not turn.speaker or not turn.text.strip() or turn.role != "user":
            return []
        items = extract(turn.text, turn.speaker, turn.created_at)
        if self.extractor is not None:
            items += await self._model_items(self.extractor, turn)
        return items

    async def _model_items(self, extractor: Extractor, turn: Turn) -> list[Extracted]:
        """The extractor's items, asked only while no reply is being generated; a reply that starts
        meanwhile pre-empts the call, which is made again once the reply is over."""
        while True:
            await self._idle.wait()
            self._model_call = asyncio.ensure_future(extractor(turn))
            try:
                return await self._model_call
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the worker itself is being stopped
            finally:
                self._model_call = None

    @contextlib.asynccontextmanager
    async def replying(self) -> AsyncIterator[None]:
        """Hold background model calls while the companion replies (they share the model, and a local server
        serves one request at a time or drops the older one)."""
        self._idle.clear()
        self._workers.backlog.replying += 1
        if self._model_call is not None:
            self._model_call.cancel()
        try:
            yield
        finally:
            self._workers.backlog.replying -= 1
            self._idle.set()

    def _vectors(self) -> VectorIndex | None:
        """The in-memory vector index, loaded from the database on first use; damaged vectors are redone."""
        if self.embedder is None:
            return None
        if self._index is None:
            import numpy

            index = VectorIndex(self.embedder.dim)
            bad: list[int] = []
            for doc, raw in self.tables.vectors():
                if len(raw) != self.embedder.dim * 4:
                    bad.append(doc)
                    continue
                vector = numpy.frombuffer(raw, dtype="<f4")
                if not numpy.isfinite(vector).all():
                    bad.append(doc)
                    continue
                index.add(("doc", doc), vector)
            if bad:
                self.corrupt_vectors += len(bad)
                self.tables.drop_vectors(bad)
                self.tables.mark([d // 2 for d in bad if d % 2 == 0], EMBED)
            self._index = index
        return self._index

    def drop_from_index(self, docs: list[int]) -> None:
        """Forget what is held in memory of deleted rows: their vectors, and the speakers seen."""
        if self._index is not None:
            self._index.remove({("doc", d) for d in docs})
        self._speakers = None

    # reading ------------------------------------------------------------------------------------
    async def recall(self, query: str, *, k: int = 10, at: datetime | None = None,
                     distinct: bool = True) -> list[Recollection]:
        """The `k` memories most worth having in mind for `query`, best first.

        `distinct` skips a result whose turns are all behind better ones (an item and the turn it came from).
        """
        when = at or now()
        plan = ranking.read_query(query, when, self.speakers())
        if plan.anchor is not None and plan.span is None and plan.dates is None:
            plan = ranking.anchored(plan, self._anchor_date(plan.anchor.event))
        index = self._vectors()
        # The full-text search and the query's embedding run on threads (both release the GIL) while the event
        # loop serves other sessions; the connection is shared, and SQLite serialises its use. Queries of users
        # talking at the same moment are embedded together.
        text_job = self._searcher.submit(self._text_hits, plan.words) if plan.words else None
        hits = None
        if index is not None and len(index) and self.embedder is not None:
            job = self._workers.queries.submit(self.embedder, plan.dense_query or query)
            hits = index.search(await asyncio.wrap_future(job), ranking.CANDIDATES)
        text_hits = await asyncio.wrap_future(text_job) if text_job is not None else {}
        cosines = {key[1]: score for key, score in hits.top.items()} if hits else {}
        days = ranking.days_asked(plan)
        dated = self.tables.happening(*days, ranking.CANDIDATES) if days else []
        for doc in [*text_hits, *dated]:
            if hits is not None and doc not in cosines and (score := hits.score(("doc", doc))) is not None:
                cosines[doc] = score
        candidates = self._load(set(text_hits) | set(cosines) | set(dated))
        best = ranking.rank(plan, text_hits, cosines, candidates, when, k, distinct=distinct)
        return [self._recollection(candidates[doc], score) for doc, score in best]

    def _text_hits(self, words: list[str]) -> dict[int, float]:
        """Full-text relevance of the best documents for the query's words (rare words only, in a big store)."""
        newest = False
        if self.tables.document_count() < ranking.PRUNE_FROM and len(words) <= textproc.MAX_QUERY_TERMS:
            kept = list(words)  # what prune_common keeps in a small store, without counting each word's documents
        else:
            frequencies, total = self.tables.document_frequencies(words)
            ratio = textproc.MAX_DOC_RATIO if total >= ranking.PRUNE_FROM else 1.0
            kept = textproc.prune_common(words, frequencies, total, ratio)
            newest = textproc.postings(kept, frequencies) > textproc.MAX_POSTINGS
        match = textproc.fts_query(kept)
        return self.tables.text_search(match, ranking.CANDIDATES, newest=newest) if match else {}

    def _anchor_date(self, event: str) -> datetime | None:
        """When the event a query is anchored to ("before the move") happened: the date of the turn or item
        that best matches its words."""
        match = textproc.fts_query(textproc.keywords(event))
        hits = self.tables.text_search(match, 1) if match else {}
        found = self._load(set(hits))
        return next(iter(found.values())).at if found else None

    def _load(self, docs: set[int]) -> dict[int, ranking.Candidate]:
        """What the ranking needs to know of each candidate document."""
        turns = self.store.turns_by_id([d // 2 for d in docs if d % 2 == 0])
        items = {i.id: i for i in self.tables.items([d // 2 for d in docs if d % 2 == 1])}
        out: dict[int, ranking.Candidate] = {}
        stale = self.tables.superseded(list(turns))
        for turn in turns.values():
            out[turn_doc(turn.id)] = ranking.Candidate(turn_doc(turn.id), "turn", turn.text, turn.speaker,
                                                       turn.created_at, stale.get(turn.id), 0.5, (turn.id,),
                                                       own=turn.role == "assistant")
        for item in items.values():
            happens = iso_span(item.value) if item.kind in ("event", "plan") else None
            out[memory_doc(item.id)] = ranking.Candidate(memory_doc(item.id), item.kind, item.text, item.subject,
                                                         item.valid_from, item.valid_until, item.importance,
                                                         item.turn_ids, happens)
        return out

    @staticmethod
    def _recollection(candidate: ranking.Candidate, score: float) -> Recollection:
        return Recollection(candidate.kind, candidate.text, candidate.at, candidate.turn_ids, score,
                            candidate.speaker if candidate.kind == "turn" else "", candidate.valid_until, candidate.own)

    def speakers(self) -> list[str]:
        """Names of the people in this user's conversations (read once, then kept up to date)."""
        if self._speakers is None:
            rows = self.store._db.execute("SELECT DISTINCT speaker FROM turns WHERE user_id = ? AND speaker != ''",
                                          (self.store.user_id,)).fetchall()
            self._speakers = {str(r[0]) for r in rows}
        return sorted(self._speakers)

    def items(self, *, kind: str | None = None, limit: int = 1000) -> list[Item]:
        """The newest memory items, for `os1 memory show`."""
        return self.tables.items(kind=kind, limit=limit)

    def edit_item(self, memory_id: int, text: str) -> Item | None:
        """Give an item new words (the user corrected it): it is indexed again, its old vector is dropped and a
        new one made in the background, and the index keeps no trace of the old words. None when the user has
        no such item."""
        if not self.tables.set_item_text(memory_id, text):
            return None
        item = self.tables.items([memory_id])[0]
        doc = memory_doc(memory_id)
        self.tables.index(doc, ranking.item_document(item.subject, text))
        self.tables.drop_vectors([doc])
        self.drop_from_index([doc])
        self.tables.compact()
        self.kick()
        return item

    # personal vocabulary -------------------------------------------------------------------------
    def vocabulary(self) -> dict[str, str]:
        """Terms the user taught, with what they mean."""
        return self.tables.terms()

    def teach(self, term: str, meaning: str) -> None:
        """Add a term to the personal vocabulary."""
        self.tables.add_term(term.strip(), meaning.strip())

    def read(self, text: str, terms: Mapping[str, str] | None = None) -> str:
        """The user's words with their own terms written their way ("leaving peak" → "leaving Peak").
        `terms`: the vocabulary, when the caller has just read it."""
        for term in sorted(self.tables.terms() if terms is None else terms, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", term, text, flags=re.IGNORECASE)
        return text

    def close(self) -> None:
        """Stop the background work (and its threads, unless they are shared)."""
        self._workers.backlog.discard(self)
        if self._worker is not None:
            self._worker.cancel()
        if self._own_workers:
            self._workers.close()
