"""Pure text chunking for TTS: a short first phrase as soon as it is complete, then clauses and sentences.

Piper's cost is ~25 ms plus ~30 ms per word, so the first 2-3 words reach the speaker long before the first
sentence would; later chunks follow sentence and clause boundaries, which keep the prosody natural.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

_CLOSERS = "\"')]}»”’"
_SENTENCE_END = re.compile(rf"[.!?…]+[{re.escape(_CLOSERS)}]*$")
_CLAUSE_END = re.compile(rf"(?:[,;:]+[{re.escape(_CLOSERS)}]*|[—–-]{{1,2}})$")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+$")
ABBREVIATIONS = frozenset("mr mrs ms dr prof st jr sr vs approx fig mt ave dept est inc ltd co".split())
"""Words whose final full stop does not end a sentence."""
_WEAK = frozenset("a an the to of in on at for and or but my your his her its our their with from as is".split())


@dataclass(frozen=True, slots=True)
class ChunkRules:
    """How text is cut."""

    first_words: int = 3
    """The first chunk ends after this many words (or at an earlier clause or sentence end)."""
    min_clause_words: int = 4
    """Later chunks end at a comma, semicolon, colon or dash only once they have this many words."""
    max_words: int = 24
    """Any chunk ends at this many words, boundary or not."""


class Chunker:
    """Feed text deltas (e.g. an LLM's stream) with `push`; take ready chunks; `flush` at the end."""

    def __init__(self, rules: ChunkRules | None = None) -> None:
        self.rules = rules or ChunkRules()
        self._buffer = ""
        self._first = True

    def push(self, delta: str) -> list[str]:
        """Add text; return the chunks it completed, in order."""
        self._buffer += delta
        chunks: list[str] = []
        while (cut := self._next_cut()) is not None:
            chunk, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            if chunk:
                chunks.append(chunk)
                self._first = False
        return chunks

    def flush(self) -> list[str]:
        """The rest of the text as a last chunk; the chunker is then fresh for a new reply."""
        rest, self._buffer, self._first = self._buffer.strip(), "", True
        return [rest] if rest else []

    def _next_cut(self) -> int | None:
        """Where the first complete chunk in the buffer ends, or None if none is complete yet."""
        for words, match in enumerate(re.finditer(r"\S+", self._buffer), start=1):
            after = self._buffer[match.end() :]
            if not after:
                return None  # the word may still grow
            gap = after[: len(after) - len(after.lstrip())]
            if self._ends_chunk(match.group(), words, "\n" in gap):
                return match.end()
        return None

    def _ends_chunk(self, word: str, words: int, newline: bool) -> bool:
        rules = self.rules
        if newline or (_SENTENCE_END.search(word) and not _abbreviation(word)):
            return True
        if _CLAUSE_END.search(word) and (self._first or words >= rules.min_clause_words):
            return True
        if self._first and words >= rules.first_words:
            weak = word.lower() in _WEAK and words < rules.first_words + 2
            return not weak
        return words >= rules.max_words


def _abbreviation(word: str) -> bool:
    """`Dr.`, `e.g.`, `J.` and the like end with a full stop that is not a sentence end."""
    bare = word.rstrip(_CLOSERS)
    if not bare.endswith(".") or bare.endswith(".."):
        return False
    return bare[:-1].lower().lstrip("(\"'") in ABBREVIATIONS or bool(_INITIALS.fullmatch(bare.lstrip("(\"'")))


def phrase_chunks(deltas: Iterable[str], rules: ChunkRules | None = None) -> Iterator[str]:
    """Chunks of a stream of text deltas, each yielded as soon as it is complete."""
    chunker = Chunker(rules)
    for delta in deltas:
        yield from chunker.push(delta)
    yield from chunker.flush()


async def aphrase_chunks(deltas: AsyncIterable[str], rules: ChunkRules | None = None) -> AsyncIterator[str]:
    """`phrase_chunks` over an async stream, such as `LLM.stream`."""
    chunker = Chunker(rules)
    async for delta in deltas:
        for chunk in chunker.push(delta):
            yield chunk
    for chunk in chunker.flush():
        yield chunk
