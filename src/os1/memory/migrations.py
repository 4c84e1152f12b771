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
]
