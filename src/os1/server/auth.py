"""The per-user API key of the OpenAI-compatible API: made on first use, kept in the user's profile."""

from __future__ import annotations

import hmac
import secrets

from os1.memory.store import UserStore

KEY = "server.api_key"
"""The profile entry that holds the key."""


def api_key(store: UserStore, *, new: bool = False) -> str:
    """The user's key, created when there is none yet or when `new` asks for a fresh one (the old one stops
    working)."""
    key = store.get(KEY)
    if new or not key:
        key = "os1-" + secrets.token_urlsafe(32)
        store.set(KEY, key)
    return key


def bearer_ok(store: UserStore, authorization: str | None) -> bool:
    """Whether an `Authorization` header carries the user's key (compared in constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    key = store.get(KEY)
    return bool(key) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())
