"""Whose background memory work waits, and a few of them served at a time.

A server with thousands of users, each with turns to embed, must not hold thousands of tasks waiting on one
embedding thread: every waiting task is a few dozen objects that live until their turn comes, and under a
steady load they pile up in the heap that Python's garbage collector walks, stopping every session while it
does. Here a user with work waiting is one entry (the function that starts their work), and `slots` of them
run at once, in the order they asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

Start = Callable[[], "asyncio.Task[None]"]
T = TypeVar("T")
A = TypeVar("A")


class Backlog:
    """Owners (a user's memory) waiting to run their background work, `slots` at a time, first come first
    served. The work itself stays the owner's: `start` makes its task, which ends when the owner has nothing
    left to do."""

    def __init__(self, slots: int = 2, *, share: float = 0.25) -> None:
        if slots < 1:
            raise ValueError("a backlog needs at least one slot")
        if not 0 < share <= 1:
            raise ValueError("a backlog's share of the CPU is more than 0 and at most 1")
        self.slots = slots
        self.share = share
        """The part of one core that background work (`paced`) takes while replies are being made."""
        self.replying = 0
        """Replies being made now, by every user (`Memory.replying`)."""
        self._waiting: dict[Hashable, Start] = {}
        self._running: set[asyncio.Task[None]] = set()

    def paced(self, work: Callable[[A], T], arg: A) -> T:
        """`work(arg)` in the calling (background) thread; while replies are being made, followed by a pause
        so that it takes `share` of the time. The machine's cores serve replies first: on a small machine,
        embedding beside a busy event loop slows every reply (the cores, their caches and Python's lock are
        shared), and the work left waits in the database for quieter moments."""
        started = time.monotonic()
        result = work(arg)
        if self.replying > 0 and self.share < 1:
            time.sleep((time.monotonic() - started) * (1 / self.share - 1))
        return result

    def add(self, owner: Hashable, start: Start) -> None:
        """Queue the owner's work (once: adding a waiting owner again keeps its place); it starts when a
        slot is free, maybe now. Needs a running event loop."""
        self._waiting.setdefault(owner, start)
        self._fill()

    def discard(self, owner: Hashable) -> bool:
        """Take the owner out of the queue (it starts its work itself, or is closing); whether it was there."""
        return self._waiting.pop(owner, None) is not None

    def waiting(self) -> int:
        """How many owners wait for a slot."""
        return len(self._waiting)

    def _fill(self) -> None:
        while len(self._running) < self.slots and self._waiting:
            owner = next(iter(self._waiting))
            task = self._waiting.pop(owner)()
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._fill()
