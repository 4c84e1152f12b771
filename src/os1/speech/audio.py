"""Pure audio utilities on numpy: one immutable `Audio` value, file I/O, PCM16, resampling, framing, levels.

Files are read with `soundfile` (libsndfile ships inside its wheel: WAV of any bit depth, FLAC, OGG, MP3…);
without it, the standard library's `wave` still reads integer-PCM WAV. Resampling is a polyphase
windowed-sinc filter written in numpy (the design of scipy's `resample_poly`), so no 40 MB scipy for one
function.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import math
import re
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from os1.errors import AudioError

Samples = NDArray[np.float32]
FLOOR_DBFS = -120.0
"""What `rms_dbfs` reports for digital silence, instead of minus infinity."""
_PLACEHOLDER_SIZE = 0x7FFF0000  # streaming writers (espeak-ng --stdout, arecord) put ~2**31 in the header


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate`; the array is a private read-only copy."""

    samples: Samples
    """The samples; NaN becomes 0 and anything beyond full scale is clipped."""
    sample_rate: int
    """Samples per second."""

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise AudioError(f"Sample rate must be positive, not {self.sample_rate}.")
        arr = np.array(self.samples, dtype=np.float32, copy=True)
        if arr.ndim != 1:
            raise AudioError(f"Audio must be mono (one dimension), not shaped {arr.shape}.")
        np.nan_to_num(arr, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
        np.clip(arr, -1.0, 1.0, out=arr)
        arr.flags.writeable = False
        object.__setattr__(self, "samples", arr)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    def __len__(self) -> int:
        return len(self.samples)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Audio):
            return NotImplemented
        return self.sample_rate == other.sample_rate and np.array_equal(self.samples, other.samples)

    __hash__ = None  # type: ignore[assignment]


def silence(seconds: float, sample_rate: int = 16000) -> Audio:
    """`seconds` of digital silence."""
    return Audio(np.zeros(round(seconds * sample_rate), dtype=np.float32), sample_rate)


def concat(parts: Iterable[Audio], sample_rate: int | None = None) -> Audio:
    """Join clips end to end, resampling any whose rate differs from the first (or from `sample_rate`)."""
    clips = list(parts)
    rate = sample_rate or (clips[0].sample_rate if clips else 16000)
    arrays = [resample(c, rate).samples for c in clips]
    return Audio(np.concatenate(arrays) if arrays else np.zeros(0, np.float32), rate)


# --- reading and writing ------------------------------------------------------------------------------


def load(path: str | Path) -> Audio:
    """Read an audio file (WAV 8/16/24/32-bit or float, FLAC…, any rate); stereo is averaged to mono."""
    file = Path(path)
    if not file.is_file():
        raise AudioError(f"No audio file at {file}.")
    return _read(file, str(file))


def decode(data: bytes, *, name: str = "the audio") -> Audio:
    """Read an in-memory audio file (e.g. a WAV a program wrote to stdout)."""
    return _read(io.BytesIO(data), name)


def _read(source: Path | BinaryIO, name: str) -> Audio:
    if _has_soundfile():
        return _read_soundfile(source, name)
    return _read_wave(source, name)


@cache
def _has_soundfile() -> bool:
    return importlib.util.find_spec("soundfile") is not None


def _read_soundfile(source: Path | BinaryIO, name: str) -> Audio:
    sf: Any = importlib.import_module("soundfile")
    try:
        with sf.SoundFile(source if not isinstance(source, Path) else str(source)) as fh:
            _check_complete(str(fh.extra_info), name)
            data = fh.read(dtype="float32", always_2d=True)
            rate = int(fh.samplerate)
    except sf.SoundFileError as exc:
        raise AudioError(f"Cannot read {name} as audio: {exc}.",
                         hint="Use a WAV or FLAC file; a damaged or partial file must be recorded again.") from exc
    return Audio(data.mean(axis=1), rate)


def _check_complete(log: str, name: str) -> None:
    """libsndfile reads a cut-short WAV silently; its log says `data : DECLARED (should be ACTUAL)`."""
    match = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.MULTILINE)
    if match:
        declared, actual = int(match[1]), int(match[2])
        if actual < declared < _PLACEHOLDER_SIZE:
            raise AudioError(f"{name} is truncated: its header promises {declared} bytes of audio, "
                             f"it holds {actual}.", hint="The file was cut short; record or copy it again.")


def _read_wave(source: Path | BinaryIO, name: str) -> Audio:
    """Integer-PCM WAV through the standard library, for installs without soundfile."""
    try:
        with wave.open(str(source) if isinstance(source, Path) else source, "rb") as fh:
            channels, width, rate, frames = fh.getnchannels(), fh.getsampwidth(), fh.getframerate(), fh.getnframes()
            raw = fh.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"Cannot read {name} as a PCM WAV file: {exc}.",
                         hint="Other formats (FLAC, float WAV) need soundfile: pip install 'os1[voice]'.") from exc
    expected = frames * channels * width
    if len(raw) < expected < _PLACEHOLDER_SIZE:
        raise AudioError(f"{name} is truncated: its header promises {expected} bytes of audio, it holds {len(raw)}.",
                         hint="The file was cut short; record or copy it again.")
    raw = raw[: len(raw) - len(raw) % (channels * width)]
    return Audio(_pcm_to_float(raw, width).reshape(-1, channels).mean(axis=1), rate)


def _pcm_to_float(raw: bytes, width: int) -> Samples:
    """Little-endian integer PCM (8-bit unsigned, 16/24/32-bit signed) to floats in [-1, 1)."""
    if width == 1:
        return ((np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if width == 3:
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)) << 8  # sign lands in bit 31
        return (ints.astype(np.float64) / 2**31).astype(np.float32)
    if width in (2, 4):
        ints = np.frombuffer(raw, f"<i{width}").astype(np.float64)
        return (ints / float(2 ** (8 * width - 1))).astype(np.float32)
    raise AudioError(f"Unsupported WAV sample width: {width * 8} bits.")


def write_wav(path: str | Path, audio: Audio) -> Path:
    """Write 16-bit mono PCM WAV (readable everywhere) and return the path."""
    file = Path(path)
    with wave.open(str(file), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(audio.sample_rate)
        fh.writeframes(to_pcm16(audio))
    return file


def to_pcm16(audio: Audio) -> bytes:
    """Little-endian signed 16-bit PCM; full scale +1.0 becomes 32767."""
    ints = np.clip(np.round(audio.samples.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    return ints.tobytes()


def from_pcm16(data: bytes, sample_rate: int) -> Audio:
    """Audio from little-endian signed 16-bit mono PCM."""
    if len(data) % 2:
        raise AudioError(f"16-bit PCM must have an even number of bytes, not {len(data)}.")
    return Audio(np.frombuffer(data, "<i2").astype(np.float32) / 32768.0, sample_rate)


# --- levels and frames --------------------------------------------------------------------------------


def rms_dbfs(audio: Audio | Samples) -> float:
    """Root-mean-square level in dB below full scale (a full-scale sine is -3.01); silence is `FLOOR_DBFS`."""
    samples = audio.samples if isinstance(audio, Audio) else audio
    if len(samples) == 0:
        return FLOOR_DBFS
    rms = math.sqrt(float(np.mean(np.square(samples, dtype=np.float64))))
    return max(FLOOR_DBFS, 20.0 * math.log10(rms)) if rms > 0 else FLOOR_DBFS


def frames(audio: Audio, size: int = 512, *, pad: bool = True) -> Iterator[Samples]:
    """Consecutive frames of exactly `size` samples (512 at 16 kHz = 32 ms, silero's window); the last is
    zero-padded, or dropped when `pad` is false."""
    framer = Framer(size)
    yield from framer.push(audio.samples)
    last = framer.flush() if pad else None
    if last is not None:
        yield last


class Framer:
    """Cuts a stream of sample blocks of any length into frames of exactly `size` samples."""

    def __init__(self, size: int = 512) -> None:
        if size <= 0:
            raise AudioError(f"Frame size must be positive, not {size}.")
        self.size = size
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: ArrayLike) -> list[Samples]:
        """Add samples; return every frame now complete (read-only views)."""
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32).ravel()])
        whole = len(data) - len(data) % self.size
        self._pending = data[whole:]
        out = data[:whole].reshape(-1, self.size)
        out.flags.writeable = False
        return list(out)

    def flush(self) -> Samples | None:
        """The leftover samples zero-padded to a whole frame, or None when nothing is left."""
        if len(self._pending) == 0:
            return None
        last = np.zeros(self.size, dtype=np.float32)
        last[: len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return last


# --- resampling ---------------------------------------------------------------------------------------


def resample(audio: Audio, sample_rate: int) -> Audio:
    """Change the sample rate with a polyphase Kaiser-windowed sinc filter (10 zero crossings, beta 5)."""
    if sample_rate <= 0:
        raise AudioError(f"Sample rate must be positive, not {sample_rate}.")
    if sample_rate == audio.sample_rate:
        return audio
    if len(audio) == 0:
        return Audio(audio.samples, sample_rate)
    gcd = math.gcd(audio.sample_rate, sample_rate)
    up, down = sample_rate // gcd, audio.sample_rate // gcd
    return Audio(_polyphase(audio.samples, up, down), sample_rate)


@cache
def _phase_weights(up: int, down: int) -> tuple[NDArray[np.float64], NDArray[np.int64], int]:
    """Per output phase p (0..up-1): the filter taps for K consecutive inputs, and the first input's offset."""
    half = 10 * max(up, down)
    cutoff = 1.0 / max(up, down)
    n = np.arange(-half, half + 1)
    taps = cutoff * np.sinc(cutoff * n) * np.kaiser(2 * half + 1, 5.0)
    taps *= up / taps.sum()  # unity gain at DC after stuffing `up - 1` zeros between inputs
    width = (2 * half) // up + 1
    phases = np.arange(up)
    offset = -((half - phases) // up)  # ceil((p - half) / up): first input within reach of phase p
    index = phases[:, None] - (offset[:, None] + np.arange(width)) * up + half
    valid = (index >= 0) & (index <= 2 * half)
    weights = np.where(valid, taps[np.clip(index, 0, 2 * half)], 0.0)
    return weights, offset.astype(np.int64), width


def _polyphase(x: Samples, up: int, down: int) -> Samples:
    """y[n] = sum_j x[j] h(n*down - j*up), computed only where needed, in memory-bounded blocks."""
    weights, offset, width = _phase_weights(up, down)
    pad = width + 10 * max(up, down) // up + 2
    padded = np.pad(x.astype(np.float64), (pad, pad))
    n_out = -(-len(x) * up // down)
    out = np.empty(n_out, dtype=np.float32)
    block = max(1, 2**18 // width)
    taps = np.arange(width)
    for start in range(0, n_out, block):
        t = np.arange(start, min(start + block, n_out), dtype=np.int64) * down
        phase = t % up
        first = t // up + offset[phase] + pad
        out[start : start + len(t)] = np.einsum("nk,nk->n", weights[phase], padded[first[:, None] + taps])
    return out
