"""Numbered schema migrations; `PRAGMA user_version` records the last one applied.

A migration is an SQL script run in one transaction. A `Rebuild` is one that recreates a table other tables
refer to (SQLite cannot change a column's definition in place): it runs with foreign keys off, so dropping the
old table deletes nothing that refers to it, and the foreign keys are checked before it commits. Migrations may
call `os1_sha256(text)` (the hex SHA-256 that `server/accounts.py digest` makes), which the database provides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rebuild:
    """A migration that recreates a table other tables refer to (run with foreign keys off, checked after)."""

    sql: str


KEY_SHAPE_SQL = "value GLOB 'os1-*' AND length(value) = 47 AND substr(value, 5) NOT GLOB '*[^A-Za-z0-9_-]*'"
"""Whether a profile `value` is a key OS1 made ("os1-" and 43 URL-safe characters), in SQL."""

MIGRATIONS: list[str | Rebuild] = [
    # 1: users, conversation sessions, every turn verbatim, and a per-user profile.
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        started_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id, id);
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed')),
        created_at TEXT NOT NULL
    );
    CREATE INDEX turns_user ON turns(user_id, id);
    CREATE TABLE profile (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    """,
    # 2: long-term memory: who spoke each turn, derived memory items with validity, their source turns,
    # vectors, vocabulary. (Each user's full-text index is a table of its own, `search_<user id>`, made by
    # `MemoryTables` on first use: rowid = 2*turn_id or 2*memory_id+1, a turn's context column holds its
    # neighbours.)
    """
    ALTER TABLE turns ADD COLUMN speaker TEXT NOT NULL DEFAULT '';
    ALTER TABLE turns ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX turns_pending ON turns(user_id, indexed);
    CREATE TABLE memories (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        attribute TEXT NOT NULL DEFAULT '',
        value TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        importance REAL NOT NULL DEFAULT 0.5,
        valid_from TEXT NOT NULL,
        valid_until TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX memories_user ON memories(user_id, kind);
    CREATE INDEX memories_key ON memories(user_id, subject, attribute, valid_until);
    CREATE TABLE memory_sources (
        memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        PRIMARY KEY (memory_id, turn_id)
    );
    CREATE INDEX memory_sources_turn ON memory_sources(turn_id);
    CREATE TABLE vectors (
        doc INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        vec BLOB NOT NULL
    );
    CREATE INDEX vectors_user ON vectors(user_id);
    CREATE TABLE vocabulary (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        term TEXT NOT NULL COLLATE NOCASE,
        meaning TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, term)
    );
    """,
    # 3: accounts of the multi-user server: a password hash per user, sign-ins (only a hash of each cookie's
    # token is kept, with the sign-in's CSRF token and expiry) and API keys (their hashes, to find the user).
    """
    CREATE TABLE accounts (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE logins (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX logins_user ON logins(user_id);
    CREATE TABLE api_keys (
        key_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE
    );
    """,
    # 4: a user's id is never given to anyone else (AUTOINCREMENT; the counter starts above every id in use and
    # every id a full-text table `search_<id>` was left behind for), and API keys are kept as hashes only, with
    # a hint (their first 8 characters) and the date they were made. A key kept in clear in a profile moves to
    # its hash; a stored value that is not a key OS1 made (such as one a "forget" turned into "(forgotten)") is
    # dropped with its hash, so it opens nothing and a new key is made on request.
    Rebuild(f"""
    CREATE TABLE users_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    INSERT INTO users_new(id, name, created_at) SELECT id, name, created_at FROM users ORDER BY id;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    DELETE FROM sqlite_sequence WHERE name = 'users';
    INSERT INTO sqlite_sequence(name, seq) SELECT 'users', MAX(0, COALESCE((SELECT MAX(id) FROM users), 0),
        COALESCE((SELECT MAX(CAST(substr(name, 8) AS INTEGER)) FROM sqlite_master
                  WHERE type = 'table' AND name GLOB 'search_[0-9]*'), 0));
    ALTER TABLE api_keys ADD COLUMN hint TEXT NOT NULL DEFAULT '';
    ALTER TABLE api_keys ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
    DELETE FROM api_keys WHERE user_id IN (SELECT user_id FROM profile WHERE key = 'server.api_key');
    INSERT INTO api_keys(key_hash, user_id, hint, created_at)
        SELECT os1_sha256(value), user_id, substr(value, 1, 8), updated_at FROM profile
        WHERE key = 'server.api_key' AND {KEY_SHAPE_SQL};
    DELETE FROM profile WHERE key = 'server.api_key'
    """),
    # 5: dated events and plans by their days (an event's or plan's value is its ISO date or "start/end" span), so
    # "what's on next week?" finds them without reading every dated item (memory/tables.py `happening`).
    """
    CREATE INDEX memories_days ON memories(user_id, value) WHERE kind IN ('event', 'plan');
    """,
    # 6: the user's lists and notes (skills/lists.py): an item per row, in the order added.
    """
    CREATE TABLE list_items (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        list TEXT NOT NULL,
        item TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX list_items_user ON list_items(user_id, list, id);
    """,
    # 7: timers and alarms (skills/timers.py): when each goes off, and once it has (rung_at).
    """
    CREATE TABLE timers (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('timer', 'alarm')),
        label TEXT NOT NULL DEFAULT '',
        due_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rung_at TEXT
    );
    CREATE INDEX timers_due ON timers(user_id, rung_at, due_at);
    """,
]
