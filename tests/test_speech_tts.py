"""Text to speech: Piper and espeak-ng for real, voice preferences, and the pure phrase chunker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from os1.errors import ConfigError
from os1.speech.audio import Audio, rms_dbfs
from os1.speech.chunker import Chunker, ChunkRules, aphrase_chunks, phrase_chunks
from os1.speech.errors import SpeechError, SpeechUnavailable
from os1.speech.tts import TTS, EspeakTTS, PiperTTS, check_preference

pytest_plugins = ["tests.speech_fixtures"]


def pitch_hz(clip: Audio) -> float:
    """Median fundamental frequency of the voiced 40 ms windows, by autocorrelation (60-400 Hz)."""
    size, rate = int(0.04 * clip.sample_rate), clip.sample_rate
    found = []
    for start in range(0, len(clip) - size, size):
        window = clip.samples[start : start + size].astype(np.float64)
        if rms_dbfs(window.astype(np.float32)) < -35:
            continue
        corr = np.correlate(window, window, "full")[size - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.5 * corr[0]:
            found.append(rate / lag)
    return float(np.median(found))


# --- Piper ----------------------------------------------------------------------------------------------


def test_piper_speaks(piper: PiperTTS) -> None:
    clip = piper.synthesize("Hello world, how are you today?")
    assert clip.sample_rate == 22050 and 1.0 < clip.duration < 4.0
    assert rms_dbfs(clip) > -30 and piper.gender == "male" and piper.matches("male") and not piper.matches("female")


def test_piper_empty_text_is_empty_audio(piper: PiperTTS) -> None:
    assert len(piper.synthesize("")) == 0 and len(piper.synthesize("   ")) == 0


def test_piper_streams_a_short_first_chunk_then_sentences(piper: PiperTTS) -> None:
    text = "Well, I think that sounds lovely. Shall we go to the park tomorrow afternoon?"
    clips = list(piper.stream(text))
    assert len(clips) == 3  # "Well," / "I think that sounds lovely." / "Shall we …?"
    assert clips[0].duration < clips[1].duration and all(c.sample_rate == 22050 for c in clips)


def test_piper_sounds_lower_than_espeaks_female(piper: PiperTTS, espeak_program: str) -> None:
    female = EspeakTTS.for_preference("female")
    text = "This is a test of the voice."
    assert pitch_hz(piper.synthesize(text)) < 160 < pitch_hz(female.synthesize(text))


def test_a_missing_piper_voice_names_the_fix(tmp_path: Path) -> None:
    pytest.importorskip("piper", reason="needs os1[voice]")
    with pytest.raises(SpeechUnavailable, match="No Piper voice") as info:
        PiperTTS(tmp_path / "nobody.onnx")
    assert ".onnx.json" in info.value.hint


# --- espeak-ng ------------------------------------------------------------------------------------------


def test_espeak_speaks_in_both_genders(espeak_program: str) -> None:
    female, male = EspeakTTS.for_preference("female"), EspeakTTS.for_preference("male")
    assert (female.voice, female.gender, male.gender) == ("en-us+f3", "female", "male")
    text = "The quick brown fox jumps over the lazy dog."
    high, low = female.synthesize(text), male.synthesize(text)
    assert high.sample_rate == 22050 and 1.0 < high.duration < 5.0
    assert pitch_hz(high) > pitch_hz(low) + 40


def test_espeak_reads_text_that_looks_like_options_and_unicode(espeak_program: str) -> None:
    voice = EspeakTTS()
    assert voice.synthesize("--help me, café").duration > 0.5
    assert len(voice.synthesize("")) == 0


def test_espeak_errors_are_clear(espeak_program: str) -> None:
    with pytest.raises(SpeechError, match="'nope'") as info:
        EspeakTTS("nope")
    assert "--voices" in info.value.hint
    with pytest.raises(SpeechUnavailable, match="espeak-ng") as missing:
        EspeakTTS(program="/nonexistent/espeak-ng")
    assert "apt-get install espeak-ng" in missing.value.hint


def test_voice_preferences_are_checked() -> None:
    assert [check_preference(v) for v in ("female", "male", "either")] == ["female", "male", "either"]
    with pytest.raises(ConfigError, match="robot"):
        check_preference("robot")


def test_a_plugin_voice_streams_through_the_base_class() -> None:
    class Beeper(TTS):
        name, sample_rate = "beep", 8000

        def synthesize(self, text: str) -> Audio:
            return Audio(np.full(len(text.split()) * 800, 0.1, dtype=np.float32), self.sample_rate)

    clips = list(Beeper().stream("One two three four. Five six."))
    assert [len(c) // 800 for c in clips] == [3, 1, 2]
    assert Beeper().matches("either") and not Beeper().matches("female")


# --- the chunker ----------------------------------------------------------------------------------------


def chunks_of(deltas: list[str], rules: ChunkRules | None = None) -> list[str]:
    return list(phrase_chunks(deltas, rules))


def tokens(text: str) -> list[str]:
    """Text as an LLM streams it: a word and its leading space per delta."""
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])]


def test_first_chunk_is_three_words_then_sentences_and_long_clauses() -> None:
    text = ("I really think that the garden looks wonderful this morning. After lunch, we could walk down to the "
            "river, feed the ducks, and then come home for tea. Sounds good?")
    assert chunks_of(tokens(text)) == [
        "I really think",
        "that the garden looks wonderful this morning.",
        "After lunch, we could walk down to the river,",
        "feed the ducks, and then come home for tea.",
        "Sounds good?",
    ]


def test_the_first_chunk_is_emitted_as_soon_as_its_last_word_is_complete() -> None:
    chunker = Chunker()
    assert chunker.push("Oh") == [] and chunker.push(" that") == [] and chunker.push(" sounds") == []
    assert chunker.push(" wonder") == ["Oh that sounds"]  # "sounds" is complete once the next word starts
    assert chunker.push("ful") == [] and chunker.push(".") == []
    assert chunker.push(" ") == ["wonderful."] and chunker.flush() == []


def test_an_early_clause_or_sentence_end_cuts_the_first_chunk_short() -> None:
    assert chunks_of(tokens("Hi! How are you doing today?")) == ["Hi!", "How are you doing today?"]
    assert chunks_of(tokens("Well, that is a fine idea.")) == ["Well,", "that is a fine idea."]


def test_the_first_chunk_does_not_end_on_a_weak_word() -> None:
    assert chunks_of(tokens("I went to the shops and bought bread."))[0] == "I went to the shops"
    assert chunks_of(tokens("I want a new bike for my birthday please."))[0] == "I want a new"


def test_abbreviations_initials_and_numbers_do_not_end_sentences() -> None:
    text = "Dr. Smith met J. R. R. Tolkien at 5 p.m. on St. George's day, e.g. last year. It cost $3.50 in total."
    assert chunks_of(tokens(text), ChunkRules(first_words=30, min_clause_words=30, max_words=40)) == [
        "Dr. Smith met J. R. R. Tolkien at 5 p.m. on St. George's day,",
        "e.g. last year.",
        "It cost $3.50 in total.",
    ]


def test_quotes_ellipses_newlines_and_dashes() -> None:
    rules = ChunkRules(first_words=1)
    assert chunks_of(['She said "go!" then', " left... Fine\n\nnext line - and more"], rules) == [
        "She", 'said "go!"', "then left...", "Fine", "next line - and more",
    ]


def test_max_words_bounds_a_run_on_sentence() -> None:
    text = " ".join(f"w{i}" for i in range(30))
    assert [len(c.split()) for c in chunks_of([text], ChunkRules(first_words=3, max_words=10))] == [3, 10, 10, 7]


def test_chunks_rebuild_the_text_and_flush_resets() -> None:
    text = "One. Two, three four five six, seven! Eight"
    for size in (1, 2, 5, 100):
        deltas = [text[i : i + size] for i in range(0, len(text), size)]
        assert " ".join(chunks_of(deltas)) == text
    chunker = Chunker()
    chunker.push("Hello there my")
    assert chunker.flush() == ["Hello there my"]
    assert chunker.push("Again a new reply ") == ["Again a new"]  # a fresh first chunk after flush


def test_empty_and_blank_streams_give_nothing() -> None:
    assert chunks_of([]) == [] and chunks_of(["", "  ", "\n"]) == []


def test_async_chunks_follow_an_llm_stream() -> None:
    async def deltas() -> AsyncIterator[str]:
        for delta in tokens("Sure thing, I can help with that. What do you need?"):
            yield delta

    async def collect() -> list[str]:
        return [chunk async for chunk in aphrase_chunks(deltas())]

    assert asyncio.run(collect()) == ["Sure thing,", "I can help with that.", "What do you need?"]
