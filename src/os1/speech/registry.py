"""Turn speech specs (`pocketsphinx`, `piper:PATH`, `espeak:en-us+f3`, `silero`…) into engines through plugin hooks.

The built-in engines register through the `os1` entry point (`os1.speech.builtin`), as a plugin's would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from os1.errors import ConfigError, PluginError
from os1.plugins import plugin_manager
from os1.speech.hooks import SpeechOptions

if TYPE_CHECKING:
    from os1.speech.stt import STT
    from os1.speech.tts import TTS
    from os1.speech.vad import VAD

Engine = TypeVar("Engine")


@dataclass(frozen=True)
class EngineEntry(Generic[Engine]):
    """A registered speech engine."""

    prefix: str
    factory: Callable[[str, SpeechOptions], Engine]
    description: str


def _entries(hook: str, kind: str) -> dict[str, EngineEntry[Engine]]:
    """Every engine of one kind that installed plugins register, by prefix."""
    entries: dict[str, EngineEntry[Engine]] = {}

    def register(prefix: str, factory: Callable[[str, SpeechOptions], Engine], description: str) -> None:
        if prefix in entries:
            raise PluginError(f"Two plugins register the {kind} prefix '{prefix}'.")
        entries[prefix] = EngineEntry(prefix, factory, description)

    getattr(plugin_manager().hook, hook)(register=register)
    return entries


def available_stt() -> dict[str, EngineEntry[STT]]:
    """Speech-to-text engines by prefix."""
    return _entries("register_stt", "speech-to-text")


def available_tts() -> dict[str, EngineEntry[TTS]]:
    """Text-to-speech voices by prefix."""
    return _entries("register_tts", "text-to-speech")


def available_vad() -> dict[str, EngineEntry[VAD]]:
    """Voice-activity detectors by prefix."""
    return _entries("register_vad", "voice-activity")


def split_spec(spec: str) -> tuple[str, str]:
    """`piper:~/voices/amy.onnx` → (`piper`, `~/voices/amy.onnx`); `silero` → (`silero`, ``)."""
    prefix, _, arg = spec.strip().partition(":")
    return prefix.strip().lower(), arg.strip()


def _build(spec: str, entries: dict[str, EngineEntry[Engine]], options: SpeechOptions | None, flag: str) -> Engine:
    prefix, arg = split_spec(spec)
    if prefix not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"Unknown {flag.strip('-')} engine '{spec}'.", hint=f"Use {flag} with one of: {known}.")
    return entries[prefix].factory(arg, options or SpeechOptions())


def get_stt(spec: str = "pocketsphinx", options: SpeechOptions | None = None) -> STT:
    """Build the speech recogniser that `spec` names."""
    return _build(spec, available_stt(), options, "--stt")


def get_tts(spec: str = "auto", options: SpeechOptions | None = None) -> TTS:
    """Build the voice that `spec` names."""
    return _build(spec, available_tts(), options, "--tts")


def get_vad(spec: str = "silero", options: SpeechOptions | None = None) -> VAD:
    """Build the voice-activity detector that `spec` names."""
    return _build(spec, available_vad(), options, "--vad")
