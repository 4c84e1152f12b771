"""A small learnt intent classifier: logistic regression over a line's words and word pairs. Pure.

It backs the pattern router (`skills/router.py`) for lines no pattern reads ("can you tell me what the items on
my grocery list are"): it names the skill most likely meant, with a probability. It is trained offline
(`benchmarks/train_router.py`) on labelled utterances, every label not a skill's name being "other", and
ships as package data (`router_model.json`); nothing is learnt at run time. A word it never saw weighs
nothing, so a line of unfamiliar talk falls back on the labels' biases, which favour "other" (naive Bayes,
tried first, did the opposite: "the time I spent with him was precious" was 99.8 % the date and time).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from os1.skills.words import normalise

OTHER = "other"
MODEL_FILE = Path(__file__).with_name("router_model.json")


def features(text: str) -> list[str]:
    """A line's words and neighbouring word pairs."""
    words = normalise(text).split()
    return words + [f"{a} {b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {label: math.exp(value - top) for label, value in scores.items()}
    whole = sum(exps.values())
    return {label: value / whole for label, value in exps.items()}


@dataclass(frozen=True)
class Classifier:
    """A weight per (label, feature) and a bias per label."""

    weights: dict[str, dict[str, float]]
    bias: dict[str, float]
    source: str = ""
    """What it was trained on (a file's sha256), so a benchmark can tell it is scoring its own training data."""

    @classmethod
    def train(cls, examples: Iterable[tuple[str, str]], *, epochs: int = 12, rate: float = 0.2,
              decay: float = 1e-4, source: str = "", seed: int = 0) -> Classifier:
        """Learn from (text, label) pairs by stochastic gradient descent on the log loss (deterministic: the
        order is shuffled from `seed`)."""
        rows = [(features(text), label) for text, label in examples]
        labels = sorted({label for _, label in rows})
        weights: dict[str, dict[str, float]] = {label: {} for label in labels}
        bias = dict.fromkeys(labels, 0.0)
        shuffle = random.Random(seed).shuffle
        for epoch in range(epochs):
            shuffle(rows)
            step = rate / (1 + epoch)
            for found, label in rows:
                scores = {c: bias[c] + sum(weights[c].get(f, 0.0) for f in found) for c in labels}
                for c, p in _softmax(scores).items():
                    gradient = p - (c == label)
                    if abs(gradient) < 1e-4:
                        continue
                    row = weights[c]
                    for f in found:
                        row[f] = row.get(f, 0.0) * (1 - decay) - step * gradient
                    bias[c] -= step * gradient
        kept = {c: {f: round(w, 3) for f, w in row.items() if abs(w) >= 0.01} for c, row in weights.items()}
        return cls(kept, {c: round(b, 4) for c, b in bias.items()}, source)

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for `text`."""
        found = features(text)
        return _softmax({c: self.bias[c] + sum(row.get(f, 0.0) for f in found) for c, row in self.weights.items()})

    def best(self, text: str) -> tuple[str, float]:
        """The likeliest label and its probability."""
        probabilities = self.probabilities(text)
        label = max(probabilities, key=probabilities.__getitem__)
        return label, probabilities[label]

    def save(self, path: Path) -> None:
        """Write it as JSON (sorted, so a retrain on the same data is the same file)."""
        path.write_text(json.dumps({"source": self.source, "bias": self.bias, "weights": self.weights},
                                   sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> Classifier:
        """Read a saved classifier."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], data["bias"], data.get("source", ""))
