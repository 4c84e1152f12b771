"""Everything OS1 keeps: conversation turns, the user's profile, and (later) derived memories."""

from os1.memory.store import Database, Turn, UserStore

__all__ = ["Database", "Turn", "UserStore"]
