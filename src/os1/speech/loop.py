"""The voice loop: audio frames in, the companion's reply out as speech, interruptible like a person.

frames ─▶ VAD ─▶ Segmenter ─▶ STT stream ─▶ Companion.say ─▶ Chunker ─▶ TTS ─▶ Sink

One code path for every transport: a microphone, a WAV file, or a browser feeds 16 kHz frames to `run`, and a
`Sink` plays (or records) the reply. While the OS speaks, user speech that lasts `barge_in_ms` stops playback
at once, cancels the reply, and the stored reply keeps only the words that were heard. A short backchannel
("mm-hm") does not interrupt, and input no louder than the OS's own voice minus `echo_margin_db` is taken for
its echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field

import numpy as np

from os1.companion import Companion
from os1.events import (
    CompanionEvent,
    ErrorEvent,
    Prompt,
    ReplyDelta,
    ReplyStarted,
    SpeechEnded,
    SpeechStarted,
)
from os1.speech.audio import Audio, Samples, resample, rms_dbfs
from os1.speech.chunker import Chunker
from os1.speech.stt import STT, STTStream
from os1.speech.tts import TTS
from os1.speech.vad import VAD, Segmenter, SegmenterConfig

RATE = 16_000
FRAME = 512
FRAME_S = FRAME / RATE
ECHO_WINDOW_S = 0.15
"""How far back the echo guard looks at what was played: a room and a sound card delay the echo."""
LEAD_FRAMES = 3
"""Frames kept before the VAD's first speech frame: it notices an onset a little late."""
BACKCHANNELS = frozenset({"mm", "mhm", "mm-hm", "mm hm", "uh-huh", "uh huh", "yeah", "yes", "yep", "ok", "okay",
                          "right", "sure", "hmm", "ah", "oh", "i see", "uh", "um"})


@dataclass(frozen=True, slots=True)
class TurnLatency:
    """When each step of one spoken turn happened (seconds on the monotonic clock)."""

    text: str
    """What the user said."""
    stopped: float
    """When the user stopped speaking (the first silent frame, reckoned back from the decision)."""
    speech_end: float
    """The end-of-turn decision (the VAD's silence reached `end_ms`)."""
    transcript: float
    """The final transcript was ready."""
    first_token: float
    """The model's first words arrived."""
    first_audio: float
    """The first reply audio was handed to the sink."""

    @property
    def to_first_audio_ms(self) -> float:
        """End of the user's speech to the first reply audio (what the user waits)."""
        return (self.first_audio - self.stopped) * 1000


@dataclass(frozen=True)
class LoopConfig:
    """Turn-taking settings."""

    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    barge_in_ms: float = 400.0
    """User speech this long while the OS speaks interrupts it (a backchannel is shorter)."""
    echo_margin_db: float = 10.0
    """While the OS speaks, input quieter than its voice minus this is taken for its echo, not the user."""


class Sink(ABC):
    """Where reply audio goes: a speaker, a file, a browser."""

    rate: int = 22_050

    @abstractmethod
    def play(self, audio: Audio) -> None:
        """Queue audio after what is already queued."""

    @abstractmethod
    def stop(self) -> None:
        """Stop at once and drop what is queued."""

    @abstractmethod
    def played(self) -> float:
        """Seconds of the current reply heard so far."""

    @abstractmethod
    def playing(self) -> bool:
        """Whether audio is coming out now."""

    @abstractmethod
    def level(self) -> float:
        """dBFS of what is coming out now (for the echo guard)."""

    def begin(self) -> None:
        """A new reply starts: `played` counts from here."""
        return None

    def tick(self, seconds: float) -> None:
        """Time passed (for sinks on a virtual clock, driven by the input; real devices ignore it)."""
        return None


class TimelineSink(Sink):
    """A sink on a virtual clock advanced by the input frames: for files, tests and benchmarks.

    Reply audio starts at the clock time it is queued; `stop` cuts it at the current time.
    """

    def __init__(self, rate: int = 22_050) -> None:
        self.rate = rate
        self.clock = 0.0
        self._parts: list[tuple[float, np.ndarray]] = []
        self._reply_start = 0.0
        self._end = 0.0
        self._first = True

    def play(self, audio: Audio) -> None:
        start = max(self.clock, self._end)
        if self._first:
            self._reply_start, self._first = start, False
        self._parts.append((start, np.asarray(resample(audio, self.rate).samples)))
        self._end = start + len(self._parts[-1][1]) / self.rate

    def begin(self) -> None:
        self._first = True
        self._reply_start = max(self.clock, self._end)

    def stop(self) -> None:
        cut = self.clock
        kept = []
        for start, samples in self._parts:
            if start >= cut:
                continue
            kept.append((start, samples[: int((cut - start) * self.rate)]))
        self._parts = kept
        self._end = min(self._end, cut)

    def played(self) -> float:
        return max(0.0, min(self.clock, self._end) - self._reply_start)

    def playing(self) -> bool:
        return self._end > self.clock

    def level(self) -> float:
        window = self._window(self.clock - ECHO_WINDOW_S, self.clock)
        return rms_dbfs(Audio(window, self.rate)) if len(window) else -120.0

    def tick(self, seconds: float) -> None:
        self.clock += seconds

    def _window(self, start: float, end: float) -> np.ndarray:
        out = np.zeros(max(0, int((end - start) * self.rate)), dtype=np.float32)
        for part_start, samples in self._parts:
            lo = int((max(start, part_start) - part_start) * self.rate)
            hi = int((min(end, part_start + len(samples) / self.rate) - part_start) * self.rate)
            if hi > lo:
                at = int((max(start, part_start) - start) * self.rate)
                out[at: at + hi - lo] += samples[lo:hi][: len(out) - at]
        return out

    def render(self) -> Audio:
        """Everything played, silence between replies, from time zero."""
        end = max([self._end, self.clock])
        return Audio(self._window(0.0, end), self.rate)


def spoken_text(chunks: list[tuple[str, float]], heard: float) -> str:
    """The words of queued chunks (text, seconds) that fit in `heard` seconds; a chunk cut midway keeps the
    share of its words that was played."""
    words: list[str] = []
    elapsed = 0.0
    for text, seconds in chunks:
        if elapsed + seconds <= heard + 1e-6:
            words += text.split()
        elif heard > elapsed and seconds > 0:
            part = text.split()
            words += part[: int(len(part) * (heard - elapsed) / seconds)]
            break
        else:
            break
        elapsed += seconds
    return " ".join(words)


def is_backchannel(text: str) -> bool:
    """ "mm-hm", "yeah", "okay": listening noises that must not interrupt."""
    return re.sub(r"[^\w\s-]", "", text.lower()).strip() in BACKCHANNELS


class VoiceLoop:
    """One user's spoken conversation over any transport."""

    def __init__(self, companion: Companion, *, vad: VAD, stt: STT, tts: TTS, sink: Sink,
                 config: LoopConfig | None = None, on_latency: Callable[[TurnLatency], None] | None = None,
                 on_event: Callable[[CompanionEvent], None] | None = None) -> None:
        self.companion, self.vad, self.stt, self.tts, self.sink = companion, vad, stt, tts, sink
        self.config = config or LoopConfig()
        self.segmenter = Segmenter(self.config.segmenter)
        self.on_latency = on_latency
        self.on_event = on_event
        self.latencies: list[TurnLatency] = []
        self.interruptions = 0
        self._frame = 0
        self._preroll: deque[tuple[int, Samples]] = deque(maxlen=self.config.segmenter.frames(
            self.config.segmenter.start_ms) + LEAD_FRAMES + 2)
        self._stream: STTStream | None = None
        self._user_frames = 0
        self._reply: asyncio.Task[None] | None = None
        self._reply_id: int | None = None
        self._chunks: list[tuple[str, float]] = []

    def replying(self) -> bool:
        """Whether the OS is generating or speaking a reply."""
        return (self._reply is not None and not self._reply.done()) or self.sink.playing()

    async def run(self, frames: AsyncIterable[Samples], *, lockstep: bool = False) -> None:
        """Process 16 kHz frames of 512 samples until they end. `lockstep` (files): each reply is generated
        before the next frame is read, so the virtual clock of a TimelineSink lines up with the input."""
        async for frame in frames:
            await self.push(frame, lockstep=lockstep)
        if self._reply is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply

    async def push(self, frame: Samples, *, lockstep: bool = False) -> None:
        """Take one frame."""
        self.sink.tick(FRAME_S)
        probability = self.vad.probability(frame)
        if self.sink.playing() and self._echo(frame):
            probability = 0.0
        event = self.segmenter.push(probability)
        self._preroll.append((self._frame, frame))
        self._frame += 1
        if isinstance(event, SpeechStarted):
            self._open_stream(event.frame)
        elif self._stream is not None and self.segmenter.speaking:
            self._stream.feed(Audio(frame, RATE))
        if self.segmenter.speaking and self.replying() and probability >= self.config.segmenter.threshold:
            self._user_frames += 1  # frames of actual speech: a backchannel's trailing pause does not count
            if self._user_frames * FRAME_S * 1000 >= self.config.barge_in_ms:
                await self.interrupt()
        if isinstance(event, SpeechEnded):
            await self._turn_ended(lockstep, (self._frame - event.frame) * FRAME_S)

    def _echo(self, frame: Samples) -> bool:
        mic = rms_dbfs(Audio(frame, RATE))
        return mic < self.sink.level() - self.config.echo_margin_db

    def _open_stream(self, first: int) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = self.stt.stream()
        self._user_frames = 0
        for index, frame in self._preroll:
            if index >= first - LEAD_FRAMES:
                self._stream.feed(Audio(frame, RATE))

    async def _turn_ended(self, lockstep: bool, silent_for: float) -> None:
        ended = time.monotonic()
        stream, self._stream = self._stream, None
        if stream is None:
            return
        transcript = await asyncio.to_thread(stream.final)
        stream.close()
        text = transcript.text.strip()
        if not text or (self.replying() and is_backchannel(text)):
            return
        if self.replying():
            await self.interrupt()
        self._reply = asyncio.create_task(self._speak(text, (ended - silent_for, ended), time.monotonic()))
        if lockstep:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply

    async def interrupt(self) -> None:
        """Stop speaking now, cancel the reply, and keep only the words that were heard."""
        heard = self.sink.played()
        self.sink.stop()
        self._user_frames = 0
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply
        if self._reply_id is not None:
            self.companion.truncate_reply(self._reply_id, spoken_text(self._chunks, heard))
            self.interruptions += 1
        self._reply_id = None

    async def _speak(self, text: str, ended: tuple[float, float], transcribed: float) -> None:
        self.sink.begin()
        self._chunks, self._reply_id = [], None
        chunker = Chunker()
        first_token = first_audio = 0.0
        async for event in self.companion.say(text):
            if self.on_event is not None:
                self.on_event(event)
            if isinstance(event, ReplyStarted):
                self._reply_id = event.turn_id
            pieces: list[str] = []
            if isinstance(event, ReplyDelta):
                first_token = first_token or time.monotonic()
                pieces = chunker.push(event.text)
            elif isinstance(event, Prompt | ErrorEvent):
                pieces = [event.text if isinstance(event, Prompt) else event.message]
            for piece in pieces:
                if await self._say(piece) and not first_audio:
                    first_audio = time.monotonic()
        for piece in chunker.flush():
            if await self._say(piece) and not first_audio:
                first_audio = time.monotonic()
        if first_audio:
            latency = TurnLatency(text, *ended, transcribed, first_token or first_audio, first_audio)
            self.latencies.append(latency)
            if self.on_latency is not None:
                self.on_latency(latency)

    async def _say(self, text: str) -> bool:
        if not text.strip():
            return False
        audio = await asyncio.to_thread(self.tts.synthesize, text)
        self.sink.play(audio)
        self._chunks.append((text, audio.duration))
        return True


async def file_frames(audio: Audio, *, tail_s: float = 1.0, realtime: bool = False) -> AsyncIterable[Samples]:
    """The frames of a recording at 16 kHz, then `tail_s` of silence so its last turn can end; `realtime`
    paces them as a microphone would (for latency measurements)."""
    mono = resample(audio, RATE).samples
    padded = np.concatenate([mono, np.zeros(int(tail_s * RATE), dtype=np.float32)])
    begin = time.monotonic()
    for index, start in enumerate(range(0, len(padded) - FRAME + 1, FRAME)):
        if realtime:
            await asyncio.sleep(max(0.0, begin + index * FRAME_S - time.monotonic()))
        else:
            await asyncio.sleep(0)
        yield padded[start: start + FRAME]
