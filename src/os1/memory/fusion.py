"""Pure scoring for memory search: fuse lexical, dense, speaker, time and recency signals; de-duplicate by turn.

The formula (all weights in :class:`Weights`, each documented there)::

    score = sum_t lexical[t] * bm25_t / max_candidates(bm25_t)      # each FTS table's score scaled to [0, 1]
          + dense * cosine                                          # MiniLM cosine, in [-1, 1]
          + speaker * [the question names the candidate's speaker]
          + time * [the candidate's date falls in the date span the question names]
          + recency * 0.5 ** (age_days / recency_half_life_days)
          + importance * importance
          + superseded * [a fact that has since changed] + own_words * [the OS's own words]

Scaling BM25 by the best candidate's score makes it comparable across queries and store sizes (raw BM25 grows
with query length and IDF); cosine is left raw because MiniLM cosines already live on one scale, and a weak best
cosine should stay weak. The boosts are additive so that they reorder near-equals but rarely lift an unrelated
turn above a real match: a speaker or time boost of 0.7 is worth a bit less than a perfect lexical match
(1.0) or a cosine gain of 0.28.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Signals:
    """What the store measured about one candidate (a turn or a derived memory) for one query."""

    key: Hashable
    """The memory's id in the store."""
    sources: tuple[Hashable, ...]
    """The turn ids it stands for: a turn lists itself, a derived item its (at most a few) source turns."""
    bm25: Mapping[str, float] = field(default_factory=dict)
    """Relevance per FTS table, as ``-bm25()`` (higher is better, >= 0); a table that did not match is absent."""
    cosine: float | None = None
    """Dense cosine between the query and the memory's vector; None when it has no vector."""
    speaker_match: bool = False
    """The question mentions the name of whoever said this turn."""
    time_match: bool = False
    """The memory's date lies in the date span the question names (see :func:`in_time_range`)."""
    age_days: float | None = None
    """Days between the memory and now (for an optional recency prior)."""
    importance: float | None = None
    """A 0..1 importance the store assigned (for an optional importance prior)."""
    superseded: bool = False
    """A fact that has since changed, or a turn whose facts all have."""
    own_words: bool = False
    """The OS's own words (its replies): kept, but never worth as much as what the user said."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Every weight of the fusion formula; defaults are the LoCoMo-tuned recipe (flat optimum, tune/holdout agree)."""

    lexical: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({"turns": 1.0}))
    """Weight per FTS table of its max-normalised BM25 (1.0 for the turn table: the unit of the scale)."""
    dense: float = 2.5
    """Weight of the raw cosine; 1.5-3.5 stays within 0.7 points r@10; 0 (no dense) costs ~8 points."""
    speaker: float = 0.7
    """Bonus when the question names the candidate's speaker; 0.4-1.0 within 0.9 points, 0 costs ~4.7 points."""
    time: float = 0.7
    """Bonus when the candidate's date is inside the date span the question names; 0.4-1.0 within 0.3 points,
    0 costs ~1.6 points (only ~12% of questions name a date)."""
    recency: float = 0.0
    """Weight of the recency prior ``0.5 ** (age / half_life)``; off by default (no effect on recall measured)."""
    recency_half_life_days: float = 30.0
    """Half-life of the recency prior, in days."""
    importance: float = 0.0
    """Weight of the store's 0..1 importance; off by default (LoCoMo has no importance to measure it by)."""
    superseded: float = 0.0
    """Added to a superseded candidate: negative to prefer what is true now, positive when asked about the past."""
    own_words: float = 0.0
    """Added to the OS's own words (negative: below what the user said)."""


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Ranked:
    """One fused result: the memory, its score, and the turns it stands for."""

    key: Hashable
    score: float
    sources: tuple[Hashable, ...]


def in_time_range(at: date, span: tuple[date, date] | None, *, after_days: int = 7) -> bool:
    """Whether ``at`` lies in ``span``, extended ``after_days`` past its end (people report events late)."""
    if span is None:
        return False
    lo, hi = span
    return lo <= at <= hi + timedelta(days=after_days)


def score(c: Signals, scale: Mapping[str, float], weights: Weights = DEFAULT_WEIGHTS) -> float:
    """The fused score of one candidate, given each FTS table's best score among the candidates (``scale``)."""
    s = 0.0
    for table, value in c.bm25.items():
        top = scale.get(table, 0.0)
        if top > 0.0 and value > 0.0:
            s += weights.lexical.get(table, 0.0) * value / top
    if c.cosine is not None:
        s += weights.dense * c.cosine
    if c.speaker_match:
        s += weights.speaker
    if c.time_match:
        s += weights.time
    if weights.recency and c.age_days is not None and weights.recency_half_life_days > 0:
        s += weights.recency * 0.5 ** (max(c.age_days, 0.0) / weights.recency_half_life_days)
    if weights.importance and c.importance is not None:
        s += weights.importance * min(max(c.importance, 0.0), 1.0)
    if c.superseded:
        s += weights.superseded
    if c.own_words:
        s += weights.own_words
    return s


def lexical_scale(candidates: Iterable[Signals]) -> dict[str, float]:
    """The best BM25 relevance per FTS table among the candidates (the divisor of the lexical term)."""
    top: dict[str, float] = {}
    for c in candidates:
        for table, value in c.bm25.items():
            if value > top.get(table, 0.0):
                top[table] = value
    return top


def fuse(candidates: Sequence[Signals], weights: Weights = DEFAULT_WEIGHTS) -> list[Ranked]:
    """All candidates ranked by fused score, best first (ties keep the input order)."""
    scale = lexical_scale(candidates)
    scored = [Ranked(c.key, score(c, scale, weights), c.sources) for c in candidates]
    return sorted(scored, key=lambda r: -r.score)


def dedupe(ranked: Iterable[Ranked], limit: int | None = None) -> list[Ranked]:
    """Keep results in order but drop any whose turns were already returned, so no turn comes back twice."""
    seen: set[Hashable] = set()
    out: list[Ranked] = []
    for r in ranked:
        if limit is not None and len(out) >= limit:
            break
        srcs = r.sources or (r.key,)
        if any(s in seen for s in srcs):
            continue
        seen.update(srcs)
        out.append(r)
    return out


def search_order(candidates: Sequence[Signals], limit: int, weights: Weights = DEFAULT_WEIGHTS) -> list[Ranked]:
    """Fuse, then de-duplicate by source turn, then cut to ``limit`` results."""
    return dedupe(fuse(candidates, weights), limit)
