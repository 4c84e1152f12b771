"""Speech to text: the `STT` base class, its streaming interface, and PocketSphinx (the offline default).

Engines are CPU-bound and blocking: the voice loop runs them in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from os1.errors import InputError
from os1.events import Transcript, Word
from os1.speech import g2p
from os1.speech.audio import Audio, concat, resample, to_pcm16
from os1.speech.errors import SpeechError, require


class STTStream(ABC):
    """One utterance fed as it arrives; `final()` ends it. Use as a context manager to be sure it ends."""

    @abstractmethod
    def feed(self, audio: Audio) -> None:
        """Add the next stretch of audio (any rate; the engine's own rate avoids resampling seams)."""

    @abstractmethod
    def partial(self) -> Transcript:
        """The best guess so far (`final=False`)."""

    @abstractmethod
    def final(self) -> Transcript:
        """End the utterance and return its transcript."""

    def close(self) -> None:
        """Abandon the utterance; a no-op after `final()`."""
        return None

    def __enter__(self) -> STTStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class STT(ABC):
    """A speech recogniser; one required method."""

    name: str = "stt"
    """The spec this engine was built from."""
    sample_rate: int = 16000
    """The rate the engine works at; other rates are resampled."""
    can_stream: bool = False
    """Whether `stream()` decodes while audio arrives (else it buffers and decodes at `final()`)."""
    supports_vocabulary: bool = False
    """Whether `add_words` can teach it new words."""

    @abstractmethod
    def transcribe(self, audio: Audio) -> Transcript:
        """The transcript of one utterance."""

    def stream(self) -> STTStream:
        """Start an utterance fed piece by piece; engines that decode incrementally override this."""
        return _BufferedStream(self)

    def add_words(self, words: Mapping[str, str | None]) -> dict[str, str]:
        """Teach personal vocabulary ({word: phones or None to derive}); return the phones used."""
        raise SpeechError(f"The speech recogniser '{self.name}' cannot learn new words.")


class _BufferedStream(STTStream):
    """Collects audio and transcribes it whole at `final()`."""

    def __init__(self, engine: STT) -> None:
        self._engine = engine
        self._parts: list[Audio] = []

    def feed(self, audio: Audio) -> None:
        self._parts.append(audio)

    def partial(self) -> Transcript:
        return Transcript("", final=False)

    def final(self) -> Transcript:
        parts, self._parts = self._parts, []
        return self._engine.transcribe(concat(parts, self._engine.sample_rate))


# --- PocketSphinx -------------------------------------------------------------------------------------

_FILLER = re.compile(r"^[<\[]")
_ALTERNATE = re.compile(r"\(\d+\)$")


class PocketSphinxSTT(STT):
    """CMU PocketSphinx 5 with its bundled en-US model; fast, modest accuracy, learns words on the fly.

    `fwdflat=True` adds the flat-lexicon second pass: ~70 ms slower to finalise an utterance, for an accuracy
    change that depends on the speech. Other `config` keys go to the decoder (e.g. `hmm`, `lm`, `dict` for
    another language's model). One utterance at a time per engine; other threads wait their turn.
    """

    name = "pocketsphinx"
    can_stream = True
    supports_vocabulary = True

    def __init__(self, *, fwdflat: bool = False, words: Mapping[str, str | None] | None = None,
                 **config: Any) -> None:
        ps = require("pocketsphinx", what="PocketSphinx speech recognition")
        # Dither (fixed seed): pure digital silence otherwise decodes as a word.
        options: dict[str, Any] = {"loglevel": "FATAL", "fwdflat": fwdflat, "dither": True, "seed": 1, **config}
        try:
            self._decoder: Any = ps.Decoder(**options)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise SpeechError(f"PocketSphinx could not start with {options}: {exc}") from exc
        self.sample_rate = int(float(self._decoder.config["samprate"]))
        self._frame_rate = int(self._decoder.config["frate"])
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._spelling: dict[str, str] = {}
        self._cmn = str(self._decoder.get_cmn())
        if words:
            self.add_words(words)

    def transcribe(self, audio: Audio) -> Transcript:
        pcm = to_pcm16(resample(audio, self.sample_rate))
        with self._utterance():
            self._start()
            try:
                if pcm:
                    self._decoder.process_raw(pcm, False, True)
            finally:
                self._decoder.end_utt()
            return self._result()

    def stream(self) -> STTStream:
        return _SphinxStream(self)

    def pronunciation(self, word: str) -> str | None:
        """The phones the dictionary holds for `word`, or None."""
        found = self._decoder.lookup_word(word.strip().lower())
        return str(found) if found else None

    def add_words(self, words: Mapping[str, str | None]) -> dict[str, str]:
        added = {word.strip(): self._phones(word, phones) for word, phones in words.items()}
        with self._utterance():
            new = [(entry, phones) for word, phones in added.items() if (entry := self._entry(word.lower(), phones))]
            for i, (entry, phones) in enumerate(new):
                try:
                    self._decoder.add_word(entry, phones, i == len(new) - 1)  # rebuild the search once, at the end
                except RuntimeError as exc:
                    raise SpeechError(f"PocketSphinx refused the word '{entry}' ({phones}): {exc}") from exc
            self._spelling.update({word.lower(): word for word in added if word != word.lower()})
        return added

    def _entry(self, key: str, phones: str) -> str | None:
        """The dictionary entry to add for `key` (`key(2)` beside an existing reading), or None if known."""
        readings = [key, *(f"{key}({n})" for n in range(2, 20))]
        for n, entry in enumerate(readings):
            found = self._decoder.lookup_word(entry)
            if found is None:
                return entry if n < len(readings) - 1 else None
            if str(found) == phones:
                return None
        return None

    def _phones(self, word: str, phones: str | None) -> str:
        """Validated phones given by the user, or derived ones."""
        text = word.strip()
        if not text or any(c.isspace() for c in text):
            raise InputError(f"Personal vocabulary takes single words, not {word!r}.",
                             hint="Add each word of a name on its own.")
        if phones is None:
            derived = g2p.pronounce(text, self.pronunciation)
            if derived is None:
                raise InputError(f"Cannot work out how '{text}' is pronounced.",
                                 hint=f'Give its phones, e.g. {{"{text}": "P IY K"}} (ARPAbet).')
            return derived
        spelled = phones.upper().split()
        unknown = sorted(set(spelled) - g2p.PHONES)
        if not spelled or unknown:
            raise InputError(f"Unknown phones for '{text}': {' '.join(unknown) or 'none given'}.",
                             hint="Use ARPAbet phones: " + " ".join(sorted(g2p.PHONES)) + ".")
        return " ".join(spelled)

    def _utterance(self) -> _Held:
        """Hold the decoder for one utterance; fail at once if this thread already holds it."""
        if self._owner == threading.get_ident():
            raise SpeechError("This recogniser already has an utterance open in this thread.",
                              hint="Call final() or close() on the open stream first.")
        return _Held(self)

    def _start(self) -> None:
        """Begin an utterance, remembering the cepstral mean it starts from."""
        self._cmn = str(self._decoder.get_cmn())
        self._decoder.start_utt()

    def _result(self, final: bool = True) -> Transcript:
        """The decoder's current hypothesis as a Transcript."""
        if not final:
            hyp = self._decoder.hyp()
            text = " ".join(self._spell(w) for w in (hyp.hypstr.split() if hyp else []))
            return Transcript(text, final=False)
        words = tuple(
            Word(self._spell(seg.word), seg.start_frame / self._frame_rate, (seg.end_frame + 1) / self._frame_rate,
                 float(seg.prob))
            for seg in self._decoder.seg() or () if not _FILLER.match(seg.word)
        )
        if not words:  # silence or noise would drag the live cepstral mean away from speech
            self._decoder.set_cmn(self._cmn)
        confidence = sum(w.confidence or 0.0 for w in words) / len(words) if words else None
        return Transcript(" ".join(w.text for w in words), words, confidence)

    def _spell(self, word: str) -> str:
        base = _ALTERNATE.sub("", word)
        return self._spelling.get(base, base)


class _Held:
    """The decoder lock, owned by one thread for one utterance."""

    def __init__(self, engine: PocketSphinxSTT) -> None:
        self._engine = engine

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        """Wait for the decoder."""
        self._engine._lock.acquire()
        self._engine._owner = threading.get_ident()

    def release(self) -> None:
        """Hand the decoder back."""
        self._engine._owner = None
        self._engine._lock.release()


class _SphinxStream(STTStream):
    """Decodes as audio arrives; holds the decoder until `final()` or `close()`."""

    def __init__(self, engine: PocketSphinxSTT) -> None:
        self._engine = engine
        self._held = engine._utterance()
        self._held.acquire()
        try:
            engine._start()
        except RuntimeError as exc:
            self._held.release()
            raise SpeechError(f"PocketSphinx could not start an utterance: {exc}") from exc
        self._open = True

    def feed(self, audio: Audio) -> None:
        if not self._open:
            raise SpeechError("This utterance has ended; start a new stream.")
        pcm = to_pcm16(resample(audio, self._engine.sample_rate))
        if pcm:
            self._engine._decoder.process_raw(pcm, False, False)

    def partial(self) -> Transcript:
        return self._engine._result(final=False) if self._open else Transcript("", final=False)

    def final(self) -> Transcript:
        if not self._open:
            raise SpeechError("This utterance has already ended.")
        try:
            self._engine._decoder.end_utt()
            return self._engine._result()
        finally:
            self._close()

    def close(self) -> None:
        if self._open:
            try:
                self._engine._decoder.end_utt()
            finally:
                self._close()

    def _close(self) -> None:
        self._open = False
        self._held.release()
