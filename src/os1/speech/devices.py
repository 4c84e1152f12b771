"""The local microphone and speaker through PortAudio (`sounddevice`), for live `os1 talk`.

    mic ─▶ InputStream callback (PortAudio's thread) ─▶ asyncio queue ─▶ FrameAssembler ─▶ 16 kHz frames of 512
    reply audio ─▶ SpeakerSink.play ─▶ PlaybackBuffer ◀── OutputStream callback pulls ~20 ms blocks ─▶ speaker

The I/O is thin; the logic lives in two pure classes tested without a sound card: `FrameAssembler` (blocks of
any size and rate in, VAD frames out) and `PlaybackBuffer` (the queue the speaker pulls from, with the seconds
of the current reply heard so far and the level coming out now, for barge-in and the echo guard).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from os1.errors import ConfigError, SpeechUnavailable
from os1.speech.audio import Audio, Framer, Samples, resample, rms_dbfs
from os1.speech.errors import require
from os1.speech.loop import ECHO_WINDOW_S, FRAME, RATE, Sink

Device = int | str | None
"""A PortAudio device: its index, part of its name, or None for the system default."""

BLOCK_S = 0.02
"""Seconds per callback block: `stop` takes effect within one."""
FILES_HINT = "or talk from recordings: `os1 talk --in question.wav --out answer.wav`"
DEVICE_HINT = f"Pick a device with `os1 talk --device N` (`os1 talk --list-devices` shows them), {FILES_HINT}."


# --- pure parts ---------------------------------------------------------------------------------------------


class StreamResampler:
    """Resamples a stream block by block, giving the same samples as `resample` on the whole stream.

    Each block is resampled with enough input on both sides for the filter, so block edges leave no seams;
    the price is a delay of a few input samples (up to one `down` period, 10 ms at 44.1 kHz).
    """

    def __init__(self, source: int, target: int) -> None:
        gcd = math.gcd(source, target)
        self.source, self.target = source, target
        self.up, self.down = target // gcd, source // gcd
        self._reach = -(-10 * max(self.up, self.down) // self.up) + 2  # input samples the filter spans, each side
        self._left = -(-self._reach // self.down) * self.down  # left context: a whole number of `down` periods
        self._pending = np.zeros(self._left, dtype=np.float32)  # the stream begins after silence, as `resample` pads

    def push(self, block: ArrayLike) -> Samples:
        """Add input samples; return the output samples that are now final."""
        self._pending = np.concatenate([self._pending, np.asarray(block, dtype=np.float32).ravel()])
        periods = (len(self._pending) - self._left - self._reach) // self.down
        if periods <= 0:
            return np.zeros(0, dtype=np.float32)
        span = periods * self.down
        segment = self._pending[: self._left + span + self._reach]
        first = self._left * self.up // self.down
        out = resample(Audio(segment, self.source), self.target).samples[first: first + span * self.up // self.down]
        self._pending = self._pending[span:]
        return np.array(out, dtype=np.float32)


class FrameAssembler:
    """Microphone blocks of any size, rate and channel count in; frames of exactly `size` samples at `rate` out."""

    def __init__(self, source_rate: int, *, rate: int = RATE, size: int = FRAME) -> None:
        self.source_rate, self.rate = source_rate, rate
        self._resampler = StreamResampler(source_rate, rate) if source_rate != rate else None
        self._framer = Framer(size)

    def push(self, block: ArrayLike) -> list[Samples]:
        """Add one block (1-D, or frames × channels, which are averaged); return every frame now complete."""
        data = np.asarray(block, dtype=np.float32)
        mono = data.mean(axis=1) if data.ndim == 2 else data.ravel()
        if self._resampler is not None:
            mono = self._resampler.push(mono)
        return self._framer.push(mono)


class PlaybackBuffer:
    """What the speaker will play: written by the voice loop, pulled by the audio callback on another thread.

    It counts what the device was handed, and when each block will be heard (`pull`'s `delay`), so `played`
    is the part of the current reply that has come out of the speaker, and `level` that of the last
    `window_s` of output.
    """

    def __init__(self, rate: int, *, window_s: float = ECHO_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._queue: deque[Samples] = deque()
        self._queued = 0
        self._pulled = 0
        """Samples of the current reply handed to the device."""
        self._heard = 0
        """Of those, the samples whose time to come out has passed."""
        self._marks: deque[tuple[float, int]] = deque()
        """(when it is heard, `_pulled` after that block) for blocks not yet heard."""
        self._recent = np.zeros(max(1, round(window_s * rate)), dtype=np.float32)

    def write(self, samples: ArrayLike) -> None:
        """Queue samples after what is queued."""
        data = np.array(samples, dtype=np.float32).ravel()
        if len(data):
            with self._lock:
                self._queue.append(data)
                self._queued += len(data)

    def pull(self, n: int, *, delay: float = 0.0) -> Samples:
        """The next `n` samples for the device, silence where nothing is queued; they are heard `delay` s on."""
        out = np.zeros(n, dtype=np.float32)
        with self._lock:
            filled = 0
            while filled < n and self._queue:
                head = self._queue[0]
                take = min(n - filled, len(head))
                out[filled: filled + take] = head[:take]
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
                filled += take
            self._queued -= filled
            if filled:
                self._pulled += filled
                self._marks.append((self._clock() + delay, self._pulled))
            self._recent = np.concatenate([self._recent, out])[-len(self._recent):]
        return out

    def stop(self) -> None:
        """Drop everything queued: the next pull is silence."""
        with self._lock:
            self._queue.clear()
            self._queued = 0

    def begin(self) -> None:
        """A new reply starts: `played` counts from zero."""
        with self._lock:
            self._marks.clear()
            self._pulled = self._heard = 0

    def played(self) -> float:
        """Seconds of the current reply that have come out so far."""
        with self._lock:
            self._settle()
            return self._heard / self.rate

    def playing(self) -> bool:
        """Whether audio is queued or still on its way out of the device."""
        with self._lock:
            self._settle()
            return self._queued > 0 or bool(self._marks)

    def queued(self) -> float:
        """Seconds queued and not yet pulled."""
        with self._lock:
            return self._queued / self.rate

    def level(self) -> float:
        """dBFS of the last `window_s` pulled (silence included)."""
        with self._lock:
            return rms_dbfs(self._recent)

    def _settle(self) -> None:
        now = self._clock()
        while self._marks and self._marks[0][0] <= now:
            self._heard = self._marks.popleft()[1]


class BlockQueue:
    """Microphone blocks from PortAudio's thread to the event loop: bounded, the oldest dropped (and counted)
    when the loop falls behind, and one wake-up per batch rather than per block, so a flood of blocks cannot
    bury the loop's other work (Ctrl-C included)."""

    def __init__(self, max_blocks: int) -> None:
        self._blocks: deque[Samples] = deque()
        self._lock = threading.Lock()
        self._max = max(1, max_blocks)
        self._notified = False
        self.dropped = 0

    def put(self, block: Samples) -> bool:
        """Add a block (any thread); True when the consumer must be woken (nothing was waiting for it)."""
        with self._lock:
            if len(self._blocks) >= self._max:
                self._blocks.popleft()
                self.dropped += 1
            self._blocks.append(block)
            wake, self._notified = not self._notified, True
            return wake

    def drain(self) -> list[Samples]:
        """Take every block, oldest first; the next `put` wakes the consumer again."""
        with self._lock:
            blocks, self._notified = list(self._blocks), False
            self._blocks.clear()
            return blocks


def parse_device(text: str | None) -> tuple[Device, Device]:
    """`--device` as (input, output): an index or part of a name for both, or `IN,OUT`; empty means default."""
    if text is None:
        return None, None
    parts = [part.strip() for part in text.split(",")] if "," in text else [text.strip(), text.strip()]
    if len(parts) != 2:
        raise ConfigError(f"--device takes one device or IN,OUT, not '{text}'.", hint=DEVICE_HINT)
    pick: list[Device] = [int(part) if part.isdigit() else (part or None) for part in parts]
    return pick[0], pick[1]


# --- PortAudio ----------------------------------------------------------------------------------------------


def sounddevice() -> Any:
    """The `sounddevice` module, or `SpeechUnavailable` naming what to install."""
    try:
        return require("sounddevice", what="Live talk (microphone and speaker)")
    except OSError as exc:  # the package is there but not the PortAudio library it loads
        raise SpeechUnavailable("Live talk needs the PortAudio library, which is not installed.",
                                hint=f"Install it with `sudo apt install libportaudio2`, {FILES_HINT}.") from exc


@contextlib.contextmanager
def device_errors(what: str) -> Iterator[None]:
    """Turn PortAudio's errors (no device, a name that matches none, a busy device) into one clear error."""
    sd = sounddevice()
    try:
        yield
    except (sd.PortAudioError, ValueError) as exc:
        raise SpeechUnavailable(f"No usable {what}: {_reason(exc)}.", hint=DEVICE_HINT) from exc


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc).rstrip(".")
    return "this machine has no audio device" if "device -1" in text else text[:1].lower() + text[1:]


def device_table() -> list[str]:
    """One line per audio device PortAudio sees: index, name, host API, channels in/out, default rate."""
    sd = sounddevice()
    apis = [api["name"] for api in sd.query_hostapis()]
    default_in, default_out = sd.default.device
    lines = []
    for info in sd.query_devices():
        mark = ("<" if info["index"] == default_in else " ") + (">" if info["index"] == default_out else " ")
        lines.append(f"{mark} {info['index']:>2} {info['name']} ({apis[info['hostapi']]}, "
                     f"{info['max_input_channels']} in, {info['max_output_channels']} out, "
                     f"{info['default_samplerate']:.0f} Hz)")
    return lines


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """How a device will be opened."""

    index: int
    """PortAudio's device index."""
    name: str
    """The device's name, to show."""
    rate: int
    """Samples per second."""
    channels: int
    """1, or 2 for a device that refuses mono."""


def stream_format(device: Device, kind: str, preferred: int | None = None) -> StreamFormat:
    """How to open `device` for `kind` ('input' or 'output'): mono at `preferred` Hz if it takes that, else at
    its own default rate, in stereo if it refuses mono."""
    sd = sounddevice()
    with device_errors("microphone" if kind == "input" else "speaker"):
        info = sd.query_devices(device, kind=kind)
        index, native = int(info["index"]), int(info["default_samplerate"])
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        for rate, channels in dict.fromkeys([(preferred or native, 1), (native, 1), (native, 2)]):
            if channels <= info[f"max_{kind}_channels"]:
                with contextlib.suppress(sd.PortAudioError, ValueError):
                    check(device=index, samplerate=rate, channels=channels, dtype="float32")
                    return StreamFormat(index, str(info["name"]), rate, channels)
        raise ValueError(f"'{info['name']}' takes neither mono nor stereo float32 audio")


class MicFrames:
    """The microphone as an async iterable of 16 kHz mono frames of 512 samples.

    PortAudio's callback puts each ~20 ms block in a `BlockQueue` and wakes the event loop
    (`call_soon_threadsafe`); `dropped` counts the blocks lost when the loop fell more than `max_blocks` behind.
    """

    def __init__(self, device: Device = None, *, max_blocks: int = 100) -> None:
        self.format = stream_format(device, "input", RATE)
        self.max_blocks = max_blocks
        self._blocks = BlockQueue(max_blocks)

    @property
    def dropped(self) -> int:
        """Blocks dropped because the consumer fell behind."""
        return self._blocks.dropped

    async def __aiter__(self) -> AsyncGenerator[Samples, None]:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        assembler = FrameAssembler(self.format.rate)

        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            if self._blocks.put(np.array(indata, dtype=np.float32)):
                with contextlib.suppress(RuntimeError):  # the loop closed while the stream was stopping
                    loop.call_soon_threadsafe(ready.set)

        sd = sounddevice()
        with device_errors("microphone"):
            stream = sd.InputStream(device=self.format.index, samplerate=self.format.rate,
                                    channels=self.format.channels, dtype="float32",
                                    blocksize=round(self.format.rate * BLOCK_S), callback=callback)
            stream.start()
        try:
            while True:
                await ready.wait()
                ready.clear()
                for block in self._blocks.drain():
                    for frame in assembler.push(block):
                        yield frame
        finally:
            stream.close()


def mic_frames(device: Device = None) -> AsyncGenerator[Samples, None]:
    """The default (or chosen) microphone's frames: 16 kHz mono, 512 samples each, until the consumer stops."""
    return MicFrames(device).__aiter__()


class SpeakerSink(Sink):
    """The speaker: a PortAudio output stream that pulls ~20 ms blocks from a `PlaybackBuffer`.

    The stream runs from construction to `close` (silence when nothing is queued), so `stop` is heard within
    one block plus the device's own latency.
    """

    def __init__(self, device: Device = None, *, rate: int | None = None) -> None:
        sd = sounddevice()
        self.format = stream_format(device, "output", rate)
        self.rate = self.format.rate
        self.buffer = PlaybackBuffer(self.rate)
        self._latency = 0.0
        with device_errors("speaker"):
            self._stream = sd.OutputStream(device=self.format.index, samplerate=self.rate,
                                           channels=self.format.channels, dtype="float32",
                                           blocksize=round(self.rate * BLOCK_S), callback=self._callback)
            self._latency = float(self._stream.latency)
            self._stream.start()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        delay = float(time_info.outputBufferDacTime - time_info.currentTime)
        outdata[:] = self.buffer.pull(frames, delay=delay if 0.0 <= delay < 1.0 else self._latency)[:, None]

    def play(self, audio: Audio) -> None:
        self.buffer.write(resample(audio, self.rate).samples)

    def stop(self) -> None:
        self.buffer.stop()

    def begin(self) -> None:
        self.buffer.begin()

    def played(self) -> float:
        return self.buffer.played()

    def playing(self) -> bool:
        return self.buffer.playing()

    def level(self) -> float:
        return self.buffer.level()

    def close(self) -> None:
        """Stop the stream and release the device."""
        self.buffer.stop()
        self._stream.close()

    def __enter__(self) -> SpeakerSink:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
