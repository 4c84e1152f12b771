"""Write and search latency of OS1's memory at 10k and 100k stored memories.

    .venv/bin/python benchmarks/memory_scale.py [--sizes 10000 100000] [--queries 200] [--no-cache]

Synthetic first-person turns (templates over a few thousand names, places, things and activities) are written
through `Memory.remember` (a durable turn plus its full-text entry; timed one by one), then indexed in the
background (items and MiniLM vectors, not timed as writes), then `Memory.recall` is timed on questions of the
same vocabulary. Then each stage of a search is timed on its own, one after the other (a real search runs the
full-text query and the query's embedding at once, on two threads): reading the query, embedding it, the vector
search, the full-text search, loading the candidates and ranking them; and the vector search's 100 nearest are
compared with an exact scan of every vector. Vectors come from the benchmarks' cache (`_cache.py`) unless
`--no-cache`. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _cache import CachedEmbedder
from _machine import machine, percentile
from os1.memory import Database, ranking
from os1.memory.api import Memory
from os1.memory.embeddings import Embedder, MiniLMEmbedder

NAMES = ["Amy", "Paul", "Catherine", "Charles", "Olivia", "Lewman", "Isabella", "Mark", "Rosa", "Ken", "Priya",
         "Tomás", "Aiko", "Jonas", "Leila", "Ravi", "Noor", "Elena", "Sam", "Hugo"]
PLACES = ["Los Angeles", "Seattle", "the beach", "the gym", "Peak", "the office", "Lisbon", "the park", "Kyoto",
          "the library", "the lake", "my mother's house", "the market", "the museum", "Berlin", "the mountains"]
THINGS = ["a letter", "the divorce papers", "a video game", "a birthday cake", "new shoes", "a guitar", "a novel",
          "coffee", "a painting", "the piano", "a bicycle", "photos", "a plant", "tickets", "a sweater"]
ACTIVITIES = ["hiking", "pottery", "swimming", "writing", "painting", "running", "cooking", "reading", "dancing",
              "singing", "climbing", "chess", "gardening", "yoga", "surfing"]
TEMPLATES = [
    "I went to {place} with {name} and we talked about {thing}.",
    "{name} gave me {thing} at {place}, I was so surprised.",
    "I've been thinking about {activity} a lot since {name} mentioned it.",
    "My friend {name} loves {activity}.",
    "We spent the afternoon {activity} near {place}.",
    "I can't stop thinking about {thing} that {name} left at {place}.",
    "Tomorrow I'm going to {place} to buy {thing}.",
    "I felt lonely at {place} today, even with {name} around.",
]
QUESTIONS = ["What did {name} give me?", "When did I go to {place}?", "Who loves {activity}?",
             "What do I know about {thing}?", "Where did I go with {name}?", "what happened at {place} last week"]


def sentence(rng: random.Random, pool: list[str]) -> str:
    fill = {"name": rng.choice(NAMES), "place": rng.choice(PLACES), "thing": rng.choice(THINGS),
            "activity": rng.choice(ACTIVITIES)}
    return rng.choice(pool).format(**fill) + f" ({rng.randrange(10**6)})"


async def grow(memory: Memory, count: int, rng: random.Random, start: datetime, writes: list[float]) -> None:
    for i in range(count):
        text = sentence(rng, TEMPLATES)
        t0 = time.perf_counter()
        memory.remember(text, speaker="Theodore", at=start + timedelta(minutes=7 * i))
        writes.append((time.perf_counter() - t0) * 1000)
        if i % 2000 == 1999:
            await memory.flush()


def stages(memory: Memory, questions: list[str], when: datetime) -> dict[str, list[float]]:
    """Each stage of a search timed on its own (ms), and the vector search's agreement with an exact scan."""
    import numpy

    index = memory._vectors()
    assert index is not None and memory.embedder is not None
    times: dict[str, list[float]] = {s: [] for s in ("read", "embed", "vectors", "full-text", "load", "rank")}
    agreement: list[float] = []
    for question in questions:
        t0 = time.perf_counter()
        plan = ranking.read_query(question, when, memory.speakers())
        t1 = time.perf_counter()
        vector = memory.embedder.embed([plan.dense_query or question])[0]
        t2 = time.perf_counter()
        hits = index.search(vector, ranking.CANDIDATES)
        t3 = time.perf_counter()
        text_hits = memory._text_hits(plan.words) if plan.words else {}
        t4 = time.perf_counter()
        cosines = {key[1]: score for key, score in hits.top.items()}
        for doc in text_hits:
            if doc not in cosines and (score := hits.score(("doc", doc))) is not None:
                cosines[doc] = score
        candidates = memory._load(set(text_hits) | set(cosines))
        t5 = time.perf_counter()
        ranking.rank(plan, text_hits, cosines, candidates, when, 10)
        t6 = time.perf_counter()
        for stage, (a, b) in zip(times, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6)), strict=True):
            times[stage].append((b - a) * 1000)
        n = len(index)
        exact = numpy.argsort(-(index._matrix[:n] @ vector))[: ranking.CANDIDATES]
        agreement.append(len({index._keys[int(i)] for i in exact} & set(hits.top)) / len(exact))
    return times | {"agreement": agreement}


async def measure(sizes: list[int], queries: int, embedder: Embedder) -> dict[str, float]:
    rng = random.Random(1)
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "os1.db")
        memory = Memory(db.user("scale"), embedder=embedder)
        start = datetime(2024, 1, 1).astimezone()
        stored = 0
        for size in sizes:
            writes: list[float] = []
            t0 = time.perf_counter()
            memory.embedder = embedder
            await grow(memory, size - stored, rng, start + timedelta(minutes=7 * stored), writes)
            await memory.flush()
            memory.embedder = getattr(embedder, "inner", embedder)  # searches embed their query for real
            stored = size
            print(f"{size:>7} turns stored and indexed in {time.perf_counter() - t0:.0f} s "
                  f"({memory.store.count_turns()} turns, {len(memory.tables.vectors())} vectors)")
            searches = []
            for _ in range(queries):
                question = sentence(rng, QUESTIONS).rsplit(" (", 1)[0]
                t1 = time.perf_counter()
                await memory.recall(question, k=10, at=start + timedelta(minutes=7 * size))
                searches.append((time.perf_counter() - t1) * 1000)
            label = f"{size // 1000}k"
            result |= {f"write_p50_ms_{label}": round(percentile(writes, 50), 2),
                       f"write_p95_ms_{label}": round(percentile(writes, 95), 2),
                       f"search_p50_ms_{label}": round(percentile(searches, 50), 2),
                       f"search_p95_ms_{label}": round(percentile(searches, 95), 2)}
            print(f"{label}: write p50 {result[f'write_p50_ms_{label}']} ms, p95 {result[f'write_p95_ms_{label}']} ms;"
                  f" search p50 {result[f'search_p50_ms_{label}']} ms, p95 {result[f'search_p95_ms_{label}']} ms")
            questions = [sentence(rng, QUESTIONS).rsplit(" (", 1)[0] for _ in range(queries)]
            parts = stages(memory, questions, start + timedelta(minutes=7 * size))
            agreement = parts.pop("agreement")
            print(f"{label} stages, one at a time (p50 / p95 ms): " + ", ".join(
                f"{stage} {percentile(v, 50):.2f} / {percentile(v, 95):.2f}" for stage, v in parts.items()))
            print(f"{label}: the vector search's {ranking.CANDIDATES} nearest hold "
                  f"{100 * sum(agreement) / len(agreement):.1f}% of an exact scan's (worst query "
                  f"{100 * min(agreement):.0f}%)")
            result |= {f"{stage}_p50_ms_{label}": round(percentile(v, 50), 2) for stage, v in parts.items()}
            result[f"vector_agreement_{label}"] = round(sum(agreement) / len(agreement), 4)
        memory.close()
        db.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    args = parser.parse_args()
    # Two embedding threads: indexing 100k turns in the background is the slow part of this benchmark; searches
    # are timed after it has finished (their query embedding uses them too, as a loaded server's would not).
    embedder: Embedder = MiniLMEmbedder(threads=2)
    if not args.no_cache:
        embedder = CachedEmbedder(embedder)
    print(f"machine: {machine()}")
    print(json.dumps(asyncio.run(measure(sorted(args.sizes), args.queries, embedder))))


if __name__ == "__main__":
    main()
