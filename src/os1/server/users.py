"""The server's users: each one's companion, opened on first use and kept while in use, and their rate limits.

Companions are keyed by the user's id (never reused), and on every use the id is checked to still be that
user's: an account removed by another process (`os1 user remove`) is never served again from the cache, and
its companion is closed once nobody holds it. A companion is held for the length of each request and
WebSocket; when nobody holds it, it joins the idle ones, and the least recently used idle companions beyond
`keep_idle` are closed (their memory's pending work is in the database and resumes when the user comes back).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import ExitStack

from os1.companion import Companion
from os1.config import Settings
from os1.errors import InputError
from os1.local import Opener
from os1.server.accounts import UserRef
from os1.server.protocol import RateLimit

Lookup = Callable[[int], UserRef | None]
"""The user with an id now, from the database (`Accounts.user`)."""


class UserGone(InputError):
    """The user a connection was for is no longer there (removed, or the id is not that name's)."""

    code = "input.user_gone"


class SharedLimit:
    """A session's own frame limit and its user's, shared by all of the user's sessions: a frame must pass
    both (so opening more tabs does not buy a user more of the server)."""

    def __init__(self, own: RateLimit, user: RateLimit) -> None:
        self.own, self.user = own, user

    def allow(self, at: float) -> bool:
        return self.own.allow(at) and self.user.allow(at)


class Companions:
    """Every user's companion in one server process, and each user's rate limits, keyed by user id. `users`
    says who has an id now (a companion is never used for anyone else)."""

    def __init__(self, settings: Settings, opener: Opener, *, users: Lookup, keep_idle: int = 256,
                 frames_per_second: int = 40, requests_per_minute: int = 60) -> None:
        self.settings, self.opener, self.users, self.keep_idle = settings, opener, users, keep_idle
        self.frames_per_second, self.requests_per_minute = frames_per_second, requests_per_minute
        self._open: dict[int, tuple[Companion, ExitStack]] = {}
        self._holds: dict[int, int] = {}
        self._idle: OrderedDict[int, None] = OrderedDict()
        self._frames: dict[int, RateLimit] = {}
        self._requests: dict[int, RateLimit] = {}

    def acquire(self, user_id: int, name: str) -> Companion:
        """The companion of the user `user_id` called `name`, opened if need be; held until `release`. Raises
        `UserGone` when the id is not (or no longer) that user's."""
        if self.users(user_id) != UserRef(user_id, name):
            if not self._holds.get(user_id):
                self._drop(user_id)
            raise UserGone(f"There is no user '{name}' any more.")
        self._holds[user_id] = self._holds.get(user_id, 0) + 1
        self._idle.pop(user_id, None)
        if user_id not in self._open:
            stack = ExitStack()
            try:
                companion = stack.enter_context(self.opener(self.settings, name))
                if companion.store.user_id != user_id:  # removed and made again meanwhile: someone else
                    raise UserGone(f"There is no user '{name}' any more.")
            except BaseException:
                stack.close()
                self._release(user_id)
                raise
            companion.store.recover_streaming()
            self._open[user_id] = (companion, stack)
        return self._open[user_id][0]

    def release(self, user_id: int) -> None:
        """One hold less; an unheld companion becomes idle (closed at once if its user is gone), and the oldest
        idle ones beyond the limit close."""
        if self._release(user_id) == 0 and user_id in self._open:
            if self.users(user_id) is None:
                self._drop(user_id)
                return
            self._idle[user_id] = None
            while len(self._idle) > self.keep_idle:
                oldest, _ = self._idle.popitem(last=False)
                self._close(oldest)

    def _release(self, user_id: int) -> int:
        left = self._holds.get(user_id, 0) - 1
        if left <= 0:
            self._holds.pop(user_id, None)
        else:
            self._holds[user_id] = left
        return max(left, 0)

    def _drop(self, user_id: int) -> None:
        """Close an unheld companion whose user is gone, and forget their limits."""
        self._idle.pop(user_id, None)
        self._requests.pop(user_id, None)
        self._close(user_id)

    def frame_limit(self, user_id: int, own: RateLimit) -> SharedLimit:
        """A session's frame limit joined with its user's."""
        shared = self._frames.setdefault(user_id, RateLimit(self.frames_per_second))
        return SharedLimit(own, shared)

    def request_allowed(self, user_id: int) -> bool:
        """Whether the user may make another API request now (`requests_per_minute`)."""
        limit = self._requests.setdefault(user_id, RateLimit(self.requests_per_minute, per=60.0))
        return limit.allow(time.monotonic())

    def in_use(self) -> dict[int, int]:
        """How many holds each user (by id) has now."""
        return dict(self._holds)

    def is_open(self, user_id: int) -> bool:
        return user_id in self._open

    async def close(self) -> None:
        """Finish every user's pending memory work and close them all."""
        for companion, _ in list(self._open.values()):
            if companion.memory is not None:
                await companion.memory.flush()
        for user_id in list(self._open):
            self._close(user_id)

    def _close(self, user_id: int) -> None:
        opened = self._open.pop(user_id, None)
        self._frames.pop(user_id, None)
        if opened is not None:
            opened[1].close()
