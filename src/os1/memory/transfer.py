"""Export and import one user's memory (their lists, notes and pending timers too) as one JSON file that
round-trips exactly.

References inside the file are positions (the n-th session, the n-th turn), not database ids, so a file
imported anywhere exports back to the same bytes (bar `exported_at`). Vectors and the full-text index are
derived data and are rebuilt after an import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from os1.errors import InputError
from os1.memory.api import Memory
from os1.memory.ranking import item_document
from os1.memory.store import now, stamp
from os1.memory.tables import EMBED, MemoryTables, memory_doc

FORMAT = "os1-memory"
VERSION = 1
TURN_FIELDS = ("session", "role", "speaker", "text", "status", "at")
LIST_FIELDS = ("list", "item", "at")
TIMER_FIELDS = ("kind", "label", "due", "at")
ITEM_FIELDS = ("kind", "subject", "attribute", "value", "text", "importance", "valid_from", "valid_until", "sources")

SECRET_KEYS = frozenset({"server.api_key"})
"""Profile entries that never leave the machine in an export (a key made there stays there)."""

def export_memory(memory: Memory) -> dict[str, Any]:
    """Everything OS1 keeps of this user, as plain JSON-able data."""
    db, user = memory.tables.db, memory.tables.user_id
    sessions = db.execute("SELECT id, started_at FROM sessions WHERE user_id = ? ORDER BY id", (user,)).fetchall()
    session_pos = {int(r[0]): i for i, r in enumerate(sessions)}
    turn_rows = db.execute("SELECT id, session_id, role, speaker, text, status, created_at FROM turns "
                           "WHERE user_id = ? ORDER BY id", (user,)).fetchall()
    turn_pos = {int(r[0]): i for i, r in enumerate(turn_rows)}
    items = []
    for item in reversed(memory.tables.items(limit=10**9)):
        items.append({"kind": item.kind, "subject": item.subject, "attribute": item.attribute, "value": item.value,
                      "text": item.text, "importance": item.importance, "valid_from": stamp(item.valid_from),
                      "valid_until": stamp(item.valid_until) if item.valid_until else None,
                      "sources": [turn_pos[t] for t in item.turn_ids if t in turn_pos]})
    return {
        "format": FORMAT, "version": VERSION, "exported_at": stamp(now()), "user": memory.store.name,
        "profile": {k: v for k, v in memory.store.profile().items() if k not in SECRET_KEYS},
        "sessions": [str(r[1]) for r in sessions],
        "turns": [{"session": session_pos.get(r[1]) if r[1] is not None else None, "role": r[2], "speaker": r[3],
                   "text": r[4], "status": r[5], "at": r[6]} for r in turn_rows],
        "memories": items,
        "vocabulary": memory.tables.terms(),
        "lists": [{"list": r[0], "item": r[1], "at": r[2]} for r in db.execute(
            "SELECT list, item, created_at FROM list_items WHERE user_id = ? ORDER BY id", (user,))],
        "timers": [{"kind": r[0], "label": r[1], "due": r[2], "at": r[3]} for r in db.execute(
            "SELECT kind, label, due_at, created_at FROM timers WHERE user_id = ? AND rung_at IS NULL ORDER BY id",
            (user,))],
    }


def write_export(memory: Memory, path: Path) -> int:
    """Write the export atomically; returns the number of turns."""
    data = export_memory(memory)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return len(data["turns"])


def read_export(path: Path) -> dict[str, Any]:
    """Load and check an export file; every problem is an InputError and nothing is written."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"No file at {path}.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a complete OS1 memory export (it may be half-written): {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path} is not an OS1 memory export.")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise InputError(f"{path} was written by a newer OS1 (format version {data.get('version')}).",
                         hint="Upgrade OS1 to import it.")
    _check(data)
    return data


def _check(data: dict[str, Any]) -> None:
    """Structure and cross-references, before anything touches the database."""
    try:
        sessions, turns, items = list(data["sessions"]), list(data["turns"]), list(data["memories"])
        assert isinstance(data["profile"], dict) and isinstance(data["vocabulary"], dict)
        for turn in turns:
            assert set(TURN_FIELDS) <= set(turn) and turn["role"] in ("user", "assistant")
            assert turn["session"] is None or 0 <= int(turn["session"]) < len(sessions)
            assert isinstance(turn["text"], str)
        for item in items:
            assert set(ITEM_FIELDS) <= set(item) and isinstance(item["text"], str)
            assert all(0 <= int(s) < len(turns) for s in item["sources"])
        for entry in data.get("lists", []):  # files from before lists have none
            assert set(LIST_FIELDS) <= set(entry) and all(isinstance(entry[f], str) for f in LIST_FIELDS)
        for timer in data.get("timers", []):  # pending timers and alarms; files from before them have none
            assert set(TIMER_FIELDS) <= set(timer) and timer["kind"] in ("timer", "alarm")
            assert all(isinstance(timer[f], str) for f in TIMER_FIELDS)
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise InputError("The export file is damaged: its contents do not fit together.") from exc


def import_memory(memory: Memory, data: dict[str, Any]) -> int:
    """Load an export into a user who has no conversation yet, in one transaction; returns turns imported."""
    if memory.store.count_turns():
        raise InputError("This OS1 already holds conversations; import only into a fresh one.",
                         hint="Run `os1 reset` first, or import with another --home.")
    db, user = memory.tables.db, memory.tables.user_id
    db.execute("BEGIN IMMEDIATE")
    try:
        session_ids = [int(db.execute("INSERT INTO sessions(user_id, started_at) VALUES (?, ?)",
                                      (user, s)).lastrowid or 0) for s in data["sessions"]]
        turn_ids = []
        for t in data["turns"]:
            session = session_ids[t["session"]] if t["session"] is not None else None
            # their items come with the file: only the vectors are left to make (EMBED)
            cur = db.execute("INSERT INTO turns(user_id, session_id, role, speaker, text, status, created_at, indexed) "
                             "VALUES (?,?,?,?,?,?,?,?)", (user, session, t["role"], t["speaker"], t["text"],
                                                           t["status"], t["at"], EMBED))
            turn_ids.append(int(cur.lastrowid or 0))
        _import_items(memory.tables, data["memories"], turn_ids)
        for key, value in data["profile"].items():
            if str(key) not in SECRET_KEYS:
                memory.store.set(str(key), str(value))
        for term, meaning in data["vocabulary"].items():
            memory.tables.add_term(str(term), str(meaning))
        for entry in data.get("lists", []):
            db.execute("INSERT INTO list_items(user_id, list, item, created_at) VALUES (?,?,?,?)",
                       (user, entry["list"], entry["item"], entry["at"]))
        for timer in data.get("timers", []):
            db.execute("INSERT INTO timers(user_id, kind, label, due_at, created_at) VALUES (?,?,?,?,?)",
                       (user, timer["kind"], timer["label"], timer["due"], timer["at"]))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    for turn_id in turn_ids:
        memory.index_turn(turn_id)
    return len(turn_ids)


def _import_items(tables: MemoryTables, items: list[dict[str, Any]], turn_ids: list[int]) -> None:
    for item in items:
        cur = tables.db.execute(
            "INSERT INTO memories(user_id, kind, subject, attribute, value, text, importance, valid_from, "
            "valid_until, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (tables.user_id, item["kind"], item["subject"], item["attribute"], item["value"], item["text"],
             float(item["importance"]), item["valid_from"], item["valid_until"], stamp(None)))
        memory_id = int(cur.lastrowid or 0)
        for pos in item["sources"]:
            tables.db.execute("INSERT OR IGNORE INTO memory_sources(memory_id, turn_id) VALUES (?, ?)",
                              (memory_id, turn_ids[int(pos)]))
        tables.index(memory_doc(memory_id), item_document(item["subject"], item["text"]))
