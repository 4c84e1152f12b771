"""The local user's companion, opened the same way for the terminal, the voice loop and the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from os1 import cli_memory
from os1.companion import Companion
from os1.config import Settings
from os1.memory.api import Memory

LOCAL_USER = "local"
"""The one user of local single-user mode."""


@contextmanager
def open_companion(settings: Settings, user: str = LOCAL_USER, console: Console | None = None) -> Iterator[Companion]:
    """Open the user's store, model and memory, give their companion, and close everything afterwards."""
    from os1.llm import get_model
    from os1.memory import Database

    db = Database(settings.db_path)
    memory: Memory | None = None
    try:
        store = db.user(user)
        llm = get_model(settings.model, settings)
        memory = cli_memory.open_memory(store, console, llm)
        yield Companion(store, llm, max_reply_tokens=settings.max_reply_tokens, temperature=settings.temperature,
                        memory=memory)
    finally:
        if memory is not None:
            memory.close()
        db.close()
