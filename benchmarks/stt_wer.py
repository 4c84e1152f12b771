"""Word error rate of each speech-to-text engine on a folder of transcribed clips.

    .venv/bin/python benchmarks/stt_wer.py [DIR] [--engines pocketsphinx,pocketsphinx:fwdflat,whisper]

DIR (default: $OS1_SHARED_DATA/speech, else ../shared/data/speech) is searched recursively for LibriSpeech
`*.trans.txt` files (`ID TEXT` lines beside ID.flac), Sphinx `transcription` files (`<s> text </s> (ID)`),
and clips with a same-name .txt. References and hypotheses are lower-cased and stripped of punctuation.
WER is corpus-level (all edits / all reference words); RTF is decoding time / audio duration. The last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine
from os1.speech.audio import Audio, load
from os1.speech.errors import SpeechUnavailable
from os1.speech.registry import get_stt

AUDIO = (".flac", ".wav")


def default_path() -> Path:
    shared = os.environ.get("OS1_SHARED_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    return Path(shared) / "speech"


SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}
"""Abbreviations a recogniser may write for the spoken word a transcript spells out."""


def normalise(text: str) -> list[str]:
    """Lower case, punctuation gone (apostrophes inside words kept), abbreviations spelled out."""
    words = re.sub(r"[^a-z0-9']+|(?<![a-z])'|'(?![a-z])", " ", text.lower()).split()
    return [SPOKEN.get(word, word) for word in words]


def _audio_for(folder: Path, clip_id: str) -> Path | None:
    return next((folder / f"{clip_id}{ext}" for ext in AUDIO if (folder / f"{clip_id}{ext}").is_file()), None)


def find_clips(root: Path) -> dict[Path, str]:
    """Audio file → reference text, from every transcript format found under `root`."""
    clips: dict[Path, str] = {}
    for trans in sorted(root.rglob("*.trans.txt")):
        for line in trans.read_text(encoding="utf-8").splitlines():
            clip_id, _, text = line.strip().partition(" ")
            if (audio := _audio_for(trans.parent, clip_id)) is not None:
                clips.setdefault(audio, text)
    for listing in sorted(root.rglob("transcription")):
        for line in listing.read_text(encoding="utf-8").splitlines():
            match = re.fullmatch(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\((\S+)\)\s*", line)
            if match and (audio := _audio_for(listing.parent, match[2])) is not None:
                clips.setdefault(audio, match[1])
    for audio in sorted(p for p in root.rglob("*") if p.suffix in AUDIO):
        text_file = audio.with_suffix(".txt")
        if audio not in clips and text_file.is_file():
            clips[audio] = text_file.read_text(encoding="utf-8")
    return clips


def edits(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # engines get one thread each through their options too
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=default_path())
    parser.add_argument("--engines", default="pocketsphinx,pocketsphinx:fwdflat,whisper",
                        help="comma-separated STT specs (those not installed are skipped)")
    args = parser.parse_args()
    clips = find_clips(args.dir)
    if not clips:
        sys.exit(f"No transcribed clips under {args.dir}.")
    audio: dict[Path, Audio] = {path: load(path) for path in clips}
    total = sum(a.duration for a in audio.values())
    print(f"# STT word error rate: {len(clips)} clips, {total:.1f} s of audio from {args.dir}")
    print(f"# {machine()}")
    wer: dict[str, float] = {}
    rtf: dict[str, float] = {}
    for spec in [s.strip() for s in args.engines.split(",") if s.strip()]:
        try:
            engine = get_stt(spec)
        except SpeechUnavailable as exc:
            print(f"{spec:24} skipped: {exc.message} {exc.hint}")
            continue
        errors = words = 0
        spent = 0.0
        for path, reference in clips.items():
            start = time.perf_counter()
            hypothesis = engine.transcribe(audio[path]).text
            spent += time.perf_counter() - start
            ref, hyp = normalise(reference), normalise(hypothesis)
            clip_errors = edits(ref, hyp)
            errors, words = errors + clip_errors, words + len(ref)
            print(f"{spec:24} {path.stem:44} WER {clip_errors / max(1, len(ref)):6.1%}  | {' '.join(hyp)}")
        wer[spec], rtf[spec] = round(errors / words, 4), round(spent / total, 3)
        print(f"{spec:24} {'ALL':44} WER {wer[spec]:6.1%}  ({errors} edits / {words} words), RTF {rtf[spec]:.3f}")
    print(json.dumps({"wer": wer, "rtf": rtf, "clips": len(clips), "audio_s": round(total, 1)}))


if __name__ == "__main__":
    main()
