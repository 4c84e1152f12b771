"""Evidence recall@k of OS1's memory on LoCoMo-format conversations, through the companion's public memory API.

    .venv/bin/python benchmarks/memory_recall.py [PATH] [--limit N]

PATH is a LoCoMo-format JSON file (default: $OS1_SHARED_DATA/locomo/locomo10.json, else
../shared/data/locomo/locomo10.json). Each conversation is ingested turn by turn, session by session with the
session dates, into a fresh database through `Memory.remember`; then every question of categories 1-4 is asked
with `Memory.recall`, and recall@k is the share of its evidence turns among the turns behind the top-k results.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine, percentile
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder
from os1.memory.textproc import parse_stamp

KS = (5, 10, 25, 50)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def default_path() -> Path:
    shared = os.environ.get("OS1_SHARED_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    return Path(shared) / "locomo" / "locomo10.json"


def session_date(text: str) -> datetime:
    """LoCoMo's "1:56 pm on 8 May, 2023", in local time."""
    stamp = parse_stamp(text)
    if stamp is None:
        raise ValueError(f"not a LoCoMo session date: {text!r}")
    return stamp.astimezone()


def turn_text(turn: dict[str, object]) -> str:
    """What the companion would be told: the words, and a shared image's caption."""
    text = str(turn.get("text", ""))
    if turn.get("blip_caption"):
        text += f" [shared an image: {turn['blip_caption']}]"
    return text


def sessions(conversation: dict[str, object]) -> list[tuple[datetime, list[dict[str, object]]]]:
    keys = sorted((k for k in conversation if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k.split("_")[1]))
    return [(session_date(str(conversation[f"{k}_date_time"])), conversation[k]) for k in keys]  # type: ignore[misc]


async def run_conversation(sample: dict[str, object], embedder: MiniLMEmbedder, stats: dict[str, list[float]],
                           hits: dict[str, dict[int, list[float]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "os1.db")
        store = db.user("bench")
        memory = Memory(store, embedder=embedder)
        dia: dict[int, str] = {}
        last = datetime.now().astimezone()
        for at, turns in sessions(sample["conversation"]):  # type: ignore[arg-type]
            session = store.start_session(at)
            for turn in turns:
                t0 = time.perf_counter()
                turn_id = memory.remember(turn_text(turn), speaker=str(turn["speaker"]), at=at, session_id=session)
                stats["ingest_ms"].append((time.perf_counter() - t0) * 1000)
                dia[turn_id] = str(turn["dia_id"])
            last = at
        t0 = time.perf_counter()
        await memory.flush()
        stats["background_s"].append(time.perf_counter() - t0)
        for qa in sample["qa"]:  # type: ignore[attr-defined]
            evidence = set(qa.get("evidence") or [])
            if qa.get("category") not in CATEGORIES or not evidence:
                continue
            t0 = time.perf_counter()
            results = await memory.recall(str(qa["question"]), k=max(KS), at=last)
            stats["search_ms"].append((time.perf_counter() - t0) * 1000)
            for k in KS:
                found = {dia.get(t) for r in results[:k] for t in r.turn_ids}
                share = len(evidence & found) / len(evidence)
                hits["all"][k].append(share)
                hits[CATEGORIES[qa["category"]]][k].append(share)
        memory.close()
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=default_path())
    parser.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    args = parser.parse_args()
    data = json.loads(args.path.read_text(encoding="utf-8"))
    if args.limit:
        data = data[: args.limit]
    embedder = MiniLMEmbedder(threads=1)
    stats: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    print(f"machine: {machine()}")
    print(f"data: {args.path} ({len(data)} conversations)")
    for sample in data:
        asyncio.run(run_conversation(sample, embedder, stats, hits))
    recall = {name: {k: round(100 * statistics.mean(v), 1) for k, v in by_k.items()} for name, by_k in hits.items()}
    for name, by_k in recall.items():
        print(f"{name:12s} n={len(hits[name][10]):4d}  " + "  ".join(f"r@{k} {by_k[k]:5.1f}" for k in KS))
    print(f"ingest p50 {percentile(stats['ingest_ms'], 50):.1f} ms, p95 {percentile(stats['ingest_ms'], 95):.1f} ms; "
          f"background indexing {sum(stats['background_s']):.0f} s; "
          f"search p50 {percentile(stats['search_ms'], 50):.1f} ms, p95 {percentile(stats['search_ms'], 95):.1f} ms")
    result = {f"r@{k}": recall["all"][k] for k in KS}
    result |= {"per_category": {n: recall[n] for n in CATEGORIES.values() if n in recall},
               "search_p95_ms": round(percentile(stats["search_ms"], 95), 1),
               "ingest_p95_ms": round(percentile(stats["ingest_ms"], 95), 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
