"""How well the embedded router sends utterances to OS1's skills, or to conversation.

    python benchmarks/skills_router.py [TSV] [--folds K] [--errors N]

TSV is in HWU64's format, `text<TAB>scenario<TAB>intent` (default: $OS1_SHARED_DATA/intents/train.tsv, else
../shared/data/intents/train.tsv). Each intent is mapped once, in the package (`os1/skills/intent_map.py`), to a
skill family, to conversation, or left out (a skill OS1 does not have yet; counted). The router is the one
`os1 chat` uses (`installed_router`): the skills' patterns, then the shipped classifier. If the TSV is the one
that classifier was trained on, the figures are in-sample and it says so; `--folds K` then gives the honest
figure: the classifier is trained again on K-1 parts of the TSV and scored on the part it did not see, K times.

Prints per-family precision and recall, the accuracy of "which skill, or conversation", macro-F1 over the
skills the data asks for (conversation excluded) and ms per utterance; `--errors N` prints N misrouted
utterances per family.
Last line: {"router_accuracy", "skills_macro_f1", "ms_per_utterance", "scored", "left_out"}.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

from _machine import machine
from os1.skills.classifier import Classifier
from os1.skills.executor import installed_router, installed_skills
from os1.skills.intent_map import CONVERSATION, SKILL_OF_INTENT, family, training_examples
from os1.skills.router import Router


def default_tsv() -> Path:
    shared = os.environ.get("OS1_SHARED_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    return Path(shared) / "intents" / "train.tsv"


def read(path: Path) -> list[tuple[str, str]]:
    """(text, "scenario/intent") per line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise SystemExit(f"{path}:{number}: expected text<TAB>scenario<TAB>intent")
        rows.append((parts[0], f"{parts[1]}/{parts[2]}"))
    return rows


def route(router: Router, texts: list[str]) -> tuple[list[str], float]:
    """Each text's family, and ms per text."""
    started = time.perf_counter()
    found = [router.match(text) for text in texts]
    ms = (time.perf_counter() - started) * 1000 / max(1, len(texts))
    return [family(m.skill.name if m else None) for m in found], ms


def cross_validated(rows: list[tuple[str, str]], folds: int) -> tuple[list[tuple[str, str]], list[str], float]:
    """Scored (text, family) and predictions, each by a classifier that never saw the text."""
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    scored: list[tuple[str, str]] = []
    predicted: list[str] = []
    times = []
    skills = installed_skills()
    for fold in range(folds):
        held = {i for n, i in enumerate(order) if n % folds == fold}
        model = Classifier.train(training_examples(row for i, row in enumerate(rows) if i not in held))
        part = [(text, SKILL_OF_INTENT[intent]) for i, (text, intent) in enumerate(rows)
                if i in held and intent in SKILL_OF_INTENT]
        got, ms = route(Router(skills, model), [text for text, _ in part])
        scored += part
        predicted += got
        times.append(ms)
    return scored, predicted, sum(times) / len(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="?", type=Path, default=default_tsv())
    parser.add_argument("--errors", type=int, default=0, help="print this many misrouted utterances per family")
    parser.add_argument("--folds", type=int, default=0, help="cross-validate the classifier over K parts")
    args = parser.parse_args()
    if not args.tsv.is_file():
        print(f"No data at {args.tsv}: give a TSV path or set OS1_SHARED_DATA.", file=sys.stderr)
        return 2
    rows = read(args.tsv)
    left_out = collections.Counter(intent for _, intent in rows if intent not in SKILL_OF_INTENT)
    router = installed_router()
    in_sample = router.classifier is not None and router.classifier.source == hashlib.sha256(
        args.tsv.read_bytes()).hexdigest()
    if args.folds > 1:
        scored, predicted, ms = cross_validated(rows, args.folds)
        how = f"{args.folds}-fold cross-validation: the classifier never saw the utterance it routes"
    else:
        scored = [(text, SKILL_OF_INTENT[intent]) for text, intent in rows if intent in SKILL_OF_INTENT]
        predicted, ms = route(router, [text for text, _ in scored])
        how = ("IN-SAMPLE: the shipped classifier was trained on this file; use --folds 10 for a fair figure"
               if in_sample else "the shipped router (patterns, then the classifier)")
    families = sorted({want for _, want in scored} | set(predicted))
    print(f"machine: {machine()}")
    print(f"scoring: {how}")
    print(f"data: {args.tsv} ({len(rows)} utterances; {len(scored)} scored, {sum(left_out.values())} left out "
          f"in {len(left_out)} intents without a skill yet)")
    print(f"{'family':<14} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}")
    f1s = []
    for name in families:
        tp = sum(1 for (_, want), got in zip(scored, predicted, strict=True) if want == name and got == name)
        support = sum(1 for _, want in scored if want == name)
        chosen = sum(1 for got in predicted if got == name)
        precision = tp / chosen if chosen else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if name != CONVERSATION and support:  # a skill the data never asks for is only others' mistakes
            f1s.append(f1)
        print(f"{name:<14} {support:>7} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f}")
        if args.errors:
            wrong = [(text, got) for (text, want), got in zip(scored, predicted, strict=True)
                     if want == name and got != name]
            for text, got in wrong[:args.errors]:
                print(f"    missed -> {got}: {text}")
    accuracy = sum(1 for (_, want), got in zip(scored, predicted, strict=True) if want == got) / max(1, len(scored))
    macro = sum(f1s) / len(f1s) if f1s else 0.0
    print(f"router accuracy {accuracy:.3f}, skills macro-F1 {macro:.3f}, {ms:.3f} ms per utterance")
    print(json.dumps({"router_accuracy": round(accuracy, 4), "skills_macro_f1": round(macro, 4),
                      "ms_per_utterance": round(ms, 4), "scored": len(scored), "left_out": sum(left_out.values()),
                      "folds": args.folds if args.folds > 1 else 0, "in_sample": in_sample and args.folds <= 1}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
