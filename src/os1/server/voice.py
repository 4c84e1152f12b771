"""Voice over the page's WebSocket: the microphone's frames in, the OS's speech out, through the same `VoiceLoop`
as `os1 talk`.

    binary frames (16 kHz s16le) ─▶ inbox ─▶ Framer (512) ─▶ VoiceLoop ─▶ SocketSink ─▶ binary frames (voice's rate)
                                                                 └─ on_event ─▶ transcript, turn_stored, delta… (JSON)

The page plays the speech as it arrives, gap-free; `SocketSink` (`voice_io.py`) models that on the wall clock,
so the loop's barge-in (how much of the reply was heard) and its echo guard (how loud the OS is now) work as
with a speaker. Everything that touches the loop runs in one task per session, in the order the client sent it:
audio, end of turn, cancel, end; what goes out (events and speech) leaves in order through one writer task.

A `SpeechFactory` builds a session's engines in a worker thread (one build at a time per process): the VAD and
the recogniser are the session's own, since they keep the state of the stream they hear (PocketSphinx holds its
decoder for a whole utterance), while the voice, 60 MB of Piper, is loaded once and shared (`os1.speech.builtin`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from os1.companion import Companion
from os1.errors import OS1Error
from os1.events import CompanionEvent, TurnStored, UserSpoke
from os1.inbox import Inbox
from os1.server.protocol import (
    AUDIO_RATE,
    AudioStop,
    ClientGone,
    Failure,
    Heard,
    Mode,
    Presence,
    Send,
    ServerEvent,
    VoiceReady,
    VoiceState,
    encode,
)
from os1.server.voice_io import SocketSink, presence
from os1.speech import voices
from os1.speech.audio import Framer, Samples, from_pcm16
from os1.speech.hooks import SpeechOptions
from os1.speech.loop import FRAME, LoopConfig, VoiceLoop
from os1.speech.stt import STT
from os1.speech.tts import TTS, check_preference
from os1.speech.vad import VAD

INBOX_ITEMS = 512
"""Client frames waiting for the loop (while the engines load); past this the reader waits (backpressure)."""
PTT_HOLD_MS = 3_600_000.0
"""Push-to-talk: silence never ends the turn (an hour); `end_turn` does."""
FLUSH_FRAMES = 100
"""Most frames of silence fed to end a turn on `end_turn` (3.2 s; a few are enough)."""
TICK_S = 0.1
"""How often the presence is checked without input (the OS's speech ends while the microphone is silent)."""
CLOSE_WAIT_S = 5.0
"""How long a vanished client's last words may take to be stored before everything stops."""


@dataclass(frozen=True)
class Engines:
    """One voice session's speech engines."""

    vad: VAD
    """The session's own: it keeps the state of the stream it hears."""
    stt: STT
    """The session's own when it streams (a PocketSphinx decoder is held for a whole utterance)."""
    tts: TTS
    """May be shared: synthesis keeps nothing between calls."""


@dataclass(frozen=True)
class SpeechChoice:
    """What the user chose, for their engines."""

    options: SpeechOptions
    """Their voice preference and personal words."""
    voice: str = "auto"
    """The spec of the OS's voice (`settings.voice`, chosen on the settings page)."""


SpeechFactory = Callable[[SpeechChoice], Engines]
"""Builds one voice session's engines for the user's choice; blocking (the server calls it in a thread)."""


def embedded_engines(choice: SpeechChoice) -> Engines:
    """The built-in offline stack: Silero VAD, PocketSphinx, and the user's voice (Piper's is loaded once)."""
    from os1.speech.registry import get_stt, get_tts, get_vad

    return Engines(get_vad("silero", choice.options), get_stt("pocketsphinx", choice.options),
                   get_tts(choice.voice, choice.options))


def speech_choice(companion: Companion) -> SpeechChoice:
    """The user's voice, voice preference and personal words (read when a voice session starts)."""
    vocabulary: Mapping[str, str | None] = dict.fromkeys(companion.memory.vocabulary()) if companion.memory else {}
    options = SpeechOptions(voice=check_preference(companion.store.get("user.voice") or "either"),
                            vocabulary=vocabulary)
    return SpeechChoice(options, companion.store.get(voices.CHOICE) or voices.DEFAULT)


def closing() -> int:
    """How many voice sessions are still closing (their client left; a server stopping may wait for none)."""
    return len(_CLOSING)


_BUILDING = threading.Lock()


def _build(factory: SpeechFactory, choice: SpeechChoice) -> Engines:
    """Build engines in a worker thread, one build at a time: sessions starting together load a voice once."""
    with _BUILDING:
        return factory(choice)


class _Interrupt:
    """A request to stop the reply, answered once the loop has done it."""

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


@dataclass(frozen=True, slots=True)
class _Announce:
    """Words to say that are not a reply."""

    text: str


_END_TURN, _CLOSE = "end_turn", "close"
_CLOSING: set[asyncio.Task[None]] = set()
"""Sessions closing after their handler was cancelled (each holds its session until it is done)."""
_Item = bytes | str | _Interrupt | _Announce


class VoiceSession:
    """One WebSocket session's voice: a `VoiceLoop` fed by the client's binary frames, speaking through a
    `SocketSink`; its events, speech and presence go out in order through one writer task."""

    def __init__(self, companion: Companion, send: Send, factory: SpeechFactory, *,
                 config: LoopConfig | None = None) -> None:
        self.companion, self._send, self._factory, self.config = companion, send, factory, config
        self.mode: Mode = "hands_free"
        self.loop: VoiceLoop | None = None
        self.sink: SocketSink | None = None
        self._spoke: str | None = None
        """What the loop said it is answering, until the answer's first event."""
        self._inbox: Inbox[_Item] = Inbox(INBOX_ITEMS)
        """Audio and turn ends in order; a stop (`interrupt`) and words to announce overtake them."""
        self._framer = Framer(FRAME)
        self._outbox: deque[str | bytes] = deque()
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write())
        self._ticker: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._running = self._accepting = False
        self._state: Presence = "off"
        self._flushed = asyncio.Event()
        self._closing = False
        self._closer: asyncio.Task[None] | None = None
        self.show_context = False
        """Whether spoken replies are preceded by a `context` event (the client sent `debug`)."""

    def debug(self, context: bool) -> None:
        """Send (or stop sending) a `context` event before each spoken reply."""
        self.show_context = context
        if self.loop is not None:
            self.loop.show_context = context

    def listening(self) -> bool:
        """Whether the microphone stream is on (binary frames are taken)."""
        return self._accepting

    def replying(self) -> bool:
        """Whether a spoken reply is being made or heard."""
        return self.loop is not None and self.loop.replying()

    def start(self, mode: Mode) -> None:
        """`audio_start`: listen (loading the engines the first time), or change the mode."""
        self.mode, self._accepting = mode, True
        if not self._running:
            self._running = True
            self._runner = asyncio.create_task(self._run())
        elif self.sink is not None:
            self._post(VoiceReady(self.sink.rate))
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick())
        self._update()

    async def feed(self, pcm: bytes) -> None:
        """One binary frame of 16 kHz s16le audio (the reader waits while the inbox is full)."""
        await self._inbox.put(pcm)

    async def end_turn(self) -> None:
        """The user has finished speaking: silence is fed until the turn ends."""
        await self._inbox.put(_END_TURN)

    async def end(self) -> None:
        """`audio_end`: the turn in progress ends and is answered; frames are refused until `start`."""
        if self._accepting:
            self._accepting = False
            await self._inbox.put(_END_TURN)
            self._update()

    async def interrupt(self) -> None:
        """Stop the spoken reply now (its unheard words are dropped); returns once it is done."""
        if self.loop is None or not self._running:
            return
        request = _Interrupt()
        self._inbox.put_system(request)  # before the audio still waiting: the user wants it to stop now
        await request.done

    def announce(self, text: str) -> None:
        """Say `text` aloud (a timer or alarm going off) while the voice is on, before the audio still waiting
        (it is said after the speech already playing)."""
        if self._running and not self._closing:
            self._inbox.put_system(_Announce(text))

    async def close(self) -> None:
        """The client is gone: what the user was saying is ended and stored, then everything stops. This runs
        to its end even if the caller is cancelled (a server may cancel a socket's handler as it closes)."""
        if self._closer is None:
            self._closing, self._accepting = True, False
            self._closer = asyncio.create_task(self._shut())
            _CLOSING.add(self._closer)  # the loop keeps only a weak reference: an abandoned closer would be lost
            self._closer.add_done_callback(_CLOSING.discard)
        await asyncio.shield(self._closer)

    async def _shut(self) -> None:
        runner = self._runner
        if runner is not None and not runner.done():
            if self.loop is not None:  # after the frames already sent; mid-sentence, the turn is ended and stored
                with contextlib.suppress(asyncio.QueueFull, TimeoutError):
                    self._inbox.put_nowait(_CLOSE)
                    await asyncio.wait_for(self._flushed.wait(), CLOSE_WAIT_S)
            await _stop(runner)
        for task in (self._ticker, self._writer):
            if task is not None:
                await _stop(task)

    async def _run(self) -> None:
        """Load the engines (once), then run the loop until the session closes or the engines fail."""
        try:
            if self.loop is None:
                engines = await asyncio.to_thread(_build, self._factory, speech_choice(self.companion))
                self.loop = self._loop_for(engines)
            assert self.sink is not None
            self._post(VoiceReady(self.sink.rate))
            self._update()
            await self.loop.run(self._frames())
        except OS1Error as exc:
            self.loop = self.sink = None  # a later `audio_start` starts afresh
            self._post(Failure(exc.code, exc.friendly()))
        finally:
            self._running = self._accepting = False
            self._flushed.set()
            while not self._inbox.empty():
                item = self._inbox.get_nowait()
                if isinstance(item, _Interrupt):
                    item.finish()
            self._update()

    def _loop_for(self, engines: Engines) -> VoiceLoop:
        self._spoke = None
        self.sink = SocketSink(engines.tts.sample_rate, self._post, self._drop_audio)
        loop = VoiceLoop(self.companion, vad=engines.vad, stt=engines.stt, tts=engines.tts, sink=self.sink,
                         config=self.config, on_event=self._said)
        loop.show_context = self.show_context
        return loop

    async def _frames(self) -> AsyncIterator[Samples]:
        """The loop's input: the client's audio in 512-sample frames, and silence to end a turn on request."""
        loop, sink = self.loop, self.sink
        assert loop is not None and sink is not None
        while True:
            item = await self._inbox.get()
            if isinstance(item, bytes):
                for frame in self._framer.push(from_pcm16(item, AUDIO_RATE).samples):
                    if self.mode == "push_to_talk":
                        loop.segmenter.hold(PTT_HOLD_MS)
                    yield frame
                    self._after()
            elif isinstance(item, _Announce):
                await loop.announce(item.text)
                self._after()
            elif isinstance(item, _Interrupt):
                try:
                    if loop.replying():
                        await loop.interrupt()
                    self._after()
                finally:
                    item.finish()
            else:
                replies, speaking = sink.replies, loop.segmenter.speaking
                for frame in self._ending(loop):
                    yield frame
                    self._after()
                if item == _CLOSE:
                    if speaking:
                        await self._answered(loop, sink, replies)
                    self._flushed.set()
                    return

    def _ending(self, loop: VoiceLoop) -> Iterator[Samples]:
        """The rest of the last frame, then silence until the turn ends (at most `FLUSH_FRAMES`)."""
        rest = self._framer.flush()
        if rest is not None:
            yield rest
        for _ in range(FLUSH_FRAMES):
            if not loop.segmenter.speaking:
                return
            loop.segmenter.hold(0)  # end at the first silent frame of the pause
            yield np.zeros(FRAME, dtype=np.float32)

    async def _answered(self, loop: VoiceLoop, sink: SocketSink, replies: int) -> None:
        """Wait (a little) until the turn just ended is stored: its answer has begun, or there is none."""
        deadline = time.monotonic() + CLOSE_WAIT_S
        while loop.replying() and sink.replies == replies and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def _said(self, event: CompanionEvent | UserSpoke) -> None:
        """The loop's events go out as the text path's do, with what was heard before them (a `transcript`:
        the stored words at `turn_stored`, or the words of a first-boot answer, which is not a turn)."""
        if isinstance(event, UserSpoke):  # the loop begins an answer to these words
            self._spoke = event.text
            return
        if self._spoke is not None:  # the answer's first event
            spoke, self._spoke = self._spoke, None
            if not isinstance(event, TurnStored) and spoke:  # a first-boot answer is not a turn
                self._post(Heard(spoke, None))
        if isinstance(event, TurnStored):
            self._post(Heard(event.text, event.turn_id))
        self._post(event)

    def _after(self) -> None:
        """After each step of the loop: the presence, if it changed."""
        self._update()

    def _update(self) -> None:
        state = self._presence()
        if state != self._state:
            self._state = state
            self._post(VoiceState(state))

    def _presence(self) -> Presence:
        loop, sink = self.loop, self.sink
        if not self._running:
            return "off"
        if loop is None or sink is None:
            return "starting"
        replying = loop.replying()
        if not self._accepting and not replying:
            return "off"
        return presence(user_speaking=self._accepting and loop.segmenter.speaking, replying=replying,
                        playing=sink.playing())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self._update()

    def _post(self, item: ServerEvent | bytes) -> None:
        if self._closing:  # the client has left
            return
        self._outbox.append(item if isinstance(item, bytes) else encode(item))
        self._wake.set()

    def _drop_audio(self) -> None:
        """Speech not yet sent is dropped, and the page drops what it has queued."""
        self._outbox = deque(item for item in self._outbox if not isinstance(item, bytes))
        self._post(AudioStop())

    async def _write(self) -> None:
        with contextlib.suppress(ClientGone):
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outbox:
                    await self._send(self._outbox.popleft())


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a task and wait for it to let go."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
