"""OS1's built-in speech engines, registered through the same hooks as any plugin's."""

from __future__ import annotations

import shutil
from dataclasses import replace
from typing import TYPE_CHECKING

from os1.errors import ConfigError
from os1.plugins import hookimpl
from os1.speech.errors import ESPEAK_INSTALL, VOICE_INSTALL, SpeechUnavailable

if TYPE_CHECKING:
    from os1.speech.hooks import RegisterSTT, RegisterTTS, RegisterVAD, SpeechOptions
    from os1.speech.stt import STT
    from os1.speech.tts import TTS, PiperTTS
    from os1.speech.vad import VAD

_PIPER: dict[tuple[str, int], PiperTTS] = {}


def pocketsphinx(arg: str, options: SpeechOptions) -> STT:
    """PocketSphinx; `pocketsphinx:fwdflat` adds the decoder's slower second pass."""
    from os1.speech.stt import PocketSphinxSTT

    if arg not in ("", "fwdflat"):
        raise ConfigError(f"Unknown PocketSphinx option '{arg}'.", hint="Use pocketsphinx or pocketsphinx:fwdflat.")
    return PocketSphinxSTT(fwdflat=arg == "fwdflat", words=options.vocabulary)


def whisper(arg: str, options: SpeechOptions) -> STT:
    """faster-whisper with the bundled tiny.en model, or `whisper:DIR` for a CTranslate2 Whisper model folder."""
    from os1.speech.whisper import FasterWhisperSTT

    return FasterWhisperSTT(arg or None, threads=options.threads, words=options.vocabulary)


def piper(arg: str, options: SpeechOptions) -> TTS:
    """A Piper voice, shared by every conversation of the process (it is stateless and 60 MB)."""
    from os1.speech.tts import PiperTTS

    if not arg and options.voice == "female":
        raise ConfigError("The built-in Piper voice (en_US-joe-medium) is male.",
                          hint="Choose the voice male or either, the espeak voice, or piper:PATH to a female voice.")
    key = (arg, options.threads)
    if key not in _PIPER:
        _PIPER[key] = PiperTTS(arg or None, threads=options.threads)
    return _PIPER[key]


def espeak(arg: str, options: SpeechOptions) -> TTS:
    """espeak-ng; `espeak:VOICE` picks any of its voices (e.g. en-gb+f4), else one that fits the preference."""
    from os1.speech.tts import EspeakTTS

    return EspeakTTS(arg) if arg else EspeakTTS.for_preference(options.voice)


def auto(arg: str, options: SpeechOptions) -> TTS:
    """Piper's natural male voice, or espeak-ng when a female voice is asked for or Piper is missing."""
    if options.voice == "female" and shutil.which("espeak-ng"):
        return espeak("", options)
    try:
        return piper("", replace(options, voice="either"))
    except SpeechUnavailable as missing:
        if not shutil.which("espeak-ng"):
            hint = f"Install Piper with {VOICE_INSTALL}, or espeak-ng with {ESPEAK_INSTALL}."
            raise SpeechUnavailable("No speech voice is installed.", hint=hint) from missing
        return espeak("", options)


def silero(arg: str, options: SpeechOptions) -> VAD:
    """Silero VAD at 16 kHz, or `silero:8000`."""
    from os1.speech.vad import SileroVAD

    if arg not in ("", "16000", "8000"):
        raise ConfigError(f"Silero VAD runs at 16000 or 8000 Hz, not '{arg}'.")
    return SileroVAD(int(arg or 16000))


@hookimpl
def register_stt(register: RegisterSTT) -> None:
    register("pocketsphinx", pocketsphinx, "CMU PocketSphinx, offline, learns personal words (the default); "
                                           "pocketsphinx:fwdflat adds a slower second pass")
    register("whisper", whisper, "Whisper via faster-whisper, far more accurate, not incremental: "
                                 "bundled tiny.en, or whisper:DIR (a CTranslate2 model folder)")


@hookimpl
def register_tts(register: RegisterTTS) -> None:
    register("auto", auto, "Piper's voice, or espeak-ng when a female voice is asked for (the default)")
    register("piper", piper, "Piper, natural; built-in voice en_US-joe-medium (male), or piper:PATH.onnx")
    register("espeak", espeak, "espeak-ng, light and robotic, female or male: espeak or espeak:VOICE")


@hookimpl
def register_vad(register: RegisterVAD) -> None:
    register("silero", silero, "Silero VAD v5, offline, one thread (the default)")
