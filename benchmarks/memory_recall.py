"""Evidence recall@k of OS1's memory on LoCoMo-format conversations, through the companion's public memory API,
beside plain baselines on the same data.

    .venv/bin/python benchmarks/memory_recall.py [PATH] [--limit N] [--no-cache]

PATH is a LoCoMo-format JSON file (default: $OS1_SHARED_DATA/locomo/locomo10.json, else
../shared/data/locomo/locomo10.json; `benchmarks/data/assistant-life.json` is the second development set,
written by `make_devset.py` when missing). Each conversation is ingested turn by turn, session by session with
the session dates, into a fresh database through `Memory.remember` (a conversation's `assistant` speaker, if it
names one, as the OS's own turns); then every question of categories 1, 2, 3, 4 and 6 (knowledge update) is asked
with `Memory.recall`, and recall@k is the share of its evidence turns among the turns behind the top-k results.
The same questions go to two baselines over the raw turns: plain BM25, and BM25 fused by rank with MiniLM
(`_baselines.py`). Vectors are kept in a cache (`_cache.py`; the same text, the same vector), so a second run
skips the embedding; `--no-cache` times the background indexing for real. The last line is one JSON object.
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
from _baselines import RawTurns
from _cache import DEFAULT as CACHE
from _cache import CachedEmbedder
from _machine import machine, percentile
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.embeddings import Embedder, MiniLMEmbedder
from os1.memory.textproc import parse_stamp

KS = (5, 10, 25, 50)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 6: "knowledge-update"}
SYSTEMS = ("OS1", "BM25", "BM25+MiniLM")
"""What is scored: OS1's recall, plain BM25 over the raw turns, and BM25 fused by rank with MiniLM."""
Hits = dict[str, dict[str, dict[int, list[float]]]]


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
    """The sessions in order, each with its date."""
    keys = sorted((k for k in conversation if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k.split("_")[1]))
    return [(session_date(str(conversation[f"{k}_date_time"])), conversation[k]) for k in keys]  # type: ignore[misc]


async def run_conversation(sample: dict[str, object], embedder: Embedder, stats: dict[str, list[float]],
                           hits: Hits, dump: list[dict[str, object]] | None = None) -> None:
    conversation: dict[str, object] = sample["conversation"]  # type: ignore[assignment]
    assistant = conversation.get("assistant")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "os1.db")
        store = db.user("bench")
        memory = Memory(store, embedder=embedder)
        dia: dict[int, str] = {}
        raw: list[tuple[str, str]] = []
        last = datetime.now().astimezone()
        for at, turns in sessions(conversation):
            session = store.start_session(at)
            for turn in turns:
                role = "assistant" if turn["speaker"] == assistant else "user"
                t0 = time.perf_counter()
                turn_id = memory.remember(turn_text(turn), speaker=str(turn["speaker"]), role=role, at=at,
                                          session_id=session)
                stats["ingest_ms"].append((time.perf_counter() - t0) * 1000)
                dia[turn_id] = str(turn["dia_id"])
                raw.append((str(turn["dia_id"]), turn_text(turn)))
            last = at
        t0 = time.perf_counter()
        await memory.flush()
        stats["background_s"].append(time.perf_counter() - t0)
        memory.embedder = getattr(embedder, "inner", embedder)  # searches embed their query for real
        baseline = RawTurns([text for _, text in raw], [key for key, _ in raw], embedder)
        for qa in sample["qa"]:  # type: ignore[attr-defined]
            evidence = set(qa.get("evidence") or [])
            if qa.get("category") not in CATEGORIES or not evidence:
                continue
            t0 = time.perf_counter()
            results = await memory.recall(str(qa["question"]), k=max(KS), at=last)
            stats["search_ms"].append((time.perf_counter() - t0) * 1000)
            ranked = {"OS1": [[dia.get(t) for t in r.turn_ids] for r in results],
                      "BM25": [[key] for key in baseline.bm25(str(qa["question"]))],
                      "BM25+MiniLM": [[key] for key in baseline.fused(str(qa["question"]))]}
            if dump is not None:
                dump.append({"sample": sample.get("sample_id"), "question": qa["question"], "category": qa["category"],
                             "evidence": sorted(evidence), "OS1": ranked["OS1"][:10], "BM25": ranked["BM25"][:10]})
            for system, found_lists in ranked.items():
                for k in KS:
                    found = {d for found_list in found_lists[:k] for d in found_list}
                    share = len(evidence & found) / len(evidence)
                    hits[system]["all"][k].append(share)
                    hits[system][CATEGORIES[qa["category"]]][k].append(share)
        baseline.close()
        memory.close()
        db.close()


def load(path: Path) -> list[dict[str, object]]:
    """The data set; the second development set is written first when it is missing."""
    if not path.exists() and path.name == "assistant-life.json":
        from make_devset import DEFAULT_OUT, make

        if path.resolve() == DEFAULT_OUT.resolve():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(make(1, 8, 36), ensure_ascii=False, indent=1), encoding="utf-8")
    data: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def figures(by_name: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, float]]:
    return {name: {k: round(100 * statistics.mean(v), 1) for k, v in by_k.items()} for name, by_k in by_name.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=default_path())
    parser.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    parser.add_argument("--no-cache", action="store_true", help="embed everything afresh (and time it)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"the vector cache (default {CACHE})")
    parser.add_argument("--dump", type=Path, help="write each question's top 10 (dia ids) to this JSON file")
    args = parser.parse_args()
    data = load(args.path)
    if args.limit:
        data = data[: args.limit]
    embedder: Embedder = MiniLMEmbedder(threads=1)
    if not args.no_cache:
        embedder = CachedEmbedder(embedder, args.cache)
    stats: dict[str, list[float]] = defaultdict(list)
    hits: Hits = {system: defaultdict(lambda: defaultdict(list)) for system in SYSTEMS}
    print(f"machine: {machine()}")
    print(f"data: {args.path} ({len(data)} conversations)")
    dump: list[dict[str, object]] | None = [] if args.dump else None
    for sample in data:
        asyncio.run(run_conversation(sample, embedder, stats, hits, dump))
    if args.dump:
        args.dump.write_text(json.dumps(dump, indent=1), encoding="utf-8")
    recall = {system: figures(hits[system]) for system in SYSTEMS}
    for system in SYSTEMS:
        print(system)
        for name, by_k in recall[system].items():
            print(f"  {name:16s} n={len(hits[system][name][10]):4d}  " + "  ".join(f"r@{k} {by_k[k]:5.1f}" for k in KS))
    cached = f" (vectors from the cache: {embedder.hits} hits, {embedder.misses} embedded)" \
        if isinstance(embedder, CachedEmbedder) else ""
    print(f"ingest p50 {percentile(stats['ingest_ms'], 50):.1f} ms, p95 {percentile(stats['ingest_ms'], 95):.1f} ms; "
          f"background indexing {sum(stats['background_s']):.0f} s{cached}; "
          f"search p50 {percentile(stats['search_ms'], 50):.1f} ms, p95 {percentile(stats['search_ms'], 95):.1f} ms")
    result: dict[str, object] = {f"r@{k}": recall["OS1"]["all"][k] for k in KS}
    result |= {"per_category": {n: recall["OS1"][n] for n in CATEGORIES.values() if n in recall["OS1"]},
               "search_p95_ms": round(percentile(stats["search_ms"], 95), 1),
               "ingest_p95_ms": round(percentile(stats["ingest_ms"], 95), 1),
               "baselines": {system: {f"r@{k}": recall[system]["all"][k] for k in KS} for system in SYSTEMS[1:]}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
