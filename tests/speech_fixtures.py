"""Session fixtures for the speech tests: real engines loaded once, and clips synthesised here (no shared data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from os1.speech.audio import write_wav
from os1.speech.stt import PocketSphinxSTT
from os1.speech.tts import PiperTTS
from tests.speech_helpers import TEA, spoken


@pytest.fixture(scope="session")
def piper() -> PiperTTS:
    """The built-in Piper voice on one thread."""
    pytest.importorskip("piper", reason="needs os1[voice]")
    return PiperTTS(threads=1)


@pytest.fixture(scope="session")
def steady_piper() -> PiperTTS:
    """Piper without its random variation, so recognition tests see the same audio every run."""
    pytest.importorskip("piper", reason="needs os1[voice]")
    return PiperTTS(threads=1, noise_scale=0.0, noise_w_scale=0.0)


@pytest.fixture(scope="session")
def sphinx() -> PocketSphinxSTT:
    """PocketSphinx with no personal words (tests that add words build their own)."""
    pytest.importorskip("pocketsphinx", reason="needs os1[voice]")
    return PocketSphinxSTT()


@pytest.fixture(scope="session")
def espeak_program() -> str:
    """The espeak-ng binary (a Debian package)."""
    found = shutil.which("espeak-ng")
    if not found:
        pytest.skip("needs the espeak-ng program: apt-get install espeak-ng")
    return found


@pytest.fixture(scope="session")
def tea_wav(steady_piper: PiperTTS, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WAV file of Piper saying TEA, padded with silence."""
    return write_wav(tmp_path_factory.mktemp("speech") / "tea.wav", spoken(steady_piper, TEA))
