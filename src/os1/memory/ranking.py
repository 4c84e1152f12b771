"""The glue between the store and the retrieval recipe (`textproc`, `fusion`): what to index for a turn, how to
read a query, and how the store's candidates become fusion signals. Pure.

Time in a query counts two ways: an explicit date ("in May 2023", `textproc.parse_time_range`) and a phrase
relative to now ("last week", "3 days ago", `timeparse.parse_range`). A fact that has since changed is pushed
down unless the query asks about the past ("before", "used to").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from os1.memory import fusion, textproc
from os1.memory.timeparse import MONTHS, WEEKDAYS, Anchor, TimeRange, parse_anchor, parse_range

CANDIDATES = 100
"""How many hits each retriever (full-text, dense) contributes before fusion (200 gains 0.2 points r@10 on
LoCoMo and doubles the per-candidate work at 100k memories)."""
IMPORTANCE = 0.3
"""Weight of importance: an item's, or for a turn whether it has SUBSTANTIVE_WORDS keywords of its own
(neutral on LoCoMo, ±0.1 point r@10; keeps bare acknowledgements out of the companion's context)."""
SUBSTANTIVE_WORDS = 3
PRUNE_FROM = 2000
"""Below this many indexed documents every keyword is searched; above it, words in more than
`textproc.MAX_DOC_RATIO` of them are dropped (they cost time and say little; in a small store they may be
the very word that matters)."""
SUPERSEDED = 0.5
"""Taken off a changed fact (and the turns behind it), or added when the query asks about the past."""
OWN_WORDS = -1.0
"""Added to the OS's own turns: what the user said outranks what the OS said of equal relevance (the OS's replies
repeat the user's words, and a small model's invent things)."""
RELEVANT_COSINE = 0.2
"""MiniLM cosine above which a candidate that shares no word with the query is relevant: questions about nothing
in the store mostly stay below it; 0.25 cost 4.7 points r@10 on the assistant development set, 0.2 costs 0.5 there
and 0.1 on LoCoMo (docs/benchmarks.md)."""
NAMED_EASING = 0.1
"""How much closer a turn of a person the query names may be (the name is left out of the dense query)."""
_WORD = re.compile(r"[^\W_]+")
_NOW = re.compile(r"\b(?:these days|nowadays|at the moment|right now|at present|as of now)\b", re.I)
"""Words that ask for what holds now (changed facts are pushed down anyway) and name no topic."""
_NAMED_TIME = re.compile(rf"\d|\b(?:{'|'.join(MONTHS)}|{'|'.join(WEEKDAYS)})\b", re.I)
_PAST = re.compile(r"\b(before|used to|previous(?:ly)?|old|former(?:ly)?|earlier|in the past|anymore|once)\b", re.I)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking knows of one document (a turn, or a memory item with its source turns)."""

    doc: int
    kind: str
    text: str
    speaker: str
    """Who said the turn; for an item, whom it is about."""
    at: datetime
    valid_until: datetime | None
    importance: float
    turn_ids: tuple[int, ...]
    happens: tuple[date, date] | None = None
    """For an event or plan: the days it happens on (first, last)."""
    own: bool = False
    """A turn of the OS's own (its reply)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A query, read."""

    words: list[str]
    """Keywords, speaker names left out (pruned by document frequency before the full-text search)."""
    dense_query: str
    names: list[str]
    """Known speakers the query mentions."""
    dates: tuple[date, date] | None
    span: TimeRange | None
    wants_past: bool
    anchor: Anchor | None = None
    """ "before the move": a span relative to an event the store has to date (see `anchored`)."""
    names_only: bool = False
    """The query is only a name ("Catherine", "Zanzibar"): closeness in meaning says nothing about a name (MiniLM
    puts every name near every other), so only memories with the word itself are relevant."""


def read_query(query: str, when: datetime, speakers: Iterable[str]) -> Plan:
    """Keywords, people and time of a query asked at `when`."""
    known = list(speakers)
    anchor = parse_anchor(query)
    span = parse_range(query, when)
    topic = query  # "before the move" and "tomorrow" say when, not what: their words leave the search
    if anchor is not None:
        topic = re.sub(rf"\b(?:before|after|since)\s+{re.escape(anchor.event)}", " ", topic, flags=re.I)
    if span is not None and not _NAMED_TIME.search(span.phrase):  # "tomorrow" leaves; "in January 2022" may be said
        topic = re.sub(rf"\b{re.escape(span.phrase)}\b", " ", topic, flags=re.I)
    topic = _NOW.sub(" ", topic)
    words = textproc.query_keywords(topic, known)
    names_only = bool(words) and all(w[:1].isupper() for w in _WORD.findall(topic))
    return Plan(words, textproc.dense_query(topic if words else query, known), textproc.mentioned_names(query, known),
                textproc.parse_time_range(query), span, bool(_PAST.search(query)), anchor, names_only)


def anchored(plan: Plan, event_at: datetime | None) -> Plan:
    """The plan with its anchor turned into a time span: before or after the event's day."""
    if plan.anchor is None or event_at is None:
        return plan
    day = event_at.replace(hour=0, minute=0, second=0, microsecond=0)
    later = event_at + timedelta(seconds=1)  # the event itself is neither before nor after itself
    start, end = (day.replace(year=1), day) if plan.anchor.direction == "before" else (later, day.replace(year=9999))
    return replace(plan, span=TimeRange(start, end, f"{plan.anchor.direction} {plan.anchor.event}"))


def _line(turn: tuple[str, str] | None) -> str | None:
    return textproc.turn_line(*turn) if turn else None


def document(speaker: str, text: str, previous: tuple[str, str] | None,
             following: tuple[str, str] | None) -> textproc.TurnDocument:
    """The full-text columns of a turn: speaker, words, and its neighbours as context."""
    return textproc.turn_document(speaker, text, _line(previous), _line(following))


def embedding_text(speaker: str, text: str, previous: tuple[str, str] | None,
                   following: tuple[str, str] | None) -> str:
    """What is embedded for a turn: the turn with the ones before and after it."""
    return textproc.dense_document(textproc.turn_line(speaker, text), _line(previous), _line(following))


def days_asked(plan: Plan) -> tuple[date, date] | None:
    """The days (first, last) the query asks about, or None."""
    if plan.dates is not None:
        return plan.dates
    if plan.span is not None:
        return plan.span.start.date(), (plan.span.end - timedelta(microseconds=1)).date()
    return None


def _time_match(plan: Plan, cand: Candidate) -> bool:
    """Whether the candidate was said, or happens, in the time the query names."""
    days = days_asked(plan)
    if days is None:
        return False
    if plan.dates is not None:
        said = fusion.in_time_range(cand.at.date(), plan.dates)
    else:
        assert plan.span is not None
        said = plan.span.contains(cand.at.astimezone(plan.span.start.tzinfo))
    return said or (cand.happens is not None and _overlap(cand.happens, days))


def _overlap(days: tuple[date, date], span: tuple[date, date]) -> bool:
    return days[0] <= span[1] and span[0] <= days[1]


def _importance(cand: Candidate) -> float:
    """An item's own importance; for a turn, whether it says anything of its own (a bare "Mm-hm." next to an
    important turn shares its neighbours' context and vector, but is no memory)."""
    if cand.kind != "turn":
        return cand.importance
    words = _WORD.findall(cand.text[:400].lower())  # cheaper than textproc.keywords: this runs per candidate
    return 1.0 if sum(w not in textproc.STOPWORDS for w in words) >= SUBSTANTIVE_WORDS else 0.0


def _superseded(plan: Plan, cand: Candidate) -> bool:
    """Whether the changed-fact weight applies: always to a changed fact; to the turn it came from only when
    the query is about now (asked about the past, the fact, which says until when it held, should win)."""
    return cand.valid_until is not None and (cand.kind != "turn" or not plan.wants_past)


def relevant(plan: Plan, s: fusion.Signals) -> bool:
    """Whether a candidate has anything to do with the query at all, by measures that mean the same in any store
    (the fused score does not: its lexical part is scaled to the best candidate, however weak): it shares a word
    with the query; or, unless the query's words are all names, it is close in meaning (`RELEVANT_COSINE`, less
    for a turn of someone the query names); or the query asks only about a time or a person, and it is of that
    time or person."""
    if s.bm25:
        return True
    if plan.names_only:
        return False
    cosine = -1.0 if s.cosine is None else s.cosine
    if cosine >= RELEVANT_COSINE or (s.speaker_match and cosine >= RELEVANT_COSINE - NAMED_EASING):
        return True
    return not plan.words and (s.time_match or s.speaker_match)


def rank(plan: Plan, text_hits: dict[int, float], cosines: dict[int, float], candidates: dict[int, Candidate],
         when: datetime, k: int, *, distinct: bool = True) -> list[tuple[int, float]]:
    """The best `k` relevant candidates as (doc, score); `distinct` drops results whose turns came back already."""
    names = {n.lower() for n in plan.names}
    signals = [fusion.Signals(
        key=doc, sources=cand.turn_ids, bm25={"turns": text_hits[doc]} if doc in text_hits else {},
        cosine=cosines.get(doc), speaker_match=cand.speaker.lower() in names, time_match=_time_match(plan, cand),
        age_days=(when - cand.at).total_seconds() / 86400, importance=_importance(cand),
        superseded=_superseded(plan, cand), own_words=cand.own) for doc, cand in candidates.items()]
    weights = fusion.Weights(superseded=SUPERSEDED if plan.wants_past else -SUPERSEDED, importance=IMPORTANCE,
                             own_words=OWN_WORDS)
    ranked = fusion.fuse([s for s in signals if relevant(plan, s)], weights)
    best = fusion.dedupe(ranked, k) if distinct else ranked[:k]
    return [(int(r.key), r.score) for r in best]  # type: ignore[call-overload]


def item_document(subject: str, text: str) -> textproc.TurnDocument:
    """The full-text columns of a memory item: whom it is about, and its sentence."""
    return textproc.turn_document(subject, text)
