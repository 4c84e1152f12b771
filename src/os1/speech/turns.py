"""End-of-turn cues: when a pause is not the end of what the user is saying. Pure functions, no I/O.

A pause after "and", "the" or "um" is the middle of a thought; so is a pause on a rising pitch (the rise
that says "there's more"), unless the words are a question, which rises because it asks. A voice loop
holds the floor longer on these cues and answers quickly otherwise.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

TRAILING = frozenset("""
a an the and or but so because cause if when while than which whose to of at for from with into onto
my your our their its is are was were am um uh er erm uhm
""".split())
"""Words a finished sentence rarely ends on."""
QUESTION_START = frozenset("""
do does did can could will would shall should is are was were am have has had may might must isn't aren't
don't doesn't didn't can't won't wouldn't couldn't shouldn't what who whom whose which when where why how
""".split())
"""Words that open a question (its rise asks; it does not hold the floor)."""
RISE = 1.12
"""Final pitch this many times the earlier pitch (about two semitones) is a rise."""
HOP = 320
"""Pitch is tracked every 20 ms at 16 kHz."""
WINDOW = 640
"""over 40 ms windows."""
F0_MIN, F0_MAX = 60.0, 400.0


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def trails_off(text: str) -> bool:
    """The words stop where a sentence cannot ("I went to the…", "and um")."""
    words = _words(text)
    return bool(words) and words[-1] in TRAILING


def is_question(text: str) -> bool:
    """The words open like a question ("do you…", "where is…")."""
    words = _words(text)
    return bool(words) and words[0] in QUESTION_START


def pitch(samples: npt.NDArray[np.float32], rate: int = 16_000) -> npt.NDArray[np.float64]:
    """Fundamental frequency (Hz) of each voiced 20 ms step, by autocorrelation (all steps at once, through
    the FFT); unvoiced and quiet steps are left out."""
    x = np.asarray(samples, dtype=np.float64)
    lo, hi = int(rate / F0_MAX), int(rate / F0_MIN)
    span = WINDOW + hi
    if len(x) < span:
        return np.zeros(0)
    steps = np.lib.stride_tricks.sliding_window_view(x, span)[::HOP]
    steps = steps - steps.mean(axis=1, keepdims=True)
    loud = np.sqrt(np.mean(steps ** 2, axis=1)) >= 0.3 * (np.sqrt(np.mean(x ** 2)) + 1e-9)
    spectrum = np.fft.rfft(steps, n=2 * span, axis=1)
    auto = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :hi]
    auto = auto / (auto[:, :1] + 1e-12) * (span / (span - np.arange(hi)))  # unbiased, 1.0 at lag 0
    lags = lo + np.argmax(auto[:, lo:hi], axis=1)
    clear = auto[np.arange(len(auto)), lags] >= 0.6
    return np.asarray(rate / lags[loud & clear], dtype=np.float64)


def rising(samples: npt.NDArray[np.float32], rate: int = 16_000) -> bool:
    """The voice rises at the end: the last voiced steps sit clearly above the ones before."""
    track = pitch(samples, rate)
    if len(track) < 8:
        return False
    tail = max(3, len(track) // 4)
    return float(np.median(track[-tail:])) > RISE * float(np.median(track[:-tail]))


def holds_floor(text: str, samples: npt.NDArray[np.float32] | None = None, rate: int = 16_000) -> str | None:
    """Why this pause is probably not the end of the turn ('trailing word', 'rising pitch'), or None.

    `samples` is the end of the utterance (a second or two is plenty)."""
    if trails_off(text):
        return "trailing word"
    if samples is not None and not is_question(text) and rising(samples, rate):
        return "rising pitch"
    return None
