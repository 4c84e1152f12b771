"""Numbered schema migrations; `PRAGMA user_version` records the last one applied."""

from __future__ import annotations

MIGRATIONS: list[str] = [
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
    # 4: dated events and plans by their days (an event's or plan's value is its ISO date or "start/end" span), so
    # "what's on next week?" finds them without reading every dated item (memory/tables.py `happening`).
    """
    CREATE INDEX memories_days ON memories(user_id, value) WHERE kind IN ('event', 'plan');
    """,
]
