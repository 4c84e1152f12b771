"""SQL for one user's long-term memory: items, their sources, the full-text index, vectors, vocabulary.

Every statement is bound to the user's id, and each user's full-text index is a table of its own
(`search_<id>`): nothing another user said is even scanned.
Documents share one id space: a turn is doc 2*id, a memory item 2*id+1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from os1.memory import facts
from os1.memory.extract import Extracted
from os1.memory.store import Database, stamp
from os1.memory.textproc import FTS_COLUMN_WEIGHTS, TurnDocument

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def turn_doc(turn_id: int) -> int:
    """The index id of a turn."""
    return 2 * turn_id


def memory_doc(memory_id: int) -> int:
    """The index id of a memory item."""
    return 2 * memory_id + 1


@dataclass(frozen=True, slots=True)
class Item:
    """A memory item derived from turns; a changed fact keeps its old value with `valid_until` set."""

    id: int
    kind: str
    subject: str
    attribute: str
    value: str
    text: str
    importance: float
    valid_from: datetime
    valid_until: datetime | None
    turn_ids: tuple[int, ...]


TOKENIZER = "porter unicode61 remove_diacritics 2"
"""The full-text tokenizer (as in migration 2), also used to stem query words for their frequencies."""
EXTRACT, DONE, EMBED = 0, 1, 2
"""Background states of a turn (the `turns.indexed` column)."""
LONGEST_SPAN_DAYS = 92
"""A dated item's span starts at most this long before the days it is found for (a season; a year said as "in
2027" is found by its words instead)."""
ITEM_COLUMNS = "id, kind, subject, attribute, value, text, importance, valid_from, valid_until"


class MemoryTables:
    """The rows of one user's memory."""

    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id
        self.fts = f"search_{int(user_id)}"
        self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.fts} USING fts5(speaker, body, context, "
                        f"tokenize = '{TOKENIZER}')")
        self._vocab_ready = False
        self._documents: int | None = None

    # full-text index ---------------------------------------------------------------------------------
    def index(self, doc: int, document: TurnDocument, *, new: bool = False) -> None:
        """Add or replace one document in the full-text index; `new`: it is not there yet (a turn inserted in
        this transaction), so there is nothing to delete first."""
        replaced = 0 if new else self.db.execute(f"DELETE FROM {self.fts} WHERE rowid = ?", (doc,)).rowcount
        self.db.execute(f"INSERT INTO {self.fts}(rowid, speaker, body, context) VALUES (?,?,?,?)",
                        (doc, document.speaker, document.body, document.context))
        if self._documents is not None and replaced <= 0:
            self._documents += 1

    def text_search(self, match: str, limit: int, *, newest: bool = False) -> dict[int, float]:
        """{doc: bm25 relevance (higher is better)} of this user's best documents matching an FTS5 expression;
        `newest`: of the newest matching documents instead (FTS5 then scores only the rows it returns)."""
        weights = ", ".join(str(w) for w in FTS_COLUMN_WEIGHTS)
        order = "rowid DESC" if newest else "score DESC"
        rows = self.db.execute(
            f"SELECT rowid, -bm25({self.fts}, {weights}) AS score FROM {self.fts} "
            f"WHERE {self.fts} MATCH ? ORDER BY {order} LIMIT ?", (match, limit)).fetchall()
        return {int(r[0]): float(r[1]) for r in rows}

    def document_frequencies(self, words: list[str]) -> tuple[dict[str, int], int]:
        """How many indexed documents hold each word (stemmed as the index stems it), and how many there are."""
        if not self._vocab_ready:
            self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{self.fts}_terms "
                            f"USING fts5vocab(main, {self.fts}, 'row')")
            self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.stemmer USING fts5(x, tokenize = '{TOKENIZER}')")
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.stems USING fts5vocab(temp, stemmer, 'instance')")
            self._vocab_ready = True
        self.db.execute("DELETE FROM temp.stemmer")
        self.db.execute("INSERT INTO temp.stemmer(rowid, x) VALUES (1, ?)", (" ".join(words),))
        stem_at = {int(offset): str(term) for term, offset in self.db.execute("SELECT term, offset FROM temp.stems")}
        stems = {word: stem_at.get(i, word) for i, word in enumerate(words)}
        marks = ",".join("?" * len(stems))
        counts = dict(self.db.execute(f"SELECT term, doc FROM temp.{self.fts}_terms WHERE term IN ({marks})",
                                      tuple(stems.values())).fetchall()) if stems else {}
        return {word: int(counts.get(stem, 0)) for word, stem in stems.items()}, self.document_count()

    def document_count(self) -> int:
        """How many documents the full-text index holds (counted once, then kept up to date by `index`)."""
        if self._documents is None:
            self._documents = int(self.db.execute(f"SELECT count(*) FROM {self.fts}_docsize").fetchone()[0])
        return self._documents

    def unindex(self, docs: list[int]) -> None:
        """Remove documents from the full-text index (their terms stay in old segments until `compact`)."""
        for doc in docs:
            self.db.execute(f"DELETE FROM {self.fts} WHERE rowid = ?", (doc,))
        self._documents = None

    def compact(self) -> None:
        """Merge the full-text index into one segment and fold the log into the file, leaving no trace of
        deleted text (with secure_delete, freed pages are zeroed). Must run outside a transaction: FTS5
        holds a transaction's changes in memory until it commits."""
        self.db.execute(f"INSERT INTO {self.fts}({self.fts}) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # turns awaiting background work ----------------------------------------------------------------
    def pending_turns(self, limit: int) -> dict[int, int]:
        """Turns whose background work is not done, with their state (EXTRACT or EMBED)."""
        rows = self.db.execute("SELECT id, indexed FROM turns WHERE user_id = ? AND indexed != ? "
                               "AND status = 'complete' ORDER BY id LIMIT ?", (self.user_id, DONE, limit)).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    def mark(self, turn_ids: list[int], state: int) -> None:
        """Set turns' background state: EXTRACT (items and vector to make), EMBED (vector only) or DONE.
        A turn still waiting for EXTRACT keeps waiting for it when asked to EMBED. Not synced: a state lost
        to a power cut only means the work is done again."""
        with self.db.transaction(durable=False):
            for turn_id in turn_ids:
                self.db.execute("UPDATE turns SET indexed = ? WHERE id = ? AND user_id = ? "
                                "AND NOT (? = 2 AND indexed = 0)", (state, turn_id, self.user_id, state))

    def unembedded_items(self, limit: int) -> list[int]:
        """Ids of memory items that have no vector yet (imported ones)."""
        rows = self.db.execute("SELECT m.id FROM memories m LEFT JOIN vectors v ON v.doc = 2 * m.id + 1 "
                               "WHERE m.user_id = ? AND v.doc IS NULL ORDER BY m.id LIMIT ?",
                               (self.user_id, limit)).fetchall()
        return [int(r[0]) for r in rows]

    def neighbour(self, turn_id: int, *, after: bool) -> tuple[int, str, str] | None:
        """(id, speaker, text) of the complete turn just before (or after) this one in its session."""
        order, compare = ("ASC", ">") if after else ("DESC", "<")
        row = self.db.execute(
            "SELECT n.id, n.speaker, n.text FROM turns t JOIN turns n ON n.user_id = t.user_id "
            f"AND n.id {compare} t.id AND n.session_id IS t.session_id AND n.status = 'complete' "
            "WHERE t.id = ? AND t.user_id = ? "
            f"ORDER BY n.id {order} LIMIT 1", (turn_id, self.user_id)).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    # memory items ---------------------------------------------------------------------------------
    def add_item(self, item: Extracted, at: datetime, turn_ids: list[int], *,
                 same_slot: Iterable[int] = ()) -> int | None:
        """Store an item, closing what it replaces: the subject's fact with the same attribute (or one found to be
        the same, `same_slot`), the last person in a one-at-a-time relation ("my girlfriend Bea"), and the
        fact an ending names ("I quit the Y").

        Returns the new id, or None when the same item is already current.
        """
        if item.ends:
            self._close(self._ended(item.subject, item.ends), at)
        if item.attribute:
            current = self.db.execute(
                "SELECT id, value FROM memories WHERE user_id = ? AND subject = ? AND attribute = ? "
                "AND valid_until IS NULL", (self.user_id, item.subject, item.attribute)).fetchall()
            current += [(i.id, i.value) for i in self.items(list(same_slot)) if i.valid_until is None]
            if any(facts.same_value(str(value), item.value) for _, value in current):
                return None
            if item.kind == "fact":
                self._close([int(memory_id) for memory_id, _ in current], at)
            elif item.kind == "person" and item.value.lower() in facts.EXCLUSIVE:
                self._close(self._holding(item.attribute, item.value, other_than=item.subject), at)
        elif self.db.execute("SELECT 1 FROM memories WHERE user_id = ? AND text = ?",
                             (self.user_id, item.text)).fetchone():
            return None
        cur = self.db.execute(
            "INSERT INTO memories(user_id, kind, subject, attribute, value, text, importance, valid_from, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)", (self.user_id, item.kind, item.subject, item.attribute, item.value,
                                            item.text, item.importance, stamp(at), stamp(None)))
        memory_id = int(cur.lastrowid or 0)
        for turn_id in turn_ids:
            self.db.execute("INSERT OR IGNORE INTO memory_sources(memory_id, turn_id) VALUES (?, ?)",
                            (memory_id, turn_id))
        return memory_id

    def current_facts(self, subject: str) -> list[Item]:
        """The facts about `subject` that hold now."""
        rows = self.db.execute("SELECT id FROM memories WHERE user_id = ? AND subject = ? AND kind = 'fact' "
                               "AND valid_until IS NULL", (self.user_id, subject)).fetchall()
        return self.items([int(r[0]) for r in rows])

    def _ended(self, subject: str, value: str) -> list[int]:
        """The current facts of `subject`, and the one-at-a-time relations to them, that an ending of `value` closes."""
        rows = self.db.execute(
            "SELECT id, kind, subject, attribute, value FROM memories WHERE user_id = ? AND valid_until IS NULL "
            "AND ((kind = 'fact' AND subject = ?) OR (kind = 'person' AND attribute = ?))",
            (self.user_id, subject, f"relation to {subject}")).fetchall()
        return [int(r[0]) for r in rows if (r[1] == "fact" and facts.same_value(str(r[4]), value)) or
                (r[1] == "person" and str(r[4]).lower() in facts.EXCLUSIVE and facts.same_value(str(r[2]), value))]

    def _holding(self, attribute: str, value: str, *, other_than: str) -> list[int]:
        """Other people who hold the same relation now."""
        rows = self.db.execute("SELECT id FROM memories WHERE user_id = ? AND kind = 'person' AND attribute = ? "
                               "AND lower(value) = ? AND subject != ? AND valid_until IS NULL",
                               (self.user_id, attribute, value.lower(), other_than)).fetchall()
        return [int(r[0]) for r in rows]

    def _close(self, memory_ids: Iterable[int], at: datetime) -> None:
        for memory_id in memory_ids:
            self.db.execute("UPDATE memories SET valid_until = ? WHERE id = ? AND user_id = ? AND valid_until IS NULL",
                            (stamp(at), memory_id, self.user_id))

    def items(self, ids: list[int] | None = None, *, kind: str | None = None, limit: int = 1000) -> list[Item]:
        """Memory items by id, or the newest ones (optionally of one kind)."""
        where, params = "user_id = ?", [self.user_id]
        if ids is not None:
            if not ids:
                return []
            # By their keys: given a hundred ids, SQLite would rather scan all of the user's items by `user_id`
            # (1.5 ms at 24k items instead of 0.06); the unary + keeps it to the primary key.
            where = f"+user_id = ? AND id IN ({','.join('?' * len(ids))})"
            params += ids
        if kind:
            where += " AND kind = ?"
            params.append(kind)  # type: ignore[arg-type]
        rows = self.db.execute(f"SELECT {ITEM_COLUMNS} FROM memories WHERE {where} ORDER BY id DESC LIMIT ?",
                               (*params, limit)).fetchall()
        sources = self._sources([int(r[0]) for r in rows])
        return [Item(int(r[0]), r[1], r[2], r[3], r[4], r[5], float(r[6]), datetime.fromisoformat(r[7]),
                     datetime.fromisoformat(r[8]) if r[8] else None, sources.get(int(r[0]), ())) for r in rows]

    def happening(self, first: date, last: date, limit: int) -> list[int]:
        """Docs of the events and plans that happen on any of these days (their value is an ISO date or span that
        starts at most `LONGEST_SPAN_DAYS` before `first`), by the `memories_days` index."""
        longest = timedelta(days=LONGEST_SPAN_DAYS)
        earliest = max(first, date.min + longest) - longest
        rows = self.db.execute(
            "SELECT id FROM memories WHERE user_id = ? AND kind IN ('event', 'plan') AND value >= ? AND value <= ? "
            "AND substr(value, -10) >= ? ORDER BY id DESC LIMIT ?",
            (self.user_id, earliest.isoformat(), last.isoformat() + "~", first.isoformat(), limit)).fetchall()
        return [memory_doc(int(r[0])) for r in rows]

    def set_item_text(self, memory_id: int, text: str) -> bool:
        """Replace an item's sentence; False when this user has no such item."""
        cur = self.db.execute("UPDATE memories SET text = ? WHERE id = ? AND user_id = ?",
                              (text, memory_id, self.user_id))
        return cur.rowcount > 0

    def superseded(self, turn_ids: list[int]) -> dict[int, datetime]:
        """Turns whose every fact has since changed, with when the first stopped being true."""
        if not turn_ids:
            return {}
        rows = self.db.execute(
            "SELECT s.turn_id, MIN(m.valid_until), SUM(m.valid_until IS NULL) FROM memory_sources s "
            "JOIN memories m ON m.id = s.memory_id WHERE m.user_id = ? AND m.kind IN ('fact', 'person') "
            f"AND s.turn_id IN ({','.join('?' * len(turn_ids))}) GROUP BY s.turn_id",
            (self.user_id, *turn_ids)).fetchall()
        return {int(r[0]): datetime.fromisoformat(r[1]) for r in rows if r[1] and not r[2]}

    def _sources(self, memory_ids: list[int]) -> dict[int, tuple[int, ...]]:
        if not memory_ids:
            return {}
        rows = self.db.execute(
            f"SELECT memory_id, turn_id FROM memory_sources WHERE memory_id IN ({','.join('?' * len(memory_ids))}) "
            "ORDER BY turn_id", tuple(memory_ids)).fetchall()
        out: dict[int, list[int]] = {}
        for memory_id, turn_id in rows:
            out.setdefault(int(memory_id), []).append(int(turn_id))
        return {k: tuple(v) for k, v in out.items()}

    # vectors ----------------------------------------------------------------------------------------
    def save_vector(self, doc: int, vector: npt.NDArray[np.float32]) -> None:
        self.db.execute("INSERT OR REPLACE INTO vectors(doc, user_id, vec) VALUES (?,?,?)",
                        (doc, self.user_id, vector.astype("<f4").tobytes()))

    def vectors(self) -> list[tuple[int, bytes]]:
        """Every (doc, raw float32 bytes) of this user."""
        rows = self.db.execute("SELECT doc, vec FROM vectors WHERE user_id = ?", (self.user_id,)).fetchall()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def drop_vectors(self, docs: list[int]) -> None:
        for doc in docs:
            self.db.execute("DELETE FROM vectors WHERE doc = ? AND user_id = ?", (doc, self.user_id))

    # vocabulary ------------------------------------------------------------------------------------
    def add_term(self, term: str, meaning: str) -> None:
        self.db.execute("INSERT INTO vocabulary(user_id, term, meaning, created_at) VALUES (?,?,?,?) "
                        "ON CONFLICT(user_id, term) DO UPDATE SET term = excluded.term, meaning = excluded.meaning",
                        (self.user_id, term, meaning, stamp(None)))

    def terms(self) -> dict[str, str]:
        rows = self.db.execute("SELECT term, meaning FROM vocabulary WHERE user_id = ? ORDER BY term",
                               (self.user_id,)).fetchall()
        return {str(t): str(m) for t, m in rows}

    def drop_term(self, term: str) -> None:
        self.db.execute("DELETE FROM vocabulary WHERE user_id = ? AND term = ?", (self.user_id, term))


def dumps(value: object) -> str:
    """Compact JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
