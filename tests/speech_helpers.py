"""Helpers for the speech tests."""

from __future__ import annotations

from os1.speech.audio import Audio, concat, resample, silence
from os1.speech.tts import TTS

TEA = "I would like a cup of tea please."
"""A sentence PocketSphinx hears well in Piper's voice."""


def spoken(tts: TTS, text: str, pad: float = 0.3) -> Audio:
    """`text` spoken by `tts` at 16 kHz with `pad` seconds of silence around it."""
    return concat([silence(pad), resample(tts.synthesize(text), 16000), silence(pad)], 16000)
