"""The SQLite store: durable turns, migrations, per-user scoping, refusing damaged or locked files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from os1.errors import DatabaseCorrupt, DatabaseLocked, StorageError
from os1.memory import Database
from os1.memory.migrations import MIGRATIONS


def test_turns_are_kept_verbatim_and_in_order(store) -> None:
    session = store.start_session()
    ids = [store.add_turn("user", "hello 👋 \"AND (", session_id=session),
           store.add_turn("assistant", "hi", session_id=session)]
    turns = store.recent_turns()
    assert [t.id for t in turns] == ids
    assert turns[0].text == "hello 👋 \"AND ("
    assert turns[0].session_id == session


def test_wal_mode_and_schema_version(db: Database, settings) -> None:
    conn = sqlite3.connect(settings.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_turn_is_readable_by_another_connection_right_after_add(store, settings) -> None:
    store.add_turn("user", "durable?")
    other = sqlite3.connect(settings.db_path)
    assert other.execute("SELECT text FROM turns").fetchall() == [("durable?",)]


def test_users_do_not_see_each_other(db: Database) -> None:
    alice, bob = db.user("alice"), db.user("bob")
    alice.add_turn("user", "alice secret")
    alice.set("user.name", "Alice")
    assert bob.recent_turns() == []
    assert bob.profile() == {}
    turn_id = alice.recent_turns()[0].id
    bob.update_turn(turn_id, "overwritten", "complete")
    bob.delete_turn(turn_id)
    assert alice.recent_turns()[0].text == "alice secret"


def test_streaming_replies_left_by_a_crash_become_interrupted(store) -> None:
    turn = store.add_turn("assistant", "half a rep", status="streaming")
    assert store.recover_streaming() == 1
    assert store.recent_turns()[0].status == "interrupted"
    assert store.recent_turns()[0].id == turn


def test_reopening_keeps_everything(settings) -> None:
    first = Database(settings.db_path)
    first.user("local").add_turn("user", "remember me")
    first.close()
    again = Database(settings.db_path)
    assert again.user("local").recent_turns()[0].text == "remember me"
    again.close()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    junk = b"my diary, not a database\n" * 100
    path.write_bytes(junk)
    with pytest.raises(DatabaseCorrupt) as info:
        Database(path)
    assert "will not touch" in info.value.message and "mv" in info.value.hint
    assert path.read_bytes() == junk


def test_a_damaged_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    db = Database(path)
    store = db.user("local")
    for i in range(300):
        store.add_turn("user", f"turn {i} " + "x" * 200)
    db.close()
    data = bytearray(path.read_bytes())
    data[4096:12288] = b"\xff" * 8192  # smash pages after the header
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseCorrupt):
        Database(path)
    assert path.read_bytes() == bytes(data)


def test_a_locked_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    Database(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE hold(x)")
    try:
        with pytest.raises(DatabaseLocked) as info:
            Database(path, busy_timeout_ms=100)
        assert "in use" in info.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_database_from_a_newer_os1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StorageError, match="newer OS1"):
        Database(path)


def test_profile_values_update_in_place(store) -> None:
    store.set("os.name", "Samantha")
    store.set("os.name", "Sam")
    assert store.get("os.name") == "Sam"
    assert store.get("missing", "default") == "default"


def test_an_undurable_transaction_leaves_the_connection_synced_even_when_it_fails(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction(durable=False):
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL inside
        raise RuntimeError
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    with db.transaction(), db.transaction(durable=False):  # joining a durable one: it stays durable
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2


async def test_a_server_database_syncs_its_log_for_many_commits_at_once(settings, monkeypatch) -> None:
    """`group_sync`: commits do not wait for the disk; `synced` returns once one sync of the log, begun after
    the caller's commit, is done, and one sync serves everyone who waited meanwhile."""
    import asyncio
    import os
    import time

    from os1.memory import store as store_module

    db = Database(settings.db_path, group_sync=True)
    synced_files: list[str] = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        synced_files.append(os.readlink(f"/proc/self/fd/{fd}"))
        time.sleep(0.02)
        real_fsync(fd)

    monkeypatch.setattr(store_module.os, "fsync", slow_fsync)
    try:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: no commit waits for the disk
        users = [db.user(f"user{i}") for i in range(40)]

        async def say(user) -> None:
            with user.transaction():
                user.add_turn("user", f"I am {user.name}")
            committed = db._commits
            assert db.unsynced
            await user.synced()
            assert db._synced >= committed  # a sync begun after this commit has finished

        await asyncio.gather(*(say(u) for u in users))
        assert not db.unsynced
        assert 1 <= len(synced_files) <= 3, synced_files  # 40 commits, one or two syncs of the log
        assert all(f.endswith("os1.db-wal") for f in synced_files)
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == 40
    finally:
        db.close()


async def test_a_turn_is_reported_stored_only_once_the_log_is_synced(settings) -> None:
    from os1.events import ReplyDone, TurnStored
    from os1.testing import FakeLLM
    from tests.test_companion import onboarded

    db = Database(settings.db_path, group_sync=True)
    try:
        companion = await onboarded(db.user("ada"), FakeLLM(replies=["Tell me more."]))
        seen = []
        async for event in companion.say("I found the divorce papers"):
            if isinstance(event, TurnStored | ReplyDone):
                seen.append((type(event).__name__, db.unsynced))
        assert seen == [("TurnStored", False), ("ReplyDone", False)]
    finally:
        db.close()
