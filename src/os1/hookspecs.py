"""Every hook a plugin may implement, in one place: models, skills, and the speech engines.

OS1's own backends implement them exactly as a third party does (`llm/builtin.py`, `skills/builtin.py`,
`speech/builtin.py`, `testing.py`); `os1.plugins` loads them from the `os1` entry-point group. A hook is handed
a `register` callback and calls it once per thing it offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from os1.config import Settings
    from os1.llm.base import LLM
    from os1.skills.base import Skill
    from os1.speech.stt import STT
    from os1.speech.tts import TTS, VoicePreference
    from os1.speech.vad import VAD

hookspec = pluggy.HookspecMarker("os1")
hookimpl = pluggy.HookimplMarker("os1")

@dataclass(frozen=True)
class SpeechOptions:
    """What the user chose, handed to every speech factory along with the spec's argument."""

    voice: VoicePreference = "either"
    """Preferred voice for speech output: female, male or either."""
    threads: int = 1
    """CPU threads an engine may use (one keeps the LLM and the voice from starving each other)."""
    vocabulary: Mapping[str, str | None] = field(default_factory=dict)
    """Personal words for recognisers that learn them: {word: ARPAbet phones, or None to derive}."""


ModelFactory = Callable[[str, "Settings"], "LLM"]
STTFactory = Callable[[str, SpeechOptions], "STT"]
TTSFactory = Callable[[str, SpeechOptions], "TTS"]
VADFactory = Callable[[str, SpeechOptions], "VAD"]


class RegisterModel(Protocol):
    """The callback handed to `register_models`."""

    def __call__(self, prefix: str, factory: ModelFactory, description: str) -> None:
        """Make `prefix` or `prefix:ARG` model specs build models with `factory(ARG, settings)`."""


class RegisterSkill(Protocol):
    """The callback handed to `register_skills`."""

    def __call__(self, skill: Skill) -> None:
        """Make `skill` one the OS can run (its name must be unused)."""


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


class Hooks:
    """The hooks a plugin may implement."""

    @hookspec
    def register_models(self, register: RegisterModel) -> None:
        """Register language-model backends by spec prefix."""

    @hookspec
    def register_skills(self, register: RegisterSkill) -> None:
        """Register skills (`os1.skills.base.Skill`): things the OS can do besides talking."""

    @hookspec
    def register_stt(self, register: RegisterSTT) -> None:
        """Register speech-to-text engines by spec prefix."""

    @hookspec
    def register_tts(self, register: RegisterTTS) -> None:
        """Register text-to-speech voices by spec prefix."""

    @hookspec
    def register_vad(self, register: RegisterVAD) -> None:
        """Register voice-activity detectors by spec prefix."""
