"""Write and search latency of OS1's memory at 10k and 100k stored memories.

    .venv/bin/python benchmarks/memory_scale.py [--sizes 10000 100000] [--queries 200]

Synthetic first-person turns (templates over a few thousand names, places, things and activities) are written
through `Memory.remember` (a durable turn plus its full-text entry; timed one by one), then indexed in the
background (items and MiniLM vectors, not timed as writes), then `Memory.recall` is timed on questions of the
same vocabulary. The last line is one JSON object.
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
from _machine import machine, percentile
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder

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


async def measure(sizes: list[int], queries: int) -> dict[str, float]:
    rng = random.Random(1)
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "os1.db")
        # Two embedding threads: indexing 100k turns in the background is the slow part of this benchmark;
        # searches are timed after it has finished.
        memory = Memory(db.user("scale"), embedder=MiniLMEmbedder(threads=2))
        start = datetime(2024, 1, 1).astimezone()
        stored = 0
        for size in sizes:
            writes: list[float] = []
            t0 = time.perf_counter()
            await grow(memory, size - stored, rng, start + timedelta(minutes=7 * stored), writes)
            await memory.flush()
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
        memory.close()
        db.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(json.dumps(asyncio.run(measure(sorted(args.sizes), args.queries))))


if __name__ == "__main__":
    main()
