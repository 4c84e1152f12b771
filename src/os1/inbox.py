"""An inbox of two lanes: data items keep their order behind a bound; system items overtake them.

A conversation's input is mostly data (audio, lines) that must be taken in order and may wait; a few items are
about the conversation itself (stop speaking, a timer to say) and must not wait behind seconds of queued audio.
`put` waits while the data lane is full (the reader slows down, nothing is dropped); `put_system` never waits
and is taken before any data. Pure asyncio, one event loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """Data in order (at most `limit` waiting), system items first."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("An inbox holds at least one item.")
        self.limit = limit
        self._data: deque[T] = deque()
        self._system: deque[T] = deque()
        self._ready = asyncio.Event()
        self._space = asyncio.Event()

    def __len__(self) -> int:
        return len(self._data) + len(self._system)

    def empty(self) -> bool:
        return not self._data and not self._system

    async def put(self, item: T) -> None:
        """Add a data item after the others; waits while `limit` of them are waiting."""
        while len(self._data) >= self.limit:
            self._space.clear()
            await self._space.wait()
        self._data.append(item)
        self._ready.set()

    def put_nowait(self, item: T) -> None:
        """Add a data item now, or raise `asyncio.QueueFull`."""
        if len(self._data) >= self.limit:
            raise asyncio.QueueFull
        self._data.append(item)
        self._ready.set()

    def put_system(self, item: T) -> None:
        """Add an item that overtakes every data item (after the system items before it); never refused."""
        self._system.append(item)
        self._ready.set()

    def get_nowait(self) -> T:
        """The next item, system ones first, or raise `asyncio.QueueEmpty`."""
        if self._system:
            return self._system.popleft()
        if self._data:
            item = self._data.popleft()
            self._space.set()
            return item
        raise asyncio.QueueEmpty

    async def get(self) -> T:
        """Wait for the next item, system ones first."""
        while self.empty():
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()
