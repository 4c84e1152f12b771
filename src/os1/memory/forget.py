"""Forgetting for real: the words leave every table, the full-text index, the vectors and the file itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from os1.errors import InputError
from os1.memory.api import Memory
from os1.memory.tables import EMBED, memory_doc, turn_doc

FORGOTTEN = "(forgotten)"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What was removed."""

    turns: int
    items: int
    terms: int
    profile: int

    @property
    def total(self) -> int:
        return self.turns + self.items + self.terms + self.profile


def pattern(topic: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of the topic (and its possessive)."""
    topic = topic.strip().strip("\"'“”.!?")
    if len(topic) < 2:
        raise InputError("Tell me what to forget, e.g. `os1 memory forget Catherine`.")
    return re.compile(rf"(?<!\w){re.escape(topic)}(?!\w)", re.IGNORECASE)


def forget(memory: Memory, topic: str) -> ForgetReport:
    """Delete every turn, memory item, vocabulary term and profile answer that mentions `topic`."""
    found = pattern(topic)
    db, user = memory.tables.db, memory.tables.user_id
    rows = db.execute("SELECT id, text FROM turns WHERE user_id = ?", (user,)).fetchall()
    turn_ids = [int(i) for i, text in rows if found.search(str(text))]
    item_rows = db.execute("SELECT id, text, subject, value FROM memories WHERE user_id = ?", (user,)).fetchall()
    item_ids = {int(r[0]) for r in item_rows if any(found.search(str(v)) for v in r[1:])}
    for start in range(0, len(turn_ids), 500):
        chunk = turn_ids[start:start + 500]
        derived = db.execute(f"SELECT memory_id FROM memory_sources WHERE turn_id IN ({','.join('?' * len(chunk))})",
                             tuple(chunk)).fetchall()
        item_ids |= {int(r[0]) for r in derived}
    neighbours = _neighbours(memory, turn_ids)
    db.execute("BEGIN IMMEDIATE")
    try:
        for item_id in item_ids:
            db.execute("DELETE FROM memories WHERE id = ? AND user_id = ?", (item_id, user))
        for turn_id in turn_ids:
            db.execute("DELETE FROM turns WHERE id = ? AND user_id = ?", (turn_id, user))
        terms = [t for t, meaning in memory.tables.terms().items() if found.search(t) or found.search(meaning)]
        for term in terms:
            memory.tables.drop_term(term)
        profile = _redact_profile(memory, found)
        docs = [turn_doc(t) for t in turn_ids] + [memory_doc(i) for i in item_ids]
        memory.tables.drop_vectors(docs)
        memory.tables.unindex(docs)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    memory.drop_from_index(docs)
    memory.tables.drop_vectors([turn_doc(t) for t in neighbours])  # their context quoted a forgotten turn
    memory.drop_from_index([turn_doc(t) for t in neighbours])
    memory.tables.mark(neighbours, EMBED)
    for turn_id in neighbours:
        memory.index_turn(turn_id)
    memory.tables.compact()
    return ForgetReport(len(turn_ids), len(item_ids), len(terms), profile)


def _neighbours(memory: Memory, turn_ids: list[int]) -> list[int]:
    """Turns next to forgotten ones in the same session: their index context quoted them."""
    gone = set(turn_ids)
    found = {n[0] for t in turn_ids for after in (False, True) if (n := memory.tables.neighbour(t, after=after))}
    return sorted(found - gone)


def _redact_profile(memory: Memory, found: re.Pattern[str]) -> int:
    """Profile answers that mention the topic keep their place but lose their words."""
    count = 0
    for key, value in memory.store.profile().items():
        if found.search(value):
            memory.store.set(key, FORGOTTEN)
            count += 1
    return count
