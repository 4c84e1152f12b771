"""The per-user API key of the OpenAI-compatible API: made on first use, kept in the user's profile (so `os1 key`
can show it again) with its hash in `api_keys` (so a request's key finds its user)."""

from __future__ import annotations

import hmac
import secrets

from os1.memory.store import UserStore
from os1.server.accounts import digest

KEY = "server.api_key"
"""The profile entry that holds the key."""


def api_key(store: UserStore, *, new: bool = False) -> str:
    """The user's key, created when there is none yet or when `new` asks for a fresh one (the old one stops
    working)."""
    key = store.get(KEY)
    if new or not key:
        key = "os1-" + secrets.token_urlsafe(32)
        store.set(KEY, key)
    store.set_key_hash(digest(key))
    return key


def bearer_key(authorization: str | None) -> str:
    """The key an `Authorization: Bearer …` header carries ('' when none)."""
    scheme, _, given = (authorization or "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def bearer_ok(store: UserStore, authorization: str | None) -> bool:
    """Whether an `Authorization` header carries the user's key (compared in constant time)."""
    key = store.get(KEY)
    return bool(key) and hmac.compare_digest(bearer_key(authorization).encode(), key.encode())
