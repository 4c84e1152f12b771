"""Forgetting for real: the words leave every table, the full-text index, the vectors and the file itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from os1.errors import InputError
from os1.llm.kvstate import clear_saved
from os1.memory.api import Memory
from os1.memory.tables import EMBED, memory_doc, turn_doc

FORGOTTEN = "(forgotten)"
USER_WORDS = ("user.", "os.name_reason")
"""The profile entries that hold the user's own words (first boot's answers, and the naming reason that quotes
them): the only ones forgetting may redact. Settings and secrets (`settings.*`, `server.*`, the OS's name) are
never touched, whatever they happen to contain."""


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What was removed."""

    turns: int
    items: int
    terms: int
    profile: int
    listed: int = 0
    """Items of the user's lists and notes."""

    @property
    def total(self) -> int:
        return self.turns + self.items + self.terms + self.profile + self.listed


def pattern(topic: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of the topic (and its possessive)."""
    topic = topic.strip().strip("\"'“”.!?")
    if len(topic) < 2:
        raise InputError("Tell me what to forget, e.g. `os1 memory forget Catherine`.")
    return re.compile(rf"(?<!\w){re.escape(topic)}(?!\w)", re.IGNORECASE)


def forget(memory: Memory, topic: str) -> ForgetReport:
    """Delete every turn, memory item, vocabulary term, list item and profile answer that mentions `topic`."""
    found = pattern(topic)
    db, user = memory.tables.db, memory.tables.user_id
    rows = db.execute("SELECT id, text FROM turns WHERE user_id = ?", (user,)).fetchall()
    turn_ids = [int(i) for i, text in rows if found.search(str(text))]
    item_rows = db.execute("SELECT id, text, subject, value FROM memories WHERE user_id = ?", (user,)).fetchall()
    item_ids = {int(r[0]) for r in item_rows if any(found.search(str(v)) for v in r[1:])}
    terms = [t for t, meaning in memory.tables.terms().items() if found.search(t) or found.search(meaning)]
    listed = [int(i) for i, text in db.execute("SELECT id, item FROM list_items WHERE user_id = ?", (user,))
              if found.search(str(text))]
    return _erase(memory, turn_ids, item_ids, terms, found, derived=True, listed=listed)


def forget_item(memory: Memory, item_id: int) -> ForgetReport | None:
    """Delete one memory item with the words it came from: its source turns and the OS's answer to each (the
    next turn of the session, when it is the OS's), and, for a personal term, the term. Other items found in the
    same words stay (the user asked to forget this one). None when the user has no such item."""
    found = memory.tables.items([item_id])
    if not found:
        return None
    item = found[0]
    terms = [t for t in memory.tables.terms() if item.kind == "vocabulary" and t.lower() == item.subject.lower()]
    return _erase(memory, _with_answers(memory, list(item.turn_ids)), {item.id}, terms, None, derived=False)


def forget_term(memory: Memory, term: str) -> ForgetReport | None:
    """Delete a personal term, the memory items that taught it and the words they came from (as `forget_item`).
    None when the user has no such term."""
    terms = [t for t in memory.tables.terms() if t.lower() == term.strip().lower()]
    if not terms:
        return None
    taught = memory.tables.items(kind="vocabulary", limit=1_000_000)
    items = [i for i in taught if i.subject.lower() == terms[0].lower()]
    turn_ids = _with_answers(memory, sorted({t for i in items for t in i.turn_ids}))
    return _erase(memory, turn_ids, {i.id for i in items}, terms, None, derived=False)


def _erase(memory: Memory, turn_ids: list[int], item_ids: set[int], terms: list[str],
           redact: re.Pattern[str] | None, *, derived: bool, listed: list[int] | None = None) -> ForgetReport:
    """Delete turns, `item_ids` (with `derived`, every item found in those turns too) and `terms`; profile
    answers matching `redact` lose their words. Vectors and index entries go with them, neighbours are indexed
    again without them, and the file keeps no trace."""
    db, user = memory.tables.db, memory.tables.user_id
    item_ids = set(item_ids)
    for start in range(0, len(turn_ids) if derived else 0, 500):
        chunk = turn_ids[start:start + 500]
        sources = db.execute(f"SELECT memory_id FROM memory_sources WHERE turn_id IN ({','.join('?' * len(chunk))})",
                             tuple(chunk)).fetchall()
        item_ids |= {int(r[0]) for r in sources}
    neighbours = _neighbours(memory, turn_ids)
    db.execute("BEGIN IMMEDIATE")
    try:
        for item_id in item_ids:
            db.execute("DELETE FROM memories WHERE id = ? AND user_id = ?", (item_id, user))
        for turn_id in turn_ids:
            db.execute("DELETE FROM turns WHERE id = ? AND user_id = ?", (turn_id, user))
        for list_id in listed or []:
            db.execute("DELETE FROM list_items WHERE id = ? AND user_id = ?", (list_id, user))
        for term in terms:
            memory.tables.drop_term(term)
        profile = _redact_profile(memory, redact) if redact is not None else 0
        docs = [turn_doc(t) for t in turn_ids] + [memory_doc(i) for i in item_ids]
        memory.tables.drop_vectors(docs)
        memory.tables.unindex(docs)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    memory.drop_from_index(docs)
    with db.transaction():  # their context quoted a forgotten turn: embedded again without it
        memory.tables.drop_vectors([turn_doc(t) for t in neighbours])
        memory.tables.mark(neighbours, EMBED)
    memory.drop_from_index([turn_doc(t) for t in neighbours])
    for turn_id in neighbours:
        memory.index_turn(turn_id)
    memory.tables.compact()
    if profile and db.path.is_file():  # the persona held those words: a local model's saved reading of it goes too
        clear_saved(db.path.parent)
    return ForgetReport(len(turn_ids), len(item_ids), len(terms), profile, len(listed or []))


def _with_answers(memory: Memory, turn_ids: list[int]) -> list[int]:
    """The user's turns and, after each, the OS's answer (the next turn of the same session, if it is the OS's)."""
    out = set(turn_ids)
    for turn_id in turn_ids:
        row = memory.tables.db.execute(
            "SELECT n.id, n.role FROM turns t JOIN turns n ON n.user_id = t.user_id AND n.id > t.id "
            "AND n.session_id IS t.session_id WHERE t.id = ? AND t.user_id = ? AND t.role = 'user' "
            "ORDER BY n.id LIMIT 1", (turn_id, memory.tables.user_id)).fetchone()
        if row is not None and row[1] == "assistant":
            out.add(int(row[0]))
    return sorted(out)


def _neighbours(memory: Memory, turn_ids: list[int]) -> list[int]:
    """Turns next to forgotten ones in the same session: their index context quoted them."""
    gone = set(turn_ids)
    found = {n[0] for t in turn_ids for after in (False, True) if (n := memory.tables.neighbour(t, after=after))}
    return sorted(found - gone)


def _redact_profile(memory: Memory, found: re.Pattern[str]) -> int:
    """Profile answers (`USER_WORDS`) that mention the topic keep their place but lose their words."""
    count = 0
    for key, value in memory.store.profile().items():
        if key.startswith(USER_WORDS) and found.search(value):
            memory.store.set(key, FORGOTTEN)
            count += 1
    return count
