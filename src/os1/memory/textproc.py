"""Deterministic text processing for memory retrieval: FTS5 tokens and queries, turn documents, query analysis.

Everything here is pure (no I/O, no models) so that indexing and searching stay reproducible and testable.
The recipe it serves (see ``fusion.py`` for the scoring half):

* index time: each turn goes into an FTS5 table with three columns: ``speaker``, ``body`` (the verbatim text plus
  any image caption) and ``context`` (the previous and next turn of the same session, as lower-weight context), and
  gets one dense vector of :func:`dense_document` (previous turn + turn + next turn);
* query time: the question's keywords (stopwords and known speaker names removed) form an OR query of quoted tokens
  over ``body`` and ``context``; the dense query is the question with speaker names removed
  (:func:`dense_query`); names the question mentions become a speaker boost and dates it mentions a time-range
  boost (:func:`parse_time_range`). At large stores, :func:`prune_common` keeps the FTS query cheap: it needs each
  keyword's document frequency, which the store reads from ``fts5vocab(turns, 'row')`` after stemming the keywords
  the way FTS5 does (insert them into a one-row temp FTS5 table with the same tokenizer and read its
  ``fts5vocab(..., 'instance')`` terms by offset).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# fmt: off
STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all am an and any are aren as at be because been before being below between both
but by can cannot could couldn did didn do does doesn doing don down during each few for from further had hadn has
hasn have haven having he her here hers herself him himself his how i if in into is isn it its itself just let me
more most my myself no nor not of off on once only or other ought our ours ourselves out over own same shan she
should shouldn so some such than that the their theirs them themselves then there these they this those through to
too under until up very was wasn we were weren what when where which while who whom why will with won would
wouldn you your yours yourself yourselves s t ll re ve d m o y yes ok okay also likely
""".split())
# fmt: on
"""English function words (and contraction fragments such as the ``s`` of ``it's``) that carry no topic."""

QUERY_STOPWORDS: frozenset[str] = frozenset("""
kind type sort thing things something anything mention mentioned say said tell told talk talked discuss discussed
describe recently lately currently usually often ever many much
""".split())
"""Words that frame a question ("what kind of", "did she mention") rather than name its topic; dropped from
queries only (documents keep them). Worth +0.2-0.4 r@10 on LoCoMo: small, but general English."""

FTS_TOKENIZE = "porter unicode61"
"""The FTS5 tokenizer for every memory table: Unicode word splitting, diacritics folded, Porter stemming."""
FTS_COLUMNS: tuple[str, ...] = ("speaker", "body", "context")
"""Columns of the turn table, in order (see :class:`TurnDocument`)."""
FTS_COLUMN_WEIGHTS: tuple[float, ...] = (0.0, 1.0, 0.3)
"""``bm25()`` weights for those columns: the speaker is matched by the speaker boost instead (its name is not in
the query), the turn's own words count fully, the neighbouring turns at 0.3 (0.3-0.5 within 0.5 points r@10;
leaving context out costs ~6 points)."""

MAX_QUERY_TERMS = 5
"""Keep at most this many (the rarest) keywords per FTS query: FTS5 scores every row an OR query matches, so
common words cost time; 5 loses nothing measurable on LoCoMo (4 costs ~0.6 points r@10)."""
MAX_DOC_RATIO = 0.2
"""Drop keywords found in more than this share of turns (unless none would be left): saves FTS5 time at 100k
turns for -0.2 points r@10; 0.1 costs ~1 point, 0.05 ~3 points, so do not go lower."""
MAX_POSTINGS = 5000
"""Rows one full-text search may score: keywords join the query rarest first while the documents they match
stay within this (the rarest always does). Scoring is what costs at 100k memories: 11,000-29,000 matching rows
took 9-14 ms, 5,000 take under 2 ms. A query whose rarest word alone matches more takes that word's newest
documents instead (the vector search still sees every memory). Stores under 5,000 documents, all of LoCoMo's and
the assistant set's, never reach it."""

_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x2FF0, 0x31FF), (0x3200, 0x9FFF), (0xA960, 0xA97F),
    (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF65, 0xFFDC), (0x20000, 0x3FFFF),
)
_CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
_CJK_RE = re.compile(f"([{_CJK_CLASS}])")
# A token as FTS5's unicode61 tokenizer sees one: a run of letters, digits or marks (underscore separates).
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def is_cjk(ch: str) -> bool:
    """Whether one character is Chinese, Japanese or Korean script (each is indexed as its own token)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def space_cjk(text: str) -> str:
    """Surround every CJK character with spaces so FTS5 indexes (and matches) it as a token of its own."""
    if not _CJK_RE.search(text):
        return text
    return re.sub(r" {2,}", " ", _CJK_RE.sub(r" \1 ", text)).strip()


def fold(text: str) -> str:
    """Lower-case and strip diacritics, as FTS5 unicode61 (remove_diacritics) does."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The folded word tokens of a text, CJK characters one per token, in order (duplicates kept)."""
    return _TOKEN_RE.findall(space_cjk(fold(text)))


def keywords(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Distinct non-stopword tokens of a text, in first-seen order, minus any ``exclude`` tokens (e.g. names)."""
    skip = STOPWORDS | {fold(x) for x in exclude}
    seen: dict[str, None] = {}
    for tok in tokens(text):
        if tok not in skip and (len(tok) > 1 or is_cjk(tok) or tok.isdigit()):
            seen.setdefault(tok, None)
    return list(seen)


def fts_phrase(token: str) -> str:
    """One token as an FTS5 string literal: double-quoted, inner quotes doubled, so it can never be syntax."""
    return '"' + token.replace('"', '""') + '"'


def fts_query(words: Sequence[str], column: str | None = None) -> str | None:
    """An FTS5 MATCH expression that ORs the quoted words (optionally inside ``{column}:``); None when empty."""
    parts = [fts_phrase(w) for w in dict.fromkeys(w for w in words if w.strip())]
    if not parts:
        return None
    expr = " OR ".join(parts)
    return f"{{{column}}} : ({expr})" if column else expr


def turn_body(text: str, image_caption: str | None = None) -> str:
    """The verbatim text of a turn, with ``[shared an image: caption]`` appended when it carried an image."""
    text = text.strip()
    if image_caption and image_caption.strip():
        text = f"{text} [shared an image: {image_caption.strip()}]".strip()
    return text


def turn_line(speaker: str, body: str) -> str:
    """A turn as one line of transcript: ``Speaker: body``."""
    return f"{speaker}: {body}" if speaker else body


@dataclass(frozen=True, slots=True)
class TurnDocument:
    """The three FTS5 columns of one turn: who spoke, what they said, and the neighbouring turns as context."""

    speaker: str
    body: str
    context: str


def turn_document(speaker: str, body: str, previous: str | None = None, following: str | None = None) -> TurnDocument:
    """FTS5 columns for a turn; ``previous``/``following`` are neighbouring ``turn_line``s of the same session."""
    context = " \n ".join(x for x in (previous, following) if x)
    return TurnDocument(speaker=space_cjk(speaker), body=space_cjk(body), context=space_cjk(context))


def dense_document(line: str, previous: str | None = None, following: str | None = None) -> str:
    """The text to embed for a turn: the previous turn, the turn, the next turn (lines of the same session)."""
    return " \n ".join(x for x in (previous, line, following) if x)


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern for any of the names, possessive ``'s`` included."""
    alts = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    if not alts:
        return None
    body = "|".join(re.escape(n) for n in alts)
    return re.compile(rf"(?<![\w])(?:{body})(?:['’]s)?(?![\w])", re.IGNORECASE)


def mentioned_names(query: str, names: Iterable[str]) -> list[str]:
    """Which of the known names (e.g. the speakers in the store) the query mentions as whole words, in name order."""
    out: list[str] = []
    for name in names:
        pat = _name_pattern([name])
        if pat is not None and pat.search(query) and name not in out:
            out.append(name)
    return out


def query_keywords(query: str, speaker_names: Iterable[str] = ()) -> list[str]:
    """The FTS keywords of a question: no stopwords, no question-frame words, no speaker names (boosted instead)."""
    names = [tok for name in speaker_names for tok in tokens(name)]
    return keywords(query, exclude=[*QUERY_STOPWORDS, *names])


def strip_names(query: str, names: Iterable[str]) -> str:
    """The query with the given names (and their possessive ``'s``) removed, whitespace tidied."""
    pat = _name_pattern(names)
    if pat is None:
        return query.strip()
    out = pat.sub(" ", query)
    return re.sub(r"\s+([?.!,;:])", r"\1", re.sub(r"\s{2,}", " ", out)).strip()


def dense_query(query: str, speaker_names: Iterable[str]) -> str:
    """The text to embed for a search: speaker names removed (they are matched by the speaker boost instead)."""
    stripped = strip_names(query, speaker_names)
    return stripped if tokens(stripped) else query.strip()


# ---------------------------------------------------------------------------------------------------------------
# Dates

_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"
_DMY = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MON}\.?,?\s+{_YEAR}\b", re.IGNORECASE)
_MDY = re.compile(rf"\b{_MON}\.?\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE)
_MY = re.compile(rf"\b{_MON}\.?,?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)
_SEASON = re.compile(rf"\b(spring|summer|autumn|fall|winter)\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_SEASON_MONTHS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 14)}


def _month_end(year: int, month: int) -> date:
    """The last day of a month (month may run past 12 into the next year)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None when the numbers name no real day."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_time_range(query: str) -> tuple[date, date] | None:
    """The calendar span an absolute date in the query names (a day, a month, a season), or None.

    Only explicit dates count ("on 19 August, 2023", "in March 2023", "summer 2023"); a bare year or a relative
    phrase ("last week") gives None, because it would match too much or needs a reference time.
    """
    for rx, order in ((_ISO, "ymd"), (_DMY, "dmy"), (_MDY, "mdy")):
        m = rx.search(query)
        if m:
            g = m.groups()
            if order == "ymd":
                d = _safe_date(int(g[0]), int(g[1]), int(g[2]))
            elif order == "dmy":
                d = _safe_date(int(g[2]), _MONTHS[g[1].lower()[:3]], int(g[0]))
            else:
                d = _safe_date(int(g[2]), _MONTHS[g[0].lower()[:3]], int(g[1]))
            if d is not None:
                return d, d
    m = _MY.search(query)
    if m:
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()[:3]]
        return date(year, month, 1), _month_end(year, month)
    m = _SEASON.search(query)
    if m:
        lo, hi = _SEASON_MONTHS[m.group(1).lower()]
        year = int(m.group(2))
        return date(year, lo, 1), _month_end(year, hi)
    return None


_STAMP = re.compile(rf"(\d{{1,2}}):(\d\d)\s*([ap]m)\s+on\s+{_DAY}\s+{_MON},?\s+{_YEAR}", re.IGNORECASE)


def parse_stamp(text: str) -> datetime | None:
    """Parse a chat-log timestamp like ``1:56 pm on 8 May, 2023`` (naive local time), or None."""
    m = _STAMP.search(text)
    if not m:
        return None
    hour, minute, ampm, day, mon, year = m.groups()
    h = int(hour) % 12 + (12 if ampm.lower() == "pm" else 0)
    d = _safe_date(int(year), _MONTHS[mon.lower()[:3]], int(day))
    return None if d is None else datetime(d.year, d.month, d.day, h, int(minute))


def prune_common(
    words: Sequence[str],
    doc_freq: Mapping[str, int],
    n_docs: int,
    max_ratio: float = MAX_DOC_RATIO,
    max_terms: int | None = MAX_QUERY_TERMS,
    max_postings: int | None = MAX_POSTINGS,
) -> list[str]:
    """Drop query words found in more than ``max_ratio`` of the documents (they cost FTS5 time and add little
    ranking signal), keep at most ``max_terms`` rarest ones, and of those the rarest while the documents they
    match stay within ``max_postings``; never return empty while ``words`` is not."""
    if not words:
        return []
    ratio = {w: doc_freq.get(w, 0) / max(n_docs, 1) for w in words}
    kept = [w for w in words if ratio[w] <= max_ratio] or [min(words, key=lambda w: ratio[w])]
    if max_terms is not None and len(kept) > max_terms:
        rare = set(sorted(kept, key=lambda w: ratio[w])[:max_terms])
        kept = [w for w in kept if w in rare]
    if max_postings is not None and postings(kept, doc_freq) > max_postings:
        chosen: set[str] = set()
        total = 0
        for w in sorted(kept, key=lambda w: doc_freq.get(w, 0)):
            if chosen and total + doc_freq.get(w, 0) > max_postings:
                break
            chosen.add(w)
            total += doc_freq.get(w, 0)
        kept = [w for w in kept if w in chosen]
    return kept


def postings(words: Sequence[str], doc_freq: Mapping[str, int]) -> int:
    """How many document matches an OR query of `words` makes FTS5 score (at most)."""
    return sum(doc_freq.get(w, 0) for w in dict.fromkeys(words))
