"""Pronunciations for words PocketSphinx's dictionary lacks, in its ARPAbet phones.

PocketSphinx has no letter-to-sound rules, so a new word gets, in order: espeak-ng's reading (its rules and
exception lists, through the `espeak-ng` program or the copy Piper bundles) mapped from IPA to ARPAbet; else
a split into dictionary words ("moonbeam" = "moon" + "beam").
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable

PHONES = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)
"""The phones of PocketSphinx's en-US acoustic model (silence apart)."""

Lookup = Callable[[str], "str | None"]

# espeak-ng's en-US IPA to ARPAbet; matched longest first. Stress and length marks are dropped.
_IPA = {
    "tʃ": "CH", "dʒ": "JH", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW",
    "iː": "IY", "uː": "UW", "ɑː": "AA", "ɔː": "AO", "oː": "AO", "ɜː": "ER", "n̩": "AH N", "l̩": "AH L",
    "m̩": "AH M", "i": "IY", "ɪ": "IH", "ᵻ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AE", "ɐ": "AH",
    "ʌ": "AH", "ə": "AH", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ɜ": "ER",
    "ɚ": "ER", "ɝ": "ER", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F",
    "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N",
    "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "w": "W", "j": "Y", "ɾ": "T", "ʔ": "T", "x": "K", "ç": "HH",
    "ʍ": "W", "ɬ": "L",
}
_LONGEST = max(map(len, _IPA))
_PIPER_LOCK = threading.Lock()


def pronounce(word: str, lookup: Lookup) -> str | None:
    """Phones for `word`: the dictionary's own, else espeak-ng's reading, else dictionary parts; None if none."""
    key = word.strip().lower()
    return lookup(key) or ipa_to_arpabet(espeak_ipa(key) or "") or compound(key, lookup)


def ipa_to_arpabet(ipa: str) -> str | None:
    """Map an IPA string (espeak-ng en-US style) onto ARPAbet phones; None when nothing maps."""
    phones: list[str] = []
    i = 0
    while i < len(ipa):
        for size in range(min(_LONGEST, len(ipa) - i), 0, -1):
            arpa = _IPA.get(ipa[i : i + size])
            if arpa is not None:
                if not (arpa == "R" and phones and phones[-1] == "ER"):  # "ɜːɹ" is one ER
                    phones.extend(arpa.split())
                i += size
                break
        else:
            i += 1  # stress, length, syllable marks, spaces
    return " ".join(phones) or None


def compound(word: str, lookup: Lookup, *, shortest: int = 3, most: int = 3) -> str | None:
    """Phones of `word` read as the fewest dictionary words (each `shortest`+ letters, at most `most`)."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 30), end - shortest + 1):
            prefix, phones = best[start], lookup(word[start:end])
            if prefix is not None and phones and len(prefix) < most:
                candidate = [*prefix, phones]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    found = best[len(word)]
    return " ".join(found) if found and len(found) > 1 else None


def espeak_ipa(word: str, voice: str = "en-us") -> str | None:
    """espeak-ng's IPA for `word`, from the program if installed, else from Piper's bundled copy."""
    program = shutil.which("espeak-ng")
    if program:
        try:
            done = subprocess.run([program, "-q", "--ipa", "-v", voice, "--", word], capture_output=True,
                                  text=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() or None
    return _piper_ipa(word, voice)


def _piper_ipa(word: str, voice: str) -> str | None:
    """The espeak-ng inside piper-tts; it is one global library, so calls are serialised with Piper's own."""
    try:
        from piper import voice as piper_voice
        from piper.phonemize_espeak import ESPEAK_DATA_DIR, EspeakPhonemizer
    except ImportError:
        return None
    with getattr(piper_voice, "_ESPEAK_PHONEMIZER_LOCK", _PIPER_LOCK):
        sentences = EspeakPhonemizer(ESPEAK_DATA_DIR).phonemize(voice, word)
    return "".join("".join(s) for s in sentences).strip() or None
