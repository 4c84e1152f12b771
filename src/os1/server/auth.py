"""The per-user API key of the OpenAI-compatible API, kept as its SHA-256 only.

A key is shown once, when it is made (`os1 key` the first time, `os1 key --new`, the settings page's "Make a new
key"); afterwards OS1 can say only that one exists, with a hint (its first 8 characters) and its date. A request's
key finds its user by the hash; anything that is not shaped like a key OS1 makes opens nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from os1.memory.store import Database, now, stamp
from os1.server.accounts import UserRef, digest

PREFIX = "os1-"
SHAPE = re.compile(r"os1-[A-Za-z0-9_-]{43}")
"""A key OS1 makes: "os1-" and 32 random bytes, URL-safe base64 (43 characters)."""
HINT = 8
"""How many of a key's first characters are kept to recognise it by."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What OS1 knows of a user's key once it has been shown: enough to recognise it, not to use it."""

    hint: str
    """Its first characters (`os1-` and four more)."""
    created: datetime | None
    """When it was made (None for a key kept from before dates were)."""


def make_key(db: Database, user_id: int) -> str:
    """A new key for the user, replacing theirs (the old one stops working); the only time it is seen."""
    key = PREFIX + secrets.token_urlsafe(32)
    db.execute("INSERT OR REPLACE INTO api_keys(key_hash, user_id, hint, created_at) VALUES (?,?,?,?)",
               (digest(key), user_id, key[:HINT], stamp(now())))
    return key


def key_info(db: Database, user_id: int) -> KeyInfo | None:
    """The user's key's hint and date; None when they have none."""
    row = db.execute("SELECT hint, created_at FROM api_keys WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return None
    return KeyInfo(str(row[0]), datetime.fromisoformat(str(row[1])) if row[1] else None)


def key_owner(db: Database, key: str, *, account: bool) -> UserRef | None:
    """The user whose key this is (with `account`: only a user who has an account); None for anything else."""
    if not is_key(key):
        return None
    join = "JOIN accounts a ON a.user_id = u.id " if account else ""
    row = db.execute(f"SELECT u.id, u.name FROM api_keys k JOIN users u ON u.id = k.user_id {join}"
                     "WHERE k.key_hash = ?", (digest(key),)).fetchone()
    return UserRef(int(row[0]), str(row[1])) if row else None


def is_key(text: str) -> bool:
    """Whether `text` has the shape of a key OS1 makes."""
    return SHAPE.fullmatch(text) is not None


def bearer_key(authorization: str | None) -> str:
    """The key an `Authorization: Bearer …` header carries ('' when none)."""
    scheme, _, given = (authorization or "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""
