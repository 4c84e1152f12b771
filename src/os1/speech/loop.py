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

from os1.companion import Companion, Prepared, memories_still_serve
from os1.errors import OS1Error
from os1.events import (
    CompanionEvent,
    ErrorEvent,
    Prompt,
    ReplyDelta,
    ReplyDone,
    ReplyStarted,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    TurnStored,
    UserSpoke,
)
from os1.speech.audio import Audio, Samples, resample, rms_dbfs
from os1.speech.chunker import Chunker, ChunkRules
from os1.speech.stt import STT, STTStream
from os1.speech.tts import TTS
from os1.speech.turns import holds_floor
from os1.speech.vad import VAD, Segmenter, SegmenterConfig

RATE = 16_000
FRAME = 512
FRAME_S = FRAME / RATE
ECHO_WINDOW_S = 0.15
"""How far back the echo guard looks at what was played: a room and a sound card delay the echo."""
LEAD_FRAMES = 3
"""Frames kept before the VAD's first speech frame: it notices an onset a little late."""
CUE_FRAMES = 47
"""The last 1.5 s of an utterance is what its end-of-turn pitch cue looks at."""
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
    gap: float = 0.0
    """Silence between the first phrase's end and the second's start, in seconds (0: it was ready in time)."""

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
    hold_ms: float = 900.0
    """Silence that ends a turn whose last words say the user is not done ("and…", "the…")."""
    rise_hold_ms: float = 480.0
    """Silence that ends a turn on a rising pitch (a weaker cue: statements rise too)."""
    prepare_every_ms: float = 320.0
    """How often, while the user speaks, the reply is prepared from the words so far."""
    memory_tokens: int = 96
    """Most tokens of recalled memories a spoken reply reads: the model must read them all before it starts."""
    chunks: ChunkRules = field(default_factory=lambda: ChunkRules(first_words=2))
    """How replies are cut for speech synthesis: a two-word first phrase is heard soonest."""
    merge_ms: float = 1200.0
    """Speech that starts this soon after a turn was committed continues it: the OS stops at once, and answers
    everything said (the pause only seemed to end the turn)."""
    continue_ms: float = 2500.0
    """Speech that starts later than `merge_ms` but this soon after the commit, while the OS is still answering,
    also continues the turn (a long pause for thought inside a sentence), unless it is a backchannel: the OS
    stops only as at a barge-in, and the whole is answered as one turn."""
    max_utterance_s: float = 30.0
    """Speech without a pause is recognised in stretches this long (memory and time stay bounded)."""


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

    def remaining(self) -> float:
        """Seconds of queued audio still to play."""
        return max(0.0, self._end - self.clock)

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


class _Turn:
    """Times of the turn being answered (seconds on the monotonic clock)."""

    def __init__(self, text: str, stopped: float, transcript: float, amend: int | None,
                 fresh: str | None = None) -> None:
        self.text, self.stopped, self.transcript, self.amend = text, stopped, transcript, amend
        self.fresh = text if fresh is None else fresh
        """What this utterance added (`text` also holds the turn it continues): a backchannel is judged by it."""
        self.committed = self.first_token = self.first_audio = 0.0
        self.first_ends = self.gap = 0.0
        """When the first phrase has played out; how long the second came after it."""
        self.frame = 0
        """The input frame at which the turn was committed."""
        self.audio: list[Samples] = []
        """What the user said, as heard since the last cut (a continuation is recognised again with it)."""
        self.said: list[str] = []
        """The text of stretches before the last cut (a long monologue)."""


class VoiceLoop:
    """One user's spoken conversation over any transport.

    While the user speaks, the companion prepares (recall, and the model reads the context up to the words
    so far). At the first pause the transcript is finalised and the reply starts speculatively: the model
    writes and the first phrases are synthesised, but nothing is stored or played. If the silence lasts (the
    end of the turn) the reply is committed, stored and played; if the user goes on, it is dropped without a
    trace and recognition resumes over the whole utterance.
    """

    def __init__(self, companion: Companion, *, vad: VAD, stt: STT, tts: TTS, sink: Sink,
                 config: LoopConfig | None = None, on_latency: Callable[[TurnLatency], None] | None = None,
                 on_event: Callable[[CompanionEvent | UserSpoke], None] | None = None) -> None:
        self.companion, self.vad, self.stt, self.tts, self.sink = companion, vad, stt, tts, sink
        self.config = config or LoopConfig()
        self.segmenter = Segmenter(self.config.segmenter)
        self.on_latency = on_latency
        self.on_event = on_event
        self.show_context = False
        """Whether each reply's events begin with `ContextShown` (what the model was given), for a debug view."""
        self.latencies: list[TurnLatency] = []
        self.interruptions = 0
        self.withdrawn = 0
        """Speculative replies dropped because the user went on speaking."""
        self._frame = 0
        self._preroll: deque[tuple[int, Samples]] = deque(maxlen=self.config.segmenter.frames(
            self.config.segmenter.start_ms) + LEAD_FRAMES + 2)
        self._stream: STTStream | None = None
        self._heard: list[Samples] = []
        """This utterance's audio since the last cut (re-read by recognition when speech resumes)."""
        self._said: list[str] = []
        """Text of the utterance's earlier stretches (a long monologue is recognised in pieces)."""
        self._fresh_from = 0
        """Where this utterance's own stretches begin in `_said` (before: the turn it continues)."""
        self._pending: _Turn | None = None
        self._user_frames = 0
        self._reply: asyncio.Task[None] | None = None
        self._commit: asyncio.Future[bool] | None = None
        self._reply_id: int | None = None
        self._chunks: list[tuple[str, float]] = []
        self._prepared: Prepared | None = None
        self._preparing: asyncio.Task[None] | None = None
        self._recalled_at = 0
        """How many words the utterance had when its memories were recalled."""
        self._voiced: dict[str, asyncio.Task[Audio]] = {}
        self._last_voiced: asyncio.Task[Audio] | None = None
        self._ahead = Chunker(self.config.chunks)
        self._answered: tuple[_Turn, int] | None = None
        """The user's last turn and its stored id, while it may still be continued."""
        self._amend: int | None = None
        """The stored turn the current utterance continues."""

    def replying(self) -> bool:
        """Whether the OS is answering for real: a committed reply being made, or audio coming out."""
        speculating = self._commit is not None and not self._commit.done()
        return (self._reply is not None and not self._reply.done() and not speculating) or self.sink.playing()

    async def run(self, frames: AsyncIterable[Samples], *, lockstep: bool = False) -> None:
        """Process 16 kHz frames of 512 samples until they end. `lockstep` (files): each reply is generated
        before the next frame is read, so the virtual clock of a TimelineSink lines up with the input."""
        if self._preparing is None:  # the model reads the persona and history while the user starts to talk
            self._preparing = asyncio.create_task(self._warm())
        try:
            async for frame in frames:
                await self.push(frame, lockstep=lockstep)
            if self._reply is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reply
        finally:
            await self._settle()

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
            await self._started(event.frame)
        elif self.segmenter.speaking:
            self._heard.append(frame)
            if self._stream is not None:
                self._stream.feed(Audio(frame, RATE))
        if self.segmenter.speaking and self.replying() and probability >= self.config.segmenter.threshold:
            self._user_frames += 1  # frames of actual speech: a backchannel's trailing pause does not count
            if self._user_frames * FRAME_S * 1000 >= self.config.barge_in_ms:
                await self.interrupt()
        if isinstance(event, SpeechPaused):
            await self._paused((self._frame - event.frame) * FRAME_S)
        elif isinstance(event, SpeechResumed):
            await self._resumed()
        elif isinstance(event, SpeechEnded):
            await self._ended(lockstep)
        elif self._stream is not None and not self.segmenter.pausing:
            await self._keep_up()

    def _echo(self, frame: Samples) -> bool:
        mic = rms_dbfs(Audio(frame, RATE))
        return mic < self.sink.level() - self.config.echo_margin_db

    async def _started(self, first: int) -> None:
        """Speech began: a new utterance, or the last one going on after the OS had started to answer it."""
        answered, self._answered = self._answered, None
        self._open(first)
        if answered is None:
            return
        since = first - answered[0].frame
        frames = self.config.segmenter.frames
        if since <= frames(self.config.merge_ms):
            await self._stop()
            turn, self._amend = answered
            self._heard = [*turn.audio, *self._heard]  # recognised as one utterance: better than two halves
            self._said = turn.said
            await self._reread()
        elif since <= frames(self.config.continue_ms) and self.replying():
            turn, self._amend = answered  # the OS goes on until a barge-in; a backchannel changes nothing
            self._said, self._fresh_from = [turn.text], 1

    async def _reread(self) -> None:
        """Recognise the utterance's audio since the last cut again, in a new stream that goes on from there."""
        if self._stream is not None:
            self._stream.close()
        self._stream = self.stt.stream()
        if self._heard:
            await asyncio.to_thread(self._stream.feed, Audio(np.concatenate(self._heard), RATE))

    def _open(self, first: int) -> None:
        """A new utterance: recognition starts from a little before the detected onset."""
        if self._stream is not None:
            self._stream.close()
        self._stream = self.stt.stream()
        self._user_frames = 0
        self._heard, self._said, self._pending, self._prepared, self._recalled_at = [], [], None, None, 0
        self._amend, self._fresh_from = None, 0
        for index, frame in self._preroll:
            if index >= first - LEAD_FRAMES:
                self._heard.append(frame)
                self._stream.feed(Audio(frame, RATE))

    async def _keep_up(self) -> None:
        """While the user speaks: cut a long monologue into pieces, and prepare the reply now and then."""
        assert self._stream is not None
        if len(self._heard) * FRAME_S >= self.config.max_utterance_s:
            stream, self._stream = self._stream, self.stt.stream()
            self._said.append((await asyncio.to_thread(stream.final)).text)
            self._heard = []
        every = max(1, round(self.config.prepare_every_ms / 1000 / FRAME_S))
        if self._frame % every or self.replying() or (self._preparing is not None and not self._preparing.done()):
            return
        words = " ".join([*self._said, self._stream.partial().text]).strip()
        if words and (self._prepared is None or self._prepared.text != words):
            self._preparing = asyncio.create_task(self._prepare(words))

    async def _prepare(self, words: str) -> None:
        """Prepare the reply to `words`. Memories are recalled afresh only when the words have doubled since
        the last recall: each new set makes the model read the changed context again."""
        last = self._prepared
        keep = last if last is not None and memories_still_serve(len(words.split()), self._recalled_at) else None
        with contextlib.suppress(OS1Error):  # a hint only: the reply works without it
            prepared = await self.companion.prepare(words, keep=keep, memory_tokens=self.config.memory_tokens,
                                                    amend=self._amend)
            if prepared is not None:
                if keep is None:
                    self._recalled_at = len(words.split())
                self._prepared = prepared

    async def _warm(self) -> None:
        """Between turns: have the model read the conversation so far."""
        with contextlib.suppress(OS1Error):
            await self.companion.prepare("")

    async def _paused(self, silent_for: float) -> None:
        """The user went quiet: finalise what they said and start the reply, unheard until the turn ends."""
        stopped = time.monotonic() - silent_for
        stream, self._stream = self._stream, None
        if stream is None:
            return
        final = (await asyncio.to_thread(stream.final)).text
        text = " ".join([*self._said, final]).strip()
        fresh = " ".join([*self._said[self._fresh_from:], final]).strip()
        stream.close()
        self._pending = _Turn(text, stopped, time.monotonic(), self._amend, fresh)
        if not fresh or self.replying():  # while the OS speaks, the end of the turn decides (backchannel or not)
            return
        tail = np.concatenate(self._heard[-CUE_FRAMES:]) if self._heard else None
        cue = holds_floor(text, tail, RATE)
        if cue is not None:
            self.segmenter.hold(self.config.rise_hold_ms if cue == "rising pitch" else self.config.hold_ms)
        if self._preparing is not None:
            self._preparing.cancel()
        self._commit = asyncio.get_running_loop().create_future()
        self._reply = asyncio.create_task(self._speak(self._pending, self._commit))

    async def _resumed(self) -> None:
        """The user went on: drop the speculative reply and recognise the utterance again from its start."""
        if self._commit is not None and not self._commit.done():
            self._commit.set_result(False)
            self.withdrawn += 1
            await self._settle()
        self._pending = None
        await self._reread()

    async def _ended(self, lockstep: bool) -> None:
        """The silence lasted: commit the speculative reply, or (while the OS was speaking) decide now."""
        turn, self._pending = self._pending, None
        if turn is not None:
            turn.frame, turn.audio, turn.said = self._frame, self._heard, self._said
        if self._commit is not None and not self._commit.done():
            assert turn is not None
            turn.committed = time.monotonic()
            self._commit.set_result(True)
        else:
            if turn is None or not turn.fresh or (self.replying() and is_backchannel(turn.fresh)):
                return
            if self.replying():
                await self.interrupt()
            turn.committed = time.monotonic()
            self._commit = None
            self._reply = asyncio.create_task(self._speak(turn, None))
        if lockstep and self._reply is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply

    async def interrupt(self) -> None:
        """Stop speaking now, cancel the reply, and keep only the words that were heard."""
        if await self._stop() is not None:
            self.interruptions += 1

    async def _stop(self) -> int | None:
        """Stop the reply where the user is; return its stored id, or None when none was under way."""
        heard = self.sink.played()
        self.sink.stop()
        self._user_frames = 0
        await self._settle()
        reply_id, self._reply_id = self._reply_id, None
        if reply_id is not None:
            kept = spoken_text(self._chunks, heard)
            self.companion.truncate_reply(reply_id, kept)
            if self.on_event is not None:  # what is kept of the reply: the words the user heard
                self.on_event(ReplyDone(kept.strip(), reply_id, "interrupted"))
        return reply_id

    async def _settle(self) -> None:
        """Cancel whatever reply work is in flight and wait for it to let go."""
        if self._commit is not None and not self._commit.done():
            self._commit.set_result(False)
        for task in [self._reply, self._preparing, *self._voiced.values()]:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OS1Error):
                    await task
        self._voiced, self._last_voiced = {}, None

    async def _speak(self, turn: _Turn, commit: asyncio.Future[bool] | None) -> None:
        self._chunks, self._reply_id = [], None
        self._voiced, self._last_voiced, self._ahead = {}, None, Chunker(self.config.chunks)
        chunker = Chunker(self.config.chunks)
        began = False

        def ahead(delta: str) -> None:  # the model's words as they come: synthesise phrases before they are due
            turn.first_token = turn.first_token or time.monotonic()
            for piece in self._ahead.push(delta):
                self._voice_ahead(piece)

        async for event in self.companion.say(turn.text, prepared=self._prepared, commit=commit, preview=ahead,
                                              amend=turn.amend, spoken=True, show_context=self.show_context):
            if not began:
                self.sink.begin()
                began = True
                if self.on_event is not None:  # what is being answered, before the answer
                    self.on_event(UserSpoke(turn.text))
            if self.on_event is not None:
                self.on_event(event)
            if isinstance(event, ReplyStarted):
                self._reply_id = event.turn_id
            elif isinstance(event, TurnStored):
                self._answered = (turn, event.turn_id)
            pieces: list[str] = []
            if isinstance(event, ReplyDelta):
                pieces = chunker.push(event.text)
            elif isinstance(event, Prompt | ErrorEvent):
                pieces = [event.text if isinstance(event, Prompt) else event.message]
            for piece in pieces:
                await self._say(piece, turn)
        for piece in chunker.flush():
            await self._say(piece, turn)
        if not self.segmenter.speaking:
            self._preparing = asyncio.create_task(self._warm())
        if turn.first_audio:
            latency = TurnLatency(turn.text, turn.stopped, turn.committed, turn.transcript,
                                  turn.first_token or turn.first_audio, turn.first_audio, turn.gap)
            self.latencies.append(latency)
            if self.on_latency is not None:
                self.on_latency(latency)

    async def announce(self, text: str) -> None:
        """Say `text` that is not a reply (a timer going off): phrase by phrase, after any speech still queued.
        The user cutting in stops it as it stops a reply."""
        chunker = Chunker(self.config.chunks)
        for piece in [*chunker.push(text), *chunker.flush()]:
            if piece.strip():
                self.sink.play(await asyncio.to_thread(self.tts.synthesize, piece))

    def _voice_ahead(self, text: str) -> None:
        """Start synthesising `text` after the phrases already queued."""
        if not text.strip() or text in self._voiced:
            return
        before = self._last_voiced

        async def synthesise() -> Audio:
            if before is not None:
                await asyncio.wait([before])
            return await asyncio.to_thread(self.tts.synthesize, text)

        self._voiced[text] = self._last_voiced = asyncio.create_task(synthesise())

    async def _say(self, text: str, turn: _Turn) -> None:
        if not text.strip():
            return
        ready = self._voiced.pop(text, None)
        audio = await ready if ready is not None else await asyncio.to_thread(self.tts.synthesize, text)
        self.sink.play(audio)
        played = time.monotonic()
        if not self._chunks:  # this reply's first phrase
            turn.first_audio, turn.first_ends = played, played + audio.duration
        elif len(self._chunks) == 1:
            turn.gap = max(0.0, played - turn.first_ends)
        self._chunks.append((text, audio.duration))


async def file_frames(audio: Audio, *, tail_s: float = 1.0, realtime: bool = False,
                      start: float | None = None) -> AsyncIterable[Samples]:
    """The frames of a recording at 16 kHz, then `tail_s` of silence so its last turn can end; `realtime`
    paces them as a microphone would, each frame arriving once its last sample has been "recorded" (the
    recording starting at `start` on the monotonic clock, or now)."""
    mono = resample(audio, RATE).samples
    padded = np.concatenate([mono, np.zeros(int(tail_s * RATE), dtype=np.float32)])
    begin = time.monotonic() if start is None else start
    for index, first in enumerate(range(0, len(padded) - FRAME + 1, FRAME)):
        if realtime:
            await asyncio.sleep(max(0.0, begin + (index + 1) * FRAME_S - time.monotonic()))
        else:
            await asyncio.sleep(0)
        yield padded[first: first + FRAME]
