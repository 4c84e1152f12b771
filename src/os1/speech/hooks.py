"""The speech hooks a plugin may implement, and the options every speech factory receives.

A plugin registers engines by spec prefix, exactly as OS1's built-ins do (`os1.speech.builtin`)::

    @hookimpl
    def register_tts(register):
        register("mine", lambda arg, options: MyTTS(arg), "My voice: mine:NAME")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from os1.plugins import hookspec

if TYPE_CHECKING:
    from os1.speech.stt import STT
    from os1.speech.tts import TTS, VoicePreference
    from os1.speech.vad import VAD


@dataclass(frozen=True)
class SpeechOptions:
    """What the user chose, handed to every speech factory along with the spec's argument."""

    voice: VoicePreference = "either"
    """Preferred voice for speech output: female, male or either."""
    threads: int = 1
    """CPU threads an engine may use (one keeps the LLM and the voice from starving each other)."""
    vocabulary: Mapping[str, str | None] = field(default_factory=dict)
    """Personal words for recognisers that learn them: {word: ARPAbet phones, or None to derive}."""


STTFactory = Callable[[str, SpeechOptions], "STT"]
TTSFactory = Callable[[str, SpeechOptions], "TTS"]
VADFactory = Callable[[str, SpeechOptions], "VAD"]


class RegisterSTT(Protocol):
    """The callback handed to `register_stt`."""

    def __call__(self, prefix: str, factory: STTFactory, description: str) -> None:
        """Make `prefix` or `prefix:ARG` build recognisers with `factory(ARG, options)`."""


class RegisterTTS(Protocol):
    """The callback handed to `register_tts`."""

    def __call__(self, prefix: str, factory: TTSFactory, description: str) -> None:
        """Make `prefix` or `prefix:ARG` build voices with `factory(ARG, options)`."""


class RegisterVAD(Protocol):
    """The callback handed to `register_vad`."""

    def __call__(self, prefix: str, factory: VADFactory, description: str) -> None:
        """Make `prefix` or `prefix:ARG` build voice-activity detectors with `factory(ARG, options)`."""


class SpeechHooks:
    """The speech hooks a plugin may implement (to join `os1.plugins.Hooks`)."""

    @hookspec
    def register_stt(self, register: RegisterSTT) -> None:
        """Register speech-to-text engines by spec prefix."""

    @hookspec
    def register_tts(self, register: RegisterTTS) -> None:
        """Register text-to-speech voices by spec prefix."""

    @hookspec
    def register_vad(self, register: RegisterVAD) -> None:
        """Register voice-activity detectors by spec prefix."""
