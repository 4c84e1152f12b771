"""Light stand-ins for the speech engines, for tests of the voice loop that need many minutes of audio or
exact control; the real engines are tested beside them."""

from __future__ import annotations

import numpy as np

from os1.events import Transcript
from os1.speech.audio import Audio, Samples, frames, resample, rms_dbfs
from os1.speech.stt import STT
from os1.speech.tts import TTS
from os1.speech.vad import VAD


class FakeVAD(VAD):
    """Speech is any frame louder than `threshold_db` dBFS (no model)."""

    name = "fake"

    def __init__(self, threshold_db: float = -40.0) -> None:
        self.threshold_db = threshold_db

    def probability(self, frame: Samples) -> float:
        return 1.0 if rms_dbfs(Audio(frame, self.sample_rate)) > self.threshold_db else 0.0


class FakeSTT(STT):
    """"Hears" one `word` per `seconds_per_word` of sound louder than -40 dBFS; records the longest stretch
    of audio any one utterance was given (`longest_s`)."""

    name = "fake"

    def __init__(self, word: str = "la", seconds_per_word: float = 0.5) -> None:
        self.word, self.seconds_per_word = word, seconds_per_word
        self.longest_s = 0.0
        self.utterances = 0

    def transcribe(self, audio: Audio) -> Transcript:
        clip = resample(audio, self.sample_rate)
        self.longest_s = max(self.longest_s, clip.duration)
        self.utterances += 1
        voiced = sum(rms_dbfs(Audio(frame, clip.sample_rate)) > -40 for frame in frames(clip, 160)) * 0.01
        return Transcript(" ".join([self.word] * int(voiced / self.seconds_per_word)))


class FakeTTS(TTS):
    """A 220 Hz tone, `seconds_per_word` long per word: audible, of a predictable length."""

    name = "fake"
    sample_rate = 16_000

    def __init__(self, seconds_per_word: float = 0.25) -> None:
        self.seconds_per_word = seconds_per_word
        self.spoken: list[str] = []

    def synthesize(self, text: str) -> Audio:
        self.spoken.append(text)
        n = int(len(text.split()) * self.seconds_per_word * self.sample_rate)
        return Audio((0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / self.sample_rate)).astype(np.float32),
                     self.sample_rate)
