"""One WebSocket conversation: frames in, the companion's events out, each reply in its own task."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing

from os1 import __version__
from os1.companion import Companion
from os1.errors import OS1Error
from os1.events import ReplyDelta, ReplyDone, ReplyStarted
from os1.server.protocol import (
    Cancel,
    Failure,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    RateLimit,
    Ready,
    Say,
    ServerEvent,
    decode,
    encode,
)

Send = Callable[[str], Awaitable[None]]
"""Sends one text frame to the client; raises `ClientGone` when it has disconnected."""


class ClientGone(Exception):
    """The client disconnected while the server was writing to it."""


class Session:
    """The protocol for one client: strict parsing, a rate limit, and at most one reply at a time."""

    def __init__(self, companion: Companion, send: Send, *, rate: RateLimit | None = None) -> None:
        self.companion = companion
        self._send = send
        self._lock = asyncio.Lock()
        self._rate = rate or RateLimit()
        self._limited = False
        self._reply: asyncio.Task[None] | None = None
        self._started: ReplyStarted | None = None
        self._parts: list[str] = []

    async def send(self, event: ServerEvent) -> None:
        """Send one event; the reply task and the reader never interleave a frame."""
        async with self._lock:
            await self._send(encode(event))

    async def receive(self, frame: str | bytes | None) -> None:
        """Handle one client frame; a bad or excess one gets an `error` event and the session goes on."""
        if not self._rate.allow(time.monotonic()):
            if not self._limited:  # one error per burst, not one per dropped frame
                self._limited = True
                await self.send(Failure("rate_limited", "Too many messages at once; some were dropped."))
            return
        self._limited = False
        try:
            event = decode(frame)
        except ProtocolError as exc:
            await self.send(Failure(exc.code, exc.message))
            return
        if isinstance(event, Ping):
            await self.send(Pong())
        elif isinstance(event, Hello):
            await self.hello()
        elif isinstance(event, Cancel):
            await self.cancel()
        elif self.replying():
            await self.send(Failure("busy", "I'm still answering; cancel first or wait for the reply to end."))
        else:
            self._reply = asyncio.create_task(self._say(event))

    async def hello(self) -> None:
        """`ready`, then what the OS says as a conversation opens (first-boot questions or welcome back)."""
        companion = self.companion
        companion.start_session()
        await self.send(Ready(companion.name, companion.user_name, __version__))
        for event in companion.opening():
            await self.send(event)

    def replying(self) -> bool:
        """Whether a reply is in progress."""
        return self._reply is not None and not self._reply.done()

    async def cancel(self) -> None:
        """Stop the reply in progress: its words so far are stored as interrupted, and the client is told."""
        if self._reply is None or self._reply.done():
            return
        self._reply.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reply
        if self._started is not None:
            await self.send(ReplyDone("".join(self._parts).strip(), self._started.turn_id, "interrupted"))
            self._started = None

    async def close(self) -> None:
        """The client is gone: stop the reply (its partial text is stored as interrupted)."""
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply

    async def _say(self, event: Say) -> None:
        self._started, self._parts = None, []
        try:
            async with aclosing(self.companion.say(event.text)) as events:
                async for out in events:
                    if isinstance(out, ReplyStarted):
                        self._started = out
                    elif isinstance(out, ReplyDelta) and self._started is not None:
                        self._parts.append(out.text)
                    elif isinstance(out, ReplyDone):
                        self._started = None
                    await self.send(out)
        except OS1Error as exc:
            await self.send(Failure(exc.code, exc.friendly()))
        except ClientGone:  # closing the stream (above) stored the reply as interrupted
            self._started = None
