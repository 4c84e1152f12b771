"""Audio utilities: the immutable value, files of every common shape, PCM16, resampling, levels, frames."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from os1.errors import AudioError, InputError
from os1.speech import audio as audio_mod
from os1.speech.audio import (
    FLOOR_DBFS,
    Audio,
    Framer,
    concat,
    decode,
    frames,
    from_pcm16,
    load,
    resample,
    rms_dbfs,
    silence,
    to_pcm16,
    write_wav,
)

sf = pytest.importorskip("soundfile", reason="needs os1[voice]")


def tone(freq: float = 440.0, seconds: float = 1.0, rate: int = 16000, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(clip: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(clip.samples))
    return float(np.fft.rfftfreq(len(clip), 1 / clip.sample_rate)[np.argmax(spectrum)])


# --- the value ------------------------------------------------------------------------------------------


def test_audio_is_an_immutable_copy() -> None:
    source = tone()
    clip = Audio(source, 16000)
    source[:] = 0
    assert clip.samples.max() > 0.4
    with pytest.raises(ValueError):
        clip.samples[0] = 1.0
    with pytest.raises(AttributeError):
        clip.sample_rate = 8000  # type: ignore[misc]
    assert clip == Audio(tone(), 16000) and clip != Audio(tone(), 8000)
    assert clip.duration == 1.0 and len(clip) == 16000


def test_clipped_and_broken_samples_are_tamed() -> None:
    clip = Audio(np.array([2.0, -3.0, np.nan, np.inf, 0.25]), 8000)
    assert clip.samples.dtype == np.float32
    assert clip.samples.tolist() == [1.0, -1.0, 0.0, 1.0, 0.25]
    assert to_pcm16(clip) == np.array([32767, -32768, 0, 32767, 8192], "<i2").tobytes()


def test_bad_shapes_and_rates_are_audio_errors() -> None:
    with pytest.raises(AudioError, match="mono"):
        Audio(np.zeros((10, 2)), 16000)
    with pytest.raises(AudioError, match="positive"):
        Audio(np.zeros(10), 0)
    assert issubclass(AudioError, InputError) and AudioError.code == "input.audio"


def test_pcm16_round_trip_is_exact() -> None:
    ints = np.array([-32768, -1, 0, 1, 12345, 32767], "<i2")
    clip = from_pcm16(ints.tobytes(), 16000)
    assert to_pcm16(clip) == ints.tobytes()
    with pytest.raises(AudioError, match="even"):
        from_pcm16(b"\x00\x01\x02", 16000)


def test_silence_works_everywhere() -> None:
    quiet = silence(0.5, 16000)
    assert len(quiet) == 8000 and rms_dbfs(quiet) == FLOOR_DBFS
    assert rms_dbfs(Audio(np.zeros(0), 16000)) == FLOOR_DBFS
    assert len(resample(quiet, 8000)) == 4000 and not resample(quiet, 8000).samples.any()
    assert to_pcm16(quiet) == bytes(16000)


def test_rms_dbfs_of_a_full_scale_sine_is_minus_three() -> None:
    assert rms_dbfs(Audio(tone(amp=1.0), 16000)) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs(Audio(tone(amp=0.01), 16000)) == pytest.approx(-43.01, abs=0.01)


def test_concat_resamples_to_the_first_rate() -> None:
    joined = concat([Audio(tone(seconds=0.5), 16000), Audio(tone(seconds=0.5, rate=8000), 8000)])
    assert joined.sample_rate == 16000 and len(joined) == 16000
    assert len(concat([])) == 0


# --- files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_of_every_depth_loads(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, tone(rate=22050), 22050, subtype=subtype)
    clip = load(path)
    assert clip.sample_rate == 22050 and len(clip) == 22050
    assert np.max(np.abs(clip.samples - tone(rate=22050))) < 0.01


def test_24_bit_stereo_flac_at_44k1_is_downmixed(tmp_path: Path) -> None:
    left, right = tone(440, rate=44100, amp=0.6), tone(440, rate=44100, amp=0.2)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_24")
    clip = load(path)
    assert clip.sample_rate == 44100 and len(clip) == 44100
    assert np.max(np.abs(clip.samples - (left + right) / 2)) < 1e-4
    assert peak_hz(resample(clip, 16000)) == pytest.approx(440, abs=2)


def test_write_wav_then_load_round_trips(tmp_path: Path) -> None:
    clip = from_pcm16(np.arange(-300, 300, dtype="<i2").tobytes(), 8000)
    assert load(write_wav(tmp_path / "x.wav", clip)) == clip


def test_truncated_wav_is_refused(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "whole.wav", Audio(tone(), 16000))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:20000])
    with pytest.raises(AudioError, match="truncated"):
        load(cut)


def test_truncated_flac_and_header_only_files_are_refused(tmp_path: Path) -> None:
    flac = tmp_path / "whole.flac"
    sf.write(flac, tone(), 16000, subtype="PCM_16")
    for name, data in [("cut.flac", flac.read_bytes()[:3000]), ("head.wav", write_wav(
            tmp_path / "w.wav", Audio(tone(), 16000)).read_bytes()[:30])]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(AudioError, match="Cannot read"):
            load(tmp_path / name)


def test_non_audio_missing_and_directories_are_audio_errors(tmp_path: Path) -> None:
    junk = tmp_path / "notes.wav"
    junk.write_text("this is not audio at all")
    with pytest.raises(AudioError, match="Cannot read") as info:
        load(junk)
    assert info.value.hint
    with pytest.raises(AudioError, match="No audio file"):
        load(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="No audio file"):
        load(tmp_path)


def test_streamed_wav_with_a_placeholder_size_decodes() -> None:
    """What `espeak-ng --stdout` writes: a header that promises ~2 GiB."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(22050)
        fh.writeframes(np.arange(100, dtype="<i2").tobytes())
    data = bytearray(buffer.getvalue())
    data[4:8] = (0x7FFFF024).to_bytes(4, "little")
    data[40:44] = (0x7FFFF000).to_bytes(4, "little")
    clip = decode(bytes(data))
    assert len(clip) == 100 and clip.sample_rate == 22050


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_stdlib_fallback_reads_integer_wav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    subtype = {1: "PCM_U8", 2: "PCM_16", 3: "PCM_24", 4: "PCM_32"}[width]
    path = tmp_path / "x.wav"
    stereo = np.stack([tone(rate=8000), tone(rate=8000)], axis=1)
    sf.write(path, stereo, 8000, subtype=subtype)
    monkeypatch.setattr(audio_mod, "_has_soundfile", lambda: False)
    clip = load(path)
    assert clip.sample_rate == 8000 and np.max(np.abs(clip.samples - tone(rate=8000))) < 0.01
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(AudioError, match="truncated"):
        load(cut)
    float_wav = tmp_path / "float.wav"
    sf.write(float_wav, tone(rate=8000), 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match="PCM WAV") as info:
        load(float_wav)
    assert "os1[voice]" in info.value.hint


# --- resampling and frames ------------------------------------------------------------------------------


@pytest.mark.parametrize(("src", "dst"),
                         [(44100, 16000), (16000, 44100), (22050, 16000), (48000, 16000), (8000, 16000)])
def test_resample_keeps_pitch_level_and_length(src: int, dst: int) -> None:
    out = resample(Audio(tone(1000, rate=src), src), dst)
    assert out.sample_rate == dst and len(out) == dst
    assert peak_hz(out) == pytest.approx(1000, abs=2)
    middle = Audio(out.samples[dst // 10 : -dst // 10], dst)
    assert rms_dbfs(middle) == pytest.approx(rms_dbfs(Audio(tone(1000), 16000)), abs=0.1)


def test_resample_removes_what_the_new_rate_cannot_hold() -> None:
    above_nyquist = resample(Audio(tone(6000, rate=44100), 44100), 8000).samples[800:-800]
    assert rms_dbfs(above_nyquist) < -60  # an aliased 2 kHz ghost would sit near -9 dBFS


def test_resample_to_the_same_rate_is_identity() -> None:
    clip = Audio(tone(), 16000)
    assert resample(clip, 16000) is clip
    with pytest.raises(AudioError):
        resample(clip, -1)


def test_frames_cut_and_pad() -> None:
    clip = Audio(np.arange(1200, dtype=np.float32) / 2000, 16000)
    cut = list(frames(clip, 512))
    assert [len(f) for f in cut] == [512, 512, 512]
    assert cut[1][0] == pytest.approx(512 / 2000) and not cut[2][176:].any()
    assert len(list(frames(clip, 512, pad=False))) == 2
    assert list(frames(Audio(np.zeros(0), 16000))) == []


def test_framer_matches_frames_for_any_block_sizes() -> None:
    samples = tone(seconds=0.3)
    framer = Framer(512)
    streamed: list[np.ndarray] = []
    for start, size in zip(range(0, 4800, 700), [700] * 7, strict=True):
        streamed.extend(framer.push(samples[start : start + size]))
    last = framer.flush()
    assert last is not None and framer.flush() is None
    whole = list(frames(Audio(samples, 16000), 512))
    assert len(streamed) + 1 == len(whole)
    assert all(np.array_equal(a, b) for a, b in zip([*streamed, last], whole, strict=True))
    with pytest.raises(AudioError):
        Framer(0)
