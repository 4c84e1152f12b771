"""The server's users: each one's companion, opened on first use and kept while in use, and their rate limits.

A companion is held for the length of each request and WebSocket; when nobody holds it, it joins the idle
ones, and the least recently used idle companions beyond `keep_idle` are closed (their memory's pending work
is in the database and resumes when the user comes back).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from contextlib import ExitStack

from os1.companion import Companion
from os1.config import Settings
from os1.local import Opener
from os1.server.protocol import RateLimit


class SharedLimit:
    """A session's own frame limit and its user's, shared by all of the user's sessions: a frame must pass
    both (so opening more tabs does not buy a user more of the server)."""

    def __init__(self, own: RateLimit, user: RateLimit) -> None:
        self.own, self.user = own, user

    def allow(self, at: float) -> bool:
        return self.own.allow(at) and self.user.allow(at)


class Companions:
    """Every user's companion in one server process, and each user's rate limits."""

    def __init__(self, settings: Settings, opener: Opener, *, keep_idle: int = 256,
                 frames_per_second: int = 40, requests_per_minute: int = 60) -> None:
        self.settings, self.opener, self.keep_idle = settings, opener, keep_idle
        self.frames_per_second, self.requests_per_minute = frames_per_second, requests_per_minute
        self._open: dict[str, tuple[Companion, ExitStack]] = {}
        self._holds: dict[str, int] = {}
        self._idle: OrderedDict[str, None] = OrderedDict()
        self._frames: dict[str, RateLimit] = {}
        self._requests: dict[str, RateLimit] = {}

    def acquire(self, user: str) -> Companion:
        """The user's companion, opened if need be; held until `release`."""
        self._holds[user] = self._holds.get(user, 0) + 1
        self._idle.pop(user, None)
        if user not in self._open:
            stack = ExitStack()
            try:
                companion = stack.enter_context(self.opener(self.settings, user))
            except BaseException:
                stack.close()
                self._release(user)
                raise
            companion.store.recover_streaming()
            self._open[user] = (companion, stack)
        return self._open[user][0]

    def release(self, user: str) -> None:
        """One hold less; an unheld companion becomes idle, and the oldest idle ones beyond the limit close."""
        if self._release(user) == 0 and user in self._open:
            self._idle[user] = None
            while len(self._idle) > self.keep_idle:
                oldest, _ = self._idle.popitem(last=False)
                self._close(oldest)

    def _release(self, user: str) -> int:
        left = self._holds.get(user, 0) - 1
        if left <= 0:
            self._holds.pop(user, None)
        else:
            self._holds[user] = left
        return max(left, 0)

    def frame_limit(self, user: str, own: RateLimit) -> SharedLimit:
        """A session's frame limit joined with its user's."""
        shared = self._frames.setdefault(user, RateLimit(self.frames_per_second))
        return SharedLimit(own, shared)

    def request_allowed(self, user: str) -> bool:
        """Whether the user may make another API request now (`requests_per_minute`)."""
        limit = self._requests.setdefault(user, RateLimit(self.requests_per_minute, per=60.0))
        return limit.allow(time.monotonic())

    def in_use(self) -> dict[str, int]:
        """How many holds each user has now."""
        return dict(self._holds)

    def is_open(self, user: str) -> bool:
        return user in self._open

    async def close(self) -> None:
        """Finish every user's pending memory work and close them all."""
        for companion, _ in list(self._open.values()):
            if companion.memory is not None:
                await companion.memory.flush()
        for user in list(self._open):
            self._close(user)

    def _close(self, user: str) -> None:
        opened = self._open.pop(user, None)
        self._frames.pop(user, None)
        if opened is not None:
            opened[1].close()
