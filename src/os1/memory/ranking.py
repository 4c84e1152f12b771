"""How memories are indexed and ranked: document texts, query analysis, fusion and de-duplication. Pure.

Fusion is weighted reciprocal-rank fusion of full-text (BM25) and dense (cosine) ranks, plus small bonuses
for a time range the query names, importance, speaker, and a penalty for facts that are no longer true
unless the query asks about the past.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from os1.memory.timeparse import Anchor, TimeRange, parse_anchor, parse_range

CANDIDATES = 100
"""How many hits each retriever contributes before fusion."""
RRF_K = 60
W_TEXT, W_DENSE = 1.0, 0.7
"""Weights of the full-text and dense ranks in the fusion."""
TIME_BONUS = 0.01
IMPORTANCE_BONUS = 0.0004
STALE_PENALTY = 0.008

STOPWORDS = frozenset("""a an the is are was were be been being do does did doing of to in on at for with and or
but what when where who whom whose which how why would could should has have had i you he she it they we my
your her his their our me him them us this that these those there here from by as about into than then so if
not no yes can will just any some also very really much many more most own same such too only tell remember
know think""".split())
_PAST = re.compile(r"\b(before|used to|previous(?:ly)?|old|former(?:ly)?|did .* live|earlier|past|once)\b", re.I)
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff])")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking knows of one document."""

    doc: int
    kind: str
    text: str
    speaker: str
    at: datetime
    valid_until: datetime | None
    importance: float
    turn_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """A query, analysed."""

    match: str
    """FTS5 MATCH expression of quoted terms ('' when the query has no searchable word)."""
    dense_query: str
    span: TimeRange | None
    anchor: Anchor | None
    speakers: tuple[str, ...]
    wants_past: bool


def spaced(text: str) -> str:
    """Put spaces around CJK characters so the full-text tokenizer sees one token per character."""
    return _CJK.sub(r" \1 ", text)


def keywords(text: str) -> list[str]:
    """Searchable words of a text, lower-cased, without stopwords; CJK characters one by one."""
    words = [w.lower() for w in _WORD.findall(spaced(text))]
    kept = [w for w in words if w not in STOPWORDS and (len(w) > 1 or not w.isascii())]
    return list(dict.fromkeys(kept))


def match_expression(words: Iterable[str]) -> str:
    """A safe FTS5 MATCH expression: each word quoted, joined by OR."""
    quoted = [f'"{w.replace(chr(34), "")}"' for w in words if w.replace('"', "")]
    return " OR ".join(quoted)


def document(speaker: str, text: str, previous: tuple[str, str] | None) -> tuple[str, str]:
    """(body, context) indexed for a turn: the speaker and words, and the turn it answers."""
    body = spaced(f"{speaker}: {text}" if speaker else text)
    context = spaced(f"{previous[0]}: {previous[1]}"[:1000]) if previous else ""
    return body, context


def embedding_text(speaker: str, text: str, previous: tuple[str, str] | None) -> str:
    """The text embedded for a turn."""
    return f"{speaker}: {text}" if speaker else text


def analyse(query: str, when: datetime, speakers: Iterable[str]) -> Plan:
    """Keywords, time, and people of a query."""
    words = keywords(query)
    named = tuple(s for s in speakers if s and s.lower() in words)
    anchor = parse_anchor(query)
    return Plan(match_expression(words), query, parse_range(query, when), anchor, named,
                bool(_PAST.search(query)))


def _ranks(hits: list[tuple[int, float]]) -> dict[int, int]:
    return {doc: rank for rank, (doc, _) in enumerate(hits)}


def fuse(plan: Plan, text_hits: list[tuple[int, float]], dense_hits: list[tuple[int, float]],
         candidates: dict[int, Candidate], when: datetime) -> list[tuple[int, float]]:
    """Every candidate with its fused score, best first."""
    text_rank, dense_rank = _ranks(text_hits), _ranks(dense_hits)
    scored: list[tuple[int, float]] = []
    for doc, cand in candidates.items():
        score = 0.0
        if doc in text_rank:
            score += W_TEXT / (RRF_K + text_rank[doc])
        if doc in dense_rank:
            score += W_DENSE / (RRF_K + dense_rank[doc])
        if plan.span is not None and plan.span.contains(cand.at.replace(tzinfo=plan.span.start.tzinfo)):
            score += TIME_BONUS
        score += IMPORTANCE_BONUS * (cand.importance - 0.5) * 2 if cand.kind != "turn" else 0.0
        if cand.valid_until is not None:
            score += STALE_PENALTY if plan.wants_past else -STALE_PENALTY
        scored.append((doc, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored


def dedupe(scored: list[tuple[int, float]], candidates: dict[int, Candidate], k: int) -> list[tuple[int, float]]:
    """The best `k`, skipping a result whose turns are all already behind earlier results."""
    covered: set[int] = set()
    out: list[tuple[int, float]] = []
    for doc, score in scored:
        turns = set(candidates[doc].turn_ids)
        if turns and turns <= covered:
            continue
        covered |= turns
        out.append((doc, score))
        if len(out) == k:
            break
    return out
