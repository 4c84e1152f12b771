"""A returning user for the latency benchmarks: past first boot, with earlier sessions in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from os1.config import Settings
from os1.memory import Database, UserStore
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder


async def returning_user(settings: Settings, profile: Mapping[str, str],
                         past: Sequence[str]) -> tuple[Database, UserStore, Memory]:
    """The database, the user's store with `profile` set, and their memory holding `past` as the user's lines
    of a month ago, one a day, fully indexed."""
    db = Database(settings.db_path)
    store = db.user("bench")
    for key, value in profile.items():
        store.set(key, value)
    memory = Memory(store, embedder=MiniLMEmbedder(threads=1))
    start = datetime.now(UTC) - timedelta(days=30)
    for day, line in enumerate(past):
        memory.remember(line, speaker="Theodore", at=start + timedelta(days=day))
    await memory.flush()
    return db, store, memory
