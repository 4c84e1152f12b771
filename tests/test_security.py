"""Issue 11's security findings at the level of the store, the CLI and pure logic: ids never reused, secrets
never redacted into a constant, API keys kept as hashes only, private files, and a sign-in throttle that slows a
guesser without locking the owner out. (The server-level findings are in test_security_server.py.)"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from os1.companion import Companion
from os1.config import Settings
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.migrations import MIGRATIONS
from os1.server.accounts import Accounts, digest
from os1.server.app import create_app
from os1.server.login import Throttle
from os1.skills.executor import Executor, installed_router
from os1.testing import FakeLLM
from tests.conftest import OS1
from tests.db_helpers import rows
from tests.server_helpers import ANSWERS, opener_for

PASSWORD = "correct horse battery"
REAL_KEY = "os1-" + "k" * 43
"""A key of the shape OS1 makes ("os1-" and 43 URL-safe characters)."""


def os1(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in the test's OS1 home."""
    return subprocess.run([*OS1, *args], input=stdin.decode(), capture_output=True, text=True, timeout=120,
                          check=False)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# 1. Ids are never reused ----------------------------------------------------------------------------------

def test_a_removed_accounts_id_never_goes_to_the_next_account(settings: Settings) -> None:
    db = Database(settings.db_path)
    try:
        accounts = Accounts(db)
        accounts.add("x", PASSWORD)
        x_id = db.user("x").user_id
        accounts.remove("x")
        accounts.add("y", PASSWORD)
        assert db.user("y").user_id != x_id
        accounts.add("x", PASSWORD)
        assert db.user("x").user_id not in (x_id, db.user("y").user_id)
    finally:
        db.close()


def old_database(path: Path) -> None:
    """A database as OS1 made it before this fix (schema 3): ada (1) and bob (2) with accounts, turns, memories,
    sign-ins and keys; ada's key in clear in her profile, bob's redacted into "(forgotten)" (its hash in
    api_keys); carl (3) removed, his full-text table left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        for script in MIGRATIONS[:3]:
            assert isinstance(script, str)
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 3")
        at = "2026-01-02T03:04:05+00:00"
        for user_id, name in ((1, "ada"), (2, "bob"), (3, "carl")):
            conn.execute("INSERT INTO users(id, name, created_at) VALUES (?,?,?)", (user_id, name, at))
            conn.execute("INSERT INTO sessions(id, user_id, started_at) VALUES (?,?,?)", (user_id, user_id, at))
            conn.execute("INSERT INTO turns(user_id, session_id, role, text, created_at) VALUES (?,?,?,?,?)",
                         (user_id, user_id, "user", f"{name} keeps bees", at))
            conn.execute("INSERT INTO memories(user_id, kind, text, valid_from, created_at) VALUES (?,?,?,?,?)",
                         (user_id, "fact", f"{name} keeps bees", at, at))
            conn.execute("INSERT INTO memory_sources(memory_id, turn_id) VALUES (?, ?)", (user_id, user_id))
            conn.execute("INSERT INTO accounts(user_id, password_hash, created_at) VALUES (?,?,?)",
                         (user_id, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", at))
            conn.execute("INSERT INTO logins(token_hash, user_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
                         (digest(f"token-{name}"), user_id, "csrf", at, "2999-01-01T00:00:00+00:00"))
            conn.execute(f"CREATE VIRTUAL TABLE search_{user_id} USING fts5(speaker, body, context)")
            conn.execute(f"INSERT INTO search_{user_id}(rowid, speaker, body, context) VALUES (2, ?, ?, '')",
                         (name, f"{name} keeps bees"))
        conn.execute("INSERT INTO profile(user_id, key, value, updated_at) VALUES (1, 'server.api_key', ?, ?)",
                     (REAL_KEY, at))
        conn.execute("INSERT INTO api_keys(key_hash, user_id) VALUES (?, 1)", (digest(REAL_KEY),))
        conn.execute("INSERT INTO profile(user_id, key, value, updated_at) VALUES (2, 'server.api_key', ?, ?)",
                     ("(forgotten)", at))
        conn.execute("INSERT INTO api_keys(key_hash, user_id) VALUES (?, 2)", (digest("(forgotten)"),))
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM users WHERE id = 3")  # carl removed; his search_3 stays behind
    finally:
        conn.close()


def test_the_migration_makes_ids_never_reused_and_keeps_every_row_and_key(settings: Settings) -> None:
    old_database(settings.db_path)
    before = {t: rows(settings.db_path, f"SELECT * FROM {t} ORDER BY 1") for t in
              ("users", "sessions", "turns", "memories", "memory_sources", "accounts", "logins")}
    db = Database(settings.db_path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        for table, kept in before.items():
            assert rows(settings.db_path, f"SELECT * FROM {table} ORDER BY 1") == kept, table
        assert rows(settings.db_path, "SELECT body FROM search_1") == [("ada keeps bees",)]
        # ids are never handed out again: not carl's (whose index was left behind), not one removed from now on
        dora = db.user("dora").user_id
        assert dora > 3
        Accounts(db).remove("bob")
        assert rows(settings.db_path, "SELECT COUNT(*) FROM turns WHERE user_id = 2") == [(0,)]  # cascades hold
        assert rows(settings.db_path, "SELECT COUNT(*) FROM logins WHERE user_id = 2") == [(0,)]
        assert db.user("erin").user_id > dora
    finally:
        db.close()
    # the clear key is gone from the profile, its hash works; the redacted "(forgotten)" key does not
    assert rows(settings.db_path, "SELECT COUNT(*) FROM profile WHERE key = 'server.api_key'") == [(0,)]
    assert REAL_KEY.encode() not in stored_bytes(settings.db_path)
    with TestClient(create_app(settings, opener=opener_for(FakeLLM())), base_url="http://127.0.0.1") as c:
        assert c.get("/v1/models", headers=bearer(REAL_KEY)).status_code == 200
        assert c.get("/v1/models", headers=bearer("(forgotten)")).status_code == 401


def stored_bytes(db: Path) -> bytes:
    """Everything on disk of the database: the file and its log."""
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


# 3. Forgetting never touches secrets or settings -----------------------------------------------------------

async def _first_boot_then(settings: Settings, *lines: str) -> None:
    db = Database(settings.db_path)
    store = db.user("local")
    memory = Memory(store)
    try:
        companion = Companion(store, FakeLLM(), memory=memory, skills=Executor(installed_router()))
        for line in [*ANSWERS, *lines]:
            [e async for e in companion.say(line)]
        await memory.flush()
    finally:
        memory.close()
        db.close()


def test_forgetting_os1_leaves_the_key_working_and_never_makes_forgotten_a_key(home: Path,
                                                                               settings: Settings) -> None:
    made = os1("key")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("os1-")
    db = Database(settings.db_path)
    try:
        store = db.user("local")
        store.set("settings.voice", "os1-voice")  # a setting that happens to name OS1, not the user's words
    finally:
        db.close()
    asyncio.run(_first_boot_then(settings, "My favourite program is OS1.", "forget what I told you about OS1",
                                 "yes"))
    profile = dict(rows(settings.db_path, "SELECT key, value FROM profile"))
    assert profile["settings.voice"] == "os1-voice"
    assert all(v != "(forgotten)" for k, v in profile.items() if not k.startswith("user."))
    with TestClient(create_app(settings, opener=opener_for(FakeLLM())), base_url="http://127.0.0.1") as c:
        assert c.get("/v1/models", headers=bearer("(forgotten)")).status_code == 401
        assert c.get("/v1/models", headers=bearer(key)).status_code == 200


# 4. API keys are kept as hashes only, and shown once ------------------------------------------------------

def test_a_key_is_stored_as_its_hash_only_and_shown_once(home: Path, settings: Settings) -> None:
    made = os1("key")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("os1-") and len(key) == 47
    assert key.encode() not in stored_bytes(settings.db_path)
    assert rows(settings.db_path, "SELECT key_hash FROM api_keys") == [(digest(key),)]
    again = os1("key")
    assert again.returncode == 0 and key not in again.stdout + again.stderr
    assert key[:8] in again.stdout and "os1 key --new" in again.stdout  # it says one exists and how to renew
    new = os1("key", "--new")
    assert new.returncode == 0
    new_key = new.stdout.strip()
    assert new_key.startswith("os1-") and new_key != key
    assert new_key.encode() not in stored_bytes(settings.db_path)
    with TestClient(create_app(settings, opener=opener_for(FakeLLM())), base_url="http://127.0.0.1") as c:
        assert c.get("/v1/models", headers=bearer(key)).status_code == 401
        assert c.get("/v1/models", headers=bearer(new_key)).status_code == 200


# 5. The data directory and the database files are private ----------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _database_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def test_a_new_database_and_its_folder_are_private(settings: Settings) -> None:
    db = Database(settings.db_path)
    try:
        db.user("local").set("user.name", "Theodore")
        assert _mode(settings.db_path.parent) == 0o700
        for path in _database_files(settings.db_path):
            assert path.exists() and _mode(path) == 0o600, path
    finally:
        db.close()


def test_an_existing_world_readable_database_is_made_private_on_open(settings: Settings) -> None:
    folder = settings.db_path.parent
    folder.mkdir(parents=True)
    other = sqlite3.connect(settings.db_path, isolation_level=None)  # keeps -wal and -shm in place
    try:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE t(x)")
        os.chmod(folder, 0o755)
        for path in _database_files(settings.db_path):
            os.chmod(path, 0o644)
        db = Database(settings.db_path)
        try:
            assert _mode(folder) == 0o700
            for path in _database_files(settings.db_path):
                assert _mode(path) == 0o600, path
        finally:
            db.close()
    finally:
        other.close()


def test_a_shared_folder_is_never_made_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database put straight into /tmp (sticky, everyone's) or the user's home keeps that folder's mode: only a
    folder of OS1's own is closed (run as root, every folder is 'ours')."""
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    db = Database(shared / "os1.db")
    db.close()
    assert _mode(shared) == 0o1777 and _mode(shared / "os1.db") == 0o600
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("HOME", str(home))
    db = Database(home / "os1.db")
    db.close()
    assert _mode(home) == 0o755


# 6. The sign-in throttle: slows a guesser, never locks the owner out, bounded memory -----------------------

def keep_guessing(throttle: Throttle, name: str, client: str, times: int, at: float = 0.0) -> float:
    """A guesser who fails `times` times, each as soon as it is let; the time of the last failure."""
    for _ in range(times):
        at += throttle.wait(name, client, at)
        throttle.failed(name, client, at)
    return at


def test_the_throttle_slows_a_guesser_with_a_growing_delay() -> None:
    throttle = Throttle()
    at, waits = 1000.0, []
    for _ in range(14):
        wait = throttle.wait("ada", "10.0.0.9", at)
        at += wait  # the guesser waits as long as it is told, then fails again
        assert throttle.wait("ada", "10.0.0.9", at) == 0
        throttle.failed("ada", "10.0.0.9", at)
        waits.append(throttle.wait("ada", "10.0.0.9", at))
    assert waits[0] == 0  # a typo costs nothing
    growing = [w for w in waits if w > 0]
    assert len(growing) >= 8 and all(b >= a for a, b in itertools.pairwise(growing))
    assert growing[-1] >= 8 * growing[0]
    assert throttle.wait("ada", "10.0.0.9", at + 100_000) == 0  # it is forgotten in time


def test_the_delay_is_capped_and_the_right_password_works_once_it_passes() -> None:
    throttle = Throttle()
    at = keep_guessing(throttle, "ada", "10.0.0.9", 200)
    wait = throttle.wait("ada", "10.0.0.9", at)
    assert 0 < wait <= 15 * 60
    assert throttle.wait("ada", "10.0.0.9", at + wait) == 0  # then the owner's password is checked again
    throttle.succeeded("ada", "10.0.0.9")
    assert throttle.wait("ada", "10.0.0.9", at + wait) == 0


def test_a_guesser_never_locks_the_owner_out() -> None:
    throttle = Throttle()
    at = keep_guessing(throttle, "ada", "203.0.113.7", 500)
    assert throttle.wait("ada", "203.0.113.7", at) > 0
    assert throttle.wait("ada", "192.168.1.20", at) == 0  # ada, from her own machine


def test_one_client_trying_many_names_is_slowed_too() -> None:
    throttle = Throttle()
    for n in range(40):
        throttle.failed(f"name{n}", "203.0.113.7", 0.0)
    assert throttle.wait("someone-new", "203.0.113.7", 0.0) > 0
    assert throttle.wait("someone-new", "192.168.1.20", 0.0) == 0


def test_the_throttle_keeps_bounded_memory() -> None:
    throttle = Throttle(max_entries=1000)
    for n in range(50_000):
        throttle.failed(f"name{n}", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", float(n))
        if n % 100 == 0:  # a guesser who keeps at it stays remembered while one-off names are let go
            throttle.failed("ada", "203.0.113.7", float(n))
    assert len(throttle) <= 1000
    assert throttle.wait("ada", "203.0.113.7", 50_000.0) > 0
