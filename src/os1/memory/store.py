"""The SQLite store: WAL, full sync, numbered migrations, and every read and write scoped to one user.

A damaged or locked database is refused with a clear error and never overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from os1.errors import DatabaseCorrupt, DatabaseLocked, StorageError
from os1.memory.migrations import MIGRATIONS, Rebuild

SQLITE_MAGIC = b"SQLite format 3\x00"
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
"""Modes of the data directory and of the database files: everything in them is one person's life."""
_opened: dict[str, int] = {}
"""How many `Database`s of this process have each file open. Closing any descriptor of a file drops every POSIX
lock this process holds on it, sqlite's included (another process's sqlite may then take the database for its
own and delete its log under us), so a file this process already has open is never opened again but by sqlite."""
_opened_lock = threading.Lock()
TurnStatus = Literal["complete", "streaming", "interrupted", "failed"]


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC).astimezone()


def stamp(at: datetime | None) -> str:
    """ISO 8601 with offset, seconds precision."""
    return (at or now()).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Turn:
    """One thing said in a conversation, kept verbatim."""

    id: int
    role: Literal["user", "assistant"]
    text: str
    status: TurnStatus
    created_at: datetime
    session_id: int | None
    speaker: str = ""
    """Who said it, by name ('' before first boot: the role says enough)."""


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer or an alarm that has not gone off yet."""

    id: int
    kind: str
    """'timer' or 'alarm'."""
    label: str
    due_at: datetime
    created_at: datetime


TURN_COLUMNS = "id, role, text, status, created_at, session_id, speaker"


def turn_from_row(row: Any) -> Turn:
    """A Turn from a row selected with TURN_COLUMNS."""
    return Turn(int(row[0]), row[1], str(row[2]), row[3], datetime.fromisoformat(str(row[4])), row[5], str(row[6]))


def _refuse(path: Path, exc: sqlite3.Error) -> StorageError:
    """Turn sqlite's error into a friendly refusal that leaves the file alone."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLocked(f"The database {path} is in use by another program.",
                              hint="Close the other OS1 (or whatever holds it) and try again.")
    return DatabaseCorrupt(f"The database {path} is damaged ({exc}). OS1 will not touch it.",
                           hint=f"Move it aside (mv '{path}' '{path}.broken') to start afresh, "
                           "or restore a backup.")


STATEMENTS_CACHED = 1024
"""Prepared statements a connection keeps (Python's default is 128). Each user's full-text index is its own table,
so its statements are the user's own: with a server's many users at once, 128 did not keep even one turn's
statements from its first use to its last."""


class Database:
    """One SQLite file shared by every user; hand out `UserStore`s, never raw queries.

    The file, its WAL and shared-memory files are mode 600 and their directory 700, also when they were made
    wider before (fixed on every open)."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 2000, group_sync: bool = False) -> None:
        self.path = path
        self.group_sync = group_sync
        """Commit without waiting for the disk, and sync the log for everyone waiting at once (`synced`): a
        server's many users, whose commits on one connection would otherwise each stop its event loop for a
        sync."""
        self._commits = 0
        """Statements run so far (each may have committed something)."""
        self._synced = 0
        """How many of them the last finished sync of the log covers."""
        self._sync_round: asyncio.Future[None] | None = None
        self._syncer: ThreadPoolExecutor | None = None
        self._key = str(path.resolve())
        with _opened_lock:
            if self._key not in _opened:  # checked when it was first opened; see `_opened`
                self._check_header()
                _make_private(path)
            _opened[self._key] = _opened.get(self._key, 0) + 1
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                         cached_statements=STATEMENTS_CACHED,
                                         timeout=busy_timeout_ms / 1000)
            self._conn.create_function("os1_sha256", 1, _sha256, deterministic=True)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._conn.execute(f"PRAGMA synchronous = {'NORMAL' if group_sync else 'FULL'}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA secure_delete = ON")  # forgotten content is overwritten, not left in free pages
            check = self._conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok" or mode.lower() != "wal":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            self._migrate()
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise _refuse(path, exc) from exc
            raise
        _make_private(path)  # the WAL and shared-memory files sqlite made just now

    def _check_header(self) -> None:
        """A non-empty file that is not SQLite is somebody's data: refuse before sqlite touches it."""
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as fh:
                if fh.read(16) != SQLITE_MAGIC:
                    raise _refuse(self.path, sqlite3.DatabaseError("file is not a database"))

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StorageError(f"The database {self.path} was made by a newer OS1 (schema {version}).",
                               hint="Upgrade OS1 (pip install -U os1) to open it.")
        for number in range(version + 1, len(MIGRATIONS) + 1):
            migration = MIGRATIONS[number - 1]
            rebuild = isinstance(migration, Rebuild)
            if rebuild:  # outside the transaction: inside one sqlite ignores it
                self._conn.execute("PRAGMA foreign_keys = OFF")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    broken = self._foreign_key_problems() if rebuild else set()
                    for statement in (migration.sql if isinstance(migration, Rebuild) else migration).split(";"):
                        if statement.strip():
                            self._conn.execute(statement)
                    if rebuild and self._foreign_key_problems() - broken:
                        raise sqlite3.IntegrityError(f"migration {number} would break a foreign key")
                    self._conn.execute(f"PRAGMA user_version = {number}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            finally:
                if rebuild:
                    self._conn.execute("PRAGMA foreign_keys = ON")

    def _foreign_key_problems(self) -> set[tuple[object, ...]]:
        return {tuple(row) for row in self._conn.execute("PRAGMA foreign_key_check")}

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """Run one statement, with sqlite's errors turned into OS1's."""
        self._commits += 1
        try:
            return self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise _refuse(self.path, exc) from exc

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """Run the statements inside as one transaction: one commit, so one sync, instead of one per statement
        (a turn and its full-text entries are durable together). Nested use joins the outer transaction. Never
        hold one across an `await`: other users' statements on the shared connection would join it.

        `durable=False` commits without waiting for the disk (`synchronous = NORMAL` for that commit): for what
        can be made again or is replaced soon, never for what the user said or a finished reply. In WAL mode
        the next durable commit syncs the log with everything written before it, and a power cut can lose only
        the latest undurable commits, whole: a reply's placeholder (its finished text is a durable commit) or
        derived memory (items, vectors, background states), which is derived again from the turns.
        """
        if self._conn.in_transaction:
            yield
            return
        durable = durable or self.group_sync  # then no commit waits for the disk: `synced` does
        if not durable:
            self.execute("PRAGMA synchronous = NORMAL")
        try:
            self.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.execute("ROLLBACK")
                raise
            self.execute("COMMIT")
        finally:
            if not durable:
                self.execute("PRAGMA synchronous = FULL")

    @property
    def unsynced(self) -> bool:
        """Whether something committed may not be on disk yet (only when the database syncs in groups)."""
        return self.group_sync and self._synced < self._commits

    async def synced(self) -> None:
        """Return once everything committed so far is on disk: at once, unless the database syncs in groups
        (`group_sync`); then one sync of the log, on a thread, covers every commit made before it began, and
        the event loop serves others meanwhile. With `synchronous = NORMAL` SQLite keeps the log consistent (a
        power cut loses only the newest commits, whole) but does not sync it at each commit; this does, for
        all who wait, before any of them says a thing is stored."""
        if not self.group_sync:
            return
        wanted = self._commits
        while self._synced < wanted:
            if self._sync_round is None or self._sync_round.done():
                self._sync_round = asyncio.ensure_future(self._sync_log())
            await asyncio.shield(self._sync_round)

    async def _sync_log(self) -> None:
        covered = self._commits
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-sync")
        await asyncio.get_running_loop().run_in_executor(self._syncer, self._fsync_log)
        self._synced = max(self._synced, covered)

    def _fsync_log(self) -> None:
        # fsync flushes the file's data whichever descriptor names it. SQLite holds no lock on the log itself
        # (its WAL locks are on the -shm file), so closing this descriptor releases none of SQLite's locks.
        try:
            fd = os.open(self.path.with_name(self.path.name + "-wal"), os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def user(self, name: str) -> UserStore:
        """The store of one user, created on first use."""
        row = self.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:  # only then: an ignored insert would still use up an id (ids are never reused)
            self.execute("INSERT OR IGNORE INTO users(name, created_at) VALUES (?, ?)", (name, stamp(None)))
            row = self.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        return UserStore(self, int(row[0]), name)

    def close(self) -> None:
        if self._syncer is not None:  # set before anything in __init__ can fail
            self._syncer.shutdown(wait=True)
            self._syncer = None
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None  # type: ignore[assignment]
        with _opened_lock:
            if getattr(self, "_key", None) in _opened:
                left = _opened.pop(self._key) - 1
                if left > 0:
                    _opened[self._key] = left
            self._key = ""


def _sha256(text: str | None) -> str | None:
    """`os1_sha256()` for migrations: the hex SHA-256 of a text (as `server/accounts.py digest`)."""
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def _make_private(path: Path) -> None:
    """Make the database's directory 700 when it is OS1's own (ours, and neither sticky like /tmp nor a home
    folder or /), and the database files 600, creating the database file so that sqlite's WAL and shared-memory
    files inherit its mode."""
    folder = path.parent
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        info = folder.stat()
        shared = info.st_mode & stat.S_ISVTX or folder.resolve() in (Path.home().resolve(), Path("/"))
        if os.name == "posix" and info.st_uid == os.getuid() and not shared:  # never /tmp or a home folder
            os.chmod(folder, PRIVATE_FOLDER)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(file, PRIVATE_FILE)


class UserStore:
    """All that OS1 keeps of one user; every query is bound to this user's id."""

    def __init__(self, db: Database, user_id: int, name: str) -> None:
        self._db = db
        self.user_id = user_id
        self.name = name

    def transaction(self, *, durable: bool = True) -> contextlib.AbstractContextManager[None]:
        """One commit for the statements inside (`Database.transaction`)."""
        return self._db.transaction(durable=durable)

    async def synced(self) -> None:
        """Return once everything committed so far is on disk (`Database.synced`)."""
        await self._db.synced()

    def start_session(self, at: datetime | None = None) -> int:
        """Open a conversation session; turns carry its id."""
        cur = self._db.execute("INSERT INTO sessions(user_id, started_at) VALUES (?, ?)",
                               (self.user_id, stamp(at)))
        return int(cur.lastrowid or 0)

    def add_turn(self, role: Literal["user", "assistant"], text: str, *, session_id: int | None = None,
                 status: TurnStatus = "complete", at: datetime | None = None, speaker: str = "") -> int:
        """Store a turn durably (committed and synced) and return its id."""
        cur = self._db.execute(
            "INSERT INTO turns(user_id, session_id, role, text, status, created_at, speaker) VALUES (?,?,?,?,?,?,?)",
            (self.user_id, session_id, role, text, status, stamp(at), speaker))
        return int(cur.lastrowid or 0)

    def update_turn(self, turn_id: int, text: str, status: TurnStatus) -> None:
        """Replace a streaming turn's text and status."""
        self._db.execute("UPDATE turns SET text = ?, status = ? WHERE id = ? AND user_id = ?",
                         (text, status, turn_id, self.user_id))

    def delete_turn(self, turn_id: int) -> None:
        """Remove one turn (an empty reply that failed)."""
        self._db.execute("DELETE FROM turns WHERE id = ? AND user_id = ?", (turn_id, self.user_id))

    def recent_turns(self, limit: int = 50) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        rows = self._db.execute(
            f"SELECT {TURN_COLUMNS} FROM turns WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (self.user_id, limit)).fetchall()
        return [turn_from_row(r) for r in reversed(rows)]

    def turns_by_id(self, ids: list[int]) -> dict[int, Turn]:
        """This user's turns with the given ids."""
        found: dict[int, Turn] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT {TURN_COLUMNS} FROM turns WHERE user_id = ? AND id IN ({marks})",
                                    (self.user_id, *chunk)).fetchall()
            found.update({int(r[0]): turn_from_row(r) for r in rows})
        return found

    def count_turns(self) -> int:
        """How many turns this user has."""
        return int(self._db.execute("SELECT COUNT(*) FROM turns WHERE user_id = ?",
                                    (self.user_id,)).fetchone()[0])

    def recover_streaming(self) -> int:
        """Mark replies left 'streaming' by a crash as 'interrupted'; returns how many."""
        cur = self._db.execute("UPDATE turns SET status = 'interrupted' "
                               "WHERE user_id = ? AND status = 'streaming'", (self.user_id,))
        return cur.rowcount

    def get(self, key: str, default: str = "") -> str:
        """A profile value."""
        row = self._db.execute("SELECT value FROM profile WHERE user_id = ? AND key = ?",
                               (self.user_id, key)).fetchone()
        return str(row[0]) if row else default

    def set(self, key: str, value: str) -> None:
        """Store a profile value durably."""
        self._db.execute(
            "INSERT INTO profile(user_id, key, value, updated_at) VALUES (?,?,?,?) ON CONFLICT(user_id, key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (self.user_id, key, value, stamp(None)))

    def list_items(self, name: str) -> list[tuple[int, str]]:
        """The items of the user's list `name` (id, text), oldest first."""
        rows = self._db.execute("SELECT id, item FROM list_items WHERE user_id = ? AND list = ? ORDER BY id",
                                (self.user_id, name)).fetchall()
        return [(int(i), str(t)) for i, t in rows]

    def list_names(self) -> list[str]:
        """The user's lists that have items, the one added to last first."""
        rows = self._db.execute("SELECT list FROM list_items WHERE user_id = ? GROUP BY list ORDER BY MAX(id) DESC",
                                (self.user_id,)).fetchall()
        return [str(r[0]) for r in rows]

    def add_list_item(self, name: str, item: str, at: datetime | None = None) -> int:
        """Add `item` to the list `name` durably; its id."""
        with self.transaction():
            cur = self._db.execute("INSERT INTO list_items(user_id, list, item, created_at) VALUES (?,?,?,?)",
                                   (self.user_id, name, item, stamp(at)))
        return int(cur.lastrowid or 0)

    def remove_list_items(self, ids: list[int]) -> None:
        """Delete these items of the user's lists durably."""
        with self.transaction():
            for item_id in ids:
                self._db.execute("DELETE FROM list_items WHERE id = ? AND user_id = ?", (item_id, self.user_id))

    def add_timer(self, kind: Literal["timer", "alarm"], due_at: datetime, label: str = "",
                  at: datetime | None = None) -> int:
        """A timer or an alarm, durably; its id."""
        with self.transaction():
            cur = self._db.execute("INSERT INTO timers(user_id, kind, label, due_at, created_at) VALUES (?,?,?,?,?)",
                                   (self.user_id, kind, label, stamp(due_at.astimezone(UTC)), stamp(at)))
        return int(cur.lastrowid or 0)

    def timers(self) -> list[Timer]:
        """The timers and alarms that have not gone off yet, soonest first."""
        rows = self._db.execute("SELECT id, kind, label, due_at, created_at FROM timers WHERE user_id = ? "
                                "AND rung_at IS NULL ORDER BY due_at, id", (self.user_id,)).fetchall()
        return [Timer(int(r[0]), str(r[1]), str(r[2]), datetime.fromisoformat(str(r[3])),
                      datetime.fromisoformat(str(r[4]))) for r in rows]

    def remove_timers(self, ids: list[int]) -> None:
        """Delete these timers or alarms durably."""
        with self.transaction():
            for timer_id in ids:
                self._db.execute("DELETE FROM timers WHERE id = ? AND user_id = ?", (timer_id, self.user_id))

    def ring(self, timer_id: int, at: datetime | None = None) -> bool:
        """Mark a timer as gone off, once: False if it already had (another connection rang it) or is gone."""
        with self.transaction():
            cur = self._db.execute("UPDATE timers SET rung_at = ? WHERE id = ? AND user_id = ? AND rung_at IS NULL",
                                   (stamp(at), timer_id, self.user_id))
        return cur.rowcount == 1

    def profile(self) -> dict[str, str]:
        """Every profile value of this user."""
        rows = self._db.execute("SELECT key, value FROM profile WHERE user_id = ? ORDER BY key",
                                (self.user_id,)).fetchall()
        return {str(k): str(v) for k, v in rows}
