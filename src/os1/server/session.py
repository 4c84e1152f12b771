"""One WebSocket conversation: frames in, the companion's events out, each reply in its own task.

Text frames are typed JSON events; binary frames are the microphone's audio, handed to the session's voice
(`os1.server.voice`, imported when the first `audio_start` arrives, so a server without the voice extra still
serves text and says what to install).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

from os1 import __version__
from os1.companion import Companion
from os1.errors import OS1Error, SpeechUnavailable
from os1.events import Notice, ReplyDelta, ReplyDone, ReplyStarted
from os1.llm.registry import UnavailableModel
from os1.server.protocol import (
    AudioEnd,
    AudioIn,
    AudioStart,
    Cancel,
    ClientEvent,
    ClientGone,
    Debug,
    Draft,
    EndTurn,
    Failure,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    RateLimit,
    Ready,
    Say,
    Send,
    ServerEvent,
    decode,
    encode,
)
from os1.typing_ahead import TypingAhead

if TYPE_CHECKING:
    from os1.server.voice import SpeechFactory, VoiceSession

DRAFTS_PER_S = 5
"""Most drafts a session prepares for in a second (the page sends one when the user pauses or ends a word);
the others are dropped without a word: a draft is a hint."""
AUDIO_FRAMES_PER_S = 60
"""Most binary frames a session may send in a second (a microphone sends 10–50: 20–100 ms each)."""


class Session:
    """The protocol for one client: strict parsing, rate limits, at most one reply at a time, and voice.

    `speech` builds the voice's engines (None: the embedded ones, Silero, PocketSphinx and Piper)."""

    def __init__(self, companion: Companion, send: Send, *, rate: RateLimit | None = None,
                 speech: SpeechFactory | None = None, audio_rate: RateLimit | None = None,
                 explicit_time: bool = False) -> None:
        self.companion = companion
        self._send = send
        self._lock = asyncio.Lock()
        self._rate = rate or RateLimit()
        self._audio_rate = audio_rate or RateLimit(AUDIO_FRAMES_PER_S)
        self._bursts: set[str] = set()
        """The limits whose current burst of refused frames the client has been told of."""
        self._unheard = False
        self._speech = speech
        self._voice: VoiceSession | None = None
        self._reply: asyncio.Task[None] | None = None
        self._started: ReplyStarted | None = None
        self._parts: list[str] = []
        self._show_context = False
        """Whether the client asked for a `context` event before each typed reply (`debug`)."""
        self._explicit_time = explicit_time
        """Whether `say` may carry its own time (`at`): a server for imports and tests."""
        self._typing: TypingAhead | None = None
        """The drafts' preparation, made at the first draft (thousands of sessions never send one)."""
        self._unlisten: Callable[[], None] | None = None
        """Ends the `notice` events of the user's timers and alarms going off (sent from `hello` on)."""

    async def send(self, event: ServerEvent) -> None:
        """Send one event; the reply task, the voice and the reader never interleave a frame."""
        await self.send_frame(encode(event))

    async def send_frame(self, frame: str | bytes) -> None:
        """Send one encoded text frame or binary audio frame, whole."""
        async with self._lock:
            await self._send(frame)

    async def receive(self, frame: str | bytes | None) -> None:
        """Handle one client frame; a bad or excess one gets an `error` event and the session goes on."""
        if isinstance(frame, bytes):
            await self._audio(frame)
            return
        if not await self._admitted(self._rate, "text", "Too many messages at once; some were dropped."):
            return
        event = await self._decoded(frame)
        if event is not None:
            await self._handle(event)

    async def _admitted(self, limit: RateLimit, kind: str, message: str) -> bool:
        """Whether a frame passes `limit`; the first refused frame of a burst tells the client (one error per
        burst, not one per dropped frame)."""
        if limit.allow(time.monotonic()):
            self._bursts.discard(kind)
            return True
        if kind not in self._bursts:
            self._bursts.add(kind)
            await self.send(Failure("rate_limited", message))
        return False

    async def _decoded(self, frame: str | bytes | None) -> ClientEvent | None:
        """The frame's event, or None after telling the client what is wrong with it."""
        try:
            return decode(frame)
        except ProtocolError as exc:
            await self.send(Failure(exc.code, exc.message))
            return None

    async def _handle(self, event: ClientEvent) -> None:
        if isinstance(event, Ping):
            await self.send(Pong())
        elif isinstance(event, Hello):
            await self.hello()
        elif isinstance(event, Draft):
            self._draft(event)
        elif isinstance(event, Cancel):
            await self.cancel()
        elif isinstance(event, Debug):
            self._show_context = event.context
            if self._voice is not None:
                self._voice.debug(event.context)
        elif isinstance(event, AudioStart):
            await self._start_voice(event)
        elif isinstance(event, AudioEnd):
            if self._voice is not None:
                await self._voice.end()
        elif isinstance(event, EndTurn):
            if self._voice is None or not self._voice.listening():
                await self.send(_NOT_STARTED)
            else:
                await self._voice.end_turn()
        elif isinstance(event, Say):
            if event.at is not None and not self._explicit_time:
                await self.send(Failure("bad_field", "'at' is taken only by a server started with --explicit-time "
                                                     "(imports and tests); send 'say' without it."))
            elif self.replying():
                await self.send(Failure("busy", "I'm still answering; cancel first or wait for the reply to end."))
            else:
                self._reply = asyncio.create_task(self._say(event))
                self._reply.add_done_callback(self._replied)

    def _draft(self, event: Draft) -> None:
        """Prepare for what the user is typing, unless a reply is coming, the voice listens, or drafts come
        faster than `DRAFTS_PER_S` (then dropped without a word)."""
        if self.replying() or (self._voice is not None and self._voice.listening()):
            return
        if self._typing is None:
            self._typing = TypingAhead(self.companion)
            self._draft_rate = RateLimit(DRAFTS_PER_S)
        if self._draft_rate.allow(time.monotonic()):
            self._typing.update(event.text)

    def _replied(self, reply: asyncio.Task[None]) -> None:
        if self._reply is reply:
            self._reply = None  # a finished task holds objects; a server holds thousands of sessions

    async def _audio(self, frame: bytes) -> None:
        """A binary frame: the next piece of the microphone stream, once `audio_start` declared it."""
        if not await self._admitted(self._audio_rate, "audio", "Audio frames are coming too fast (send 20–100 ms "
                                                               "per frame); some were dropped."):
            return
        event = await self._decoded(frame)
        if event is None:
            return
        if self._voice is None or not self._voice.listening():
            if not self._unheard:  # one error until the stream starts, not one per frame
                self._unheard = True
                await self.send(_NOT_STARTED)
        elif isinstance(event, AudioIn):
            await self._voice.feed(event.pcm)

    async def _start_voice(self, event: AudioStart) -> None:
        """Start listening (the engines load in a thread; `voice_ready` follows), or change the mode."""
        self._unheard = False
        if self._voice is None:
            try:
                from os1.server.voice import VoiceSession, embedded_engines
            except ImportError as exc:
                missing = SpeechUnavailable(f"Talking needs the Python package '{exc.name}', which is not installed.",
                                            hint="Install the voice extra: pip install 'os1[voice]'")
                await self.send(Failure(missing.code, missing.friendly()))
                return
            self._voice = VoiceSession(self.companion, self.send_frame, self._speech or embedded_engines)
            self._voice.debug(self._show_context)
        self._voice.start(event.mode)

    async def hello(self) -> None:
        """`ready`, then what the OS says as a conversation opens (first-boot questions or welcome back)."""
        companion = self.companion
        companion.start_session()
        await self.send(Ready(companion.name, companion.user_name, __version__))
        if isinstance(companion.llm, UnavailableModel):  # the model cannot run here: say so before anything else
            await self.send(Failure(companion.llm.error.code, companion.llm.error.friendly()))
        for event in companion.opening():
            await self.send(event)
        companion.warm_up()
        if self._unlisten is None:
            self._unlisten = companion.listen(self._notice)

    async def _notice(self, notice: Notice) -> None:
        """A timer or alarm went off: shown, and said aloud too while the voice listens."""
        await self.send(notice)
        if self._voice is not None and self._voice.listening():
            self._voice.announce(notice.text)

    def replying(self) -> bool:
        """Whether a reply is in progress (typed, or spoken and still being made or heard)."""
        typed = self._reply is not None and not self._reply.done()
        return typed or (self._voice is not None and self._voice.replying())

    async def cancel(self) -> None:
        """Stop the reply in progress: a typed one's words so far are stored as interrupted, a spoken one's
        words that were heard; the client is told either way."""
        if self._voice is not None:
            await self._voice.interrupt()
        if self._reply is None or self._reply.done():
            return
        self._reply.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reply
        if self._started is not None:
            await self.send(ReplyDone("".join(self._parts).strip(), self._started.turn_id, "interrupted"))
            self._started = None

    async def close(self) -> None:
        """The client is gone: stop the reply (its partial text is stored as interrupted); what the user was
        saying is ended and stored first."""
        if self._typing is not None:
            self._typing.close()
        if self._unlisten is not None:
            self._unlisten()
        reply = self._reply if self._reply is not None and not self._reply.done() else None
        if reply is not None:
            reply.cancel()
        if self._voice is not None:
            await self._voice.close()
        if reply is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reply

    async def _say(self, event: Say) -> None:
        self._started, self._parts = None, []
        try:
            prepared = await self._typing.take(event.text) if self._typing is not None and event.at is None else None
            async with aclosing(self.companion.say(event.text, at=event.at, prepared=prepared,
                                                   show_context=self._show_context)) as events:
                async for out in events:
                    if isinstance(out, ReplyStarted):
                        self._started = out
                    elif isinstance(out, ReplyDelta) and self._started is not None:
                        self._parts.append(out.text)
                    elif isinstance(out, ReplyDone):
                        self._started = None
                    await self.send(out)
        except ClientGone:  # closing the stream (above) stored the reply as interrupted
            self._started = None
        except OS1Error as exc:
            await self.send(Failure(exc.code, exc.friendly()))


_NOT_STARTED = Failure("audio_not_started", "Send audio_start (16 kHz mono s16le) before audio; this was dropped.")
