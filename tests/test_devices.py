"""Live `os1 talk`: the pure parts of the microphone and speaker, the errors without a sound card, and (where
PortAudio and ALSA are installed) real streams on ALSA's null device."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from os1.errors import ConfigError, SpeechUnavailable
from os1.speech.audio import Audio, resample, rms_dbfs
from os1.speech.devices import BlockQueue, FrameAssembler, PlaybackBuffer, StreamResampler, parse_device
from tests.conftest import OS1
from tests.test_cli import run

ASOUNDRC = "pcm.os1null { type null }\npcm.!default { type null }\n"
"""ALSA's null device as the only devices: capture reads silence, playback discards (neither keeps time)."""


def tone(seconds: float, rate: int, hz: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


# --- the pure parts -------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_playback_is_pulled_in_order_and_padded_with_silence() -> None:
    buffer = PlaybackBuffer(1000)
    buffer.write(np.arange(1, 6, dtype=np.float32) / 10)
    buffer.write(np.arange(6, 9, dtype=np.float32) / 10)
    assert buffer.playing() and buffer.queued() == pytest.approx(0.008)
    assert buffer.pull(3).tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert buffer.pull(4).tolist() == pytest.approx([0.4, 0.5, 0.6, 0.7])
    assert buffer.pull(4).tolist() == pytest.approx([0.8, 0.0, 0.0, 0.0])
    assert not buffer.playing() and buffer.pull(2).tolist() == [0.0, 0.0]


def test_stop_drops_the_rest_at_the_next_pull() -> None:
    buffer = PlaybackBuffer(16_000)
    buffer.write(tone(2.0, 16_000))
    buffer.pull(320)
    buffer.stop()
    assert not buffer.playing() and buffer.queued() == 0
    assert not buffer.pull(320).any()
    buffer.write(tone(0.1, 16_000))  # a stopped buffer takes the next reply
    assert buffer.pull(320).any()


def test_played_counts_what_was_heard_of_the_current_reply() -> None:
    clock = Clock()
    buffer = PlaybackBuffer(1000, clock=clock)
    buffer.write(np.full(100, 0.1, np.float32))
    buffer.pull(20)
    assert buffer.played() == pytest.approx(0.02)
    buffer.pull(20, delay=0.05)  # handed to the device, heard 50 ms later
    assert buffer.played() == pytest.approx(0.02) and buffer.playing()
    clock.now += 0.05
    assert buffer.played() == pytest.approx(0.04)
    buffer.pull(100)
    assert buffer.played() == pytest.approx(0.1)  # only the 60 real samples count, not the silence after
    buffer.begin()
    assert buffer.played() == 0.0
    buffer.write(np.full(30, 0.1, np.float32))
    buffer.pull(10)
    assert buffer.played() == pytest.approx(0.01)


def test_stop_keeps_what_was_already_heard() -> None:
    buffer = PlaybackBuffer(1000)
    buffer.write(np.full(1000, 0.1, np.float32))
    buffer.pull(250)
    buffer.stop()
    buffer.pull(250)
    assert buffer.played() == pytest.approx(0.25)


def test_level_follows_the_last_window_pulled() -> None:
    rate = 16_000
    buffer = PlaybackBuffer(rate, window_s=0.15)
    assert buffer.level() <= -100
    loud = tone(0.5, rate)
    buffer.write(loud)
    for _ in range(10):  # 0.2 s: the window is all tone
        buffer.pull(320)
    assert buffer.level() == pytest.approx(rms_dbfs(loud), abs=0.5)
    buffer.stop()
    buffer.pull(1200)  # half the window silent: half the power, 3 dB down
    assert buffer.level() == pytest.approx(rms_dbfs(loud) - 3.0, abs=0.3)
    buffer.pull(2400)
    assert buffer.level() <= -100


def test_frames_at_16k_are_cut_exactly_from_blocks_of_any_size() -> None:
    signal_ = tone(1.0, 16_000)
    assembler = FrameAssembler(16_000)
    out: list[np.ndarray] = []
    for block in np.split(signal_, [100, 1000, 1001, 5000, 12_345]):
        out += assembler.push(block)
    assert all(len(frame) == 512 and frame.dtype == np.float32 for frame in out)
    assert len(out) == 16_000 // 512
    np.testing.assert_array_equal(np.concatenate(out), signal_[: len(out) * 512])


@pytest.mark.parametrize("rate", [8_000, 44_100, 48_000])
def test_frames_from_other_rates_match_resampling_the_whole(rate: int) -> None:
    signal_ = tone(1.0, rate, hz=300.0) + tone(1.0, rate, hz=1234.0, amplitude=0.3)
    whole = resample(Audio(signal_, rate), 16_000).samples
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, len(signal_)), 40, replace=False))
    assembler = FrameAssembler(rate)
    out: list[np.ndarray] = []
    for block in np.split(signal_, cuts):
        out += assembler.push(block)
    assert all(len(frame) == 512 for frame in out)
    streamed = np.concatenate(out)
    assert len(streamed) >= len(whole) - 512 - 16_000 // 100  # behind by under a frame and one 10 ms period
    np.testing.assert_allclose(streamed, whole[: len(streamed)], atol=1e-5)


def test_stereo_blocks_are_averaged_to_mono() -> None:
    left, right = tone(0.1, 16_000), np.zeros(1600, np.float32)
    frames = FrameAssembler(16_000).push(np.stack([left, right], axis=1))
    np.testing.assert_allclose(np.concatenate(frames), left[:1536] / 2, atol=1e-7)


def test_the_resampler_keeps_no_more_than_its_filter_needs() -> None:
    resampler = StreamResampler(48_000, 16_000)
    total = sum(len(resampler.push(tone(0.02, 48_000))) for _ in range(50))
    assert 16_000 - 20 <= total <= 16_000


def test_the_block_queue_drops_the_oldest_and_wakes_once_per_batch() -> None:
    blocks = BlockQueue(3)
    wakes = [blocks.put(np.full(1, i, np.float32)) for i in range(5)]
    assert wakes == [True, False, False, False, False]
    assert blocks.dropped == 2
    assert [int(b[0]) for b in blocks.drain()] == [2, 3, 4]
    assert blocks.drain() == [] and blocks.put(np.zeros(1, np.float32))


def test_device_option() -> None:
    assert parse_device(None) == (None, None)
    assert parse_device("3") == (3, 3)
    assert parse_device("USB Mic") == ("USB Mic", "USB Mic")
    assert parse_device("2,pulse") == (2, "pulse")
    assert parse_device(",5") == (None, 5)
    with pytest.raises(ConfigError):
        parse_device("1,2,3")


def test_missing_packages_name_their_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from os1.speech import devices

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # the package is not installed
    with pytest.raises(SpeechUnavailable) as no_package:
        devices.sounddevice()
    assert "pip install 'os1[voice]'" in no_package.value.hint

    def no_portaudio(name: str) -> object:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(importlib, "import_module", no_portaudio)
    with pytest.raises(SpeechUnavailable) as no_library:
        devices.MicFrames()
    assert "sudo apt install libportaudio2" in no_library.value.hint
    assert "--in question.wav --out answer.wav" in no_library.value.hint


# --- the command without a sound card ---------------------------------------------------------------------


def has_microphone() -> bool:
    """Whether PortAudio is installed and sees a default microphone (checked in a child: it loads a library)."""
    probe = "import sounddevice as sd; sd.query_devices(kind='input')"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60, check=False).returncode == 0


def assert_clear_failure(rc: int, out: str, err: str) -> None:
    assert rc == 2, out + err
    assert "Traceback" not in out + err
    assert "os1 talk --in question.wav --out answer.wav" in err.replace("\n", " ")


def test_a_device_that_does_not_exist_is_a_clear_error(home: Path) -> None:
    rc, out, err = run("talk", "--device", "no such device anywhere")
    assert_clear_failure(rc, out, err)
    assert "no such device anywhere" in err or "not installed" in err


def test_live_talk_without_any_audio_device_is_a_clear_error(home: Path) -> None:
    if has_microphone():
        pytest.skip("this machine has a microphone")
    rc, out, err = run("talk")
    assert_clear_failure(rc, out, err)
    assert "no audio device" in err or "PortAudio" in err or "sounddevice" in err


def test_out_without_in_is_refused(home: Path, tmp_path: Path) -> None:
    rc, _, err = run("talk", "--out", str(tmp_path / "a.wav"))
    assert rc == 2 and "--out needs --in" in err and "Traceback" not in err
    assert not (tmp_path / "a.wav").exists()


# --- real streams on ALSA's null device -------------------------------------------------------------------


@pytest.fixture
def null_audio(tmp_path: Path) -> dict[str, str]:
    """An environment whose only audio devices are ALSA's null device (skipped without PortAudio or ALSA)."""
    (tmp_path / ".asoundrc").write_text(ASOUNDRC)
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    probe = "import sounddevice as sd; sd.query_devices('os1null', kind='output')"
    if subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=60,
                      check=False).returncode:
        pytest.skip("no PortAudio with ALSA here")
    return env


STREAMS = textwrap.dedent("""
    import asyncio, time
    import numpy as np
    from os1.speech.audio import Audio
    from os1.speech.devices import MicFrames, SpeakerSink

    async def listen():
        mic = MicFrames("os1null")
        frames = []
        async for frame in mic:
            frames.append(frame)
            if len(frames) == 20:
                break
        assert all(f.shape == (512,) and f.dtype == np.float32 for f in frames)
        print("mic ok", mic.format.rate)

    asyncio.run(asyncio.wait_for(listen(), 20))
    with SpeakerSink("os1null") as sink:
        sink.begin()
        sink.play(Audio(np.full(11025, 0.5, np.float32), 22050))
        deadline = time.monotonic() + 10
        while sink.playing() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert abs(sink.played() - 0.5) < 0.01, sink.played()
        sink.begin()
        sink.play(Audio(np.full(22050 * 60, 0.5, np.float32), 22050))
        sink.stop()
        assert not sink.playing() and sink.played() < 0.1
    print("speaker ok")
""")


def test_real_streams_on_the_null_device(null_audio: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-c", STREAMS], env=null_audio, capture_output=True, timeout=60,
                          check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "mic ok" in out and "speaker ok" in out


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The child's next line of output, or "" at its end or after `timeout` seconds."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return proc.stdout.readline().decode()


def ends_on_ctrl_c(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C the running `os1 talk`: it must end with status 0 and no traceback."""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


def killed(proc: subprocess.Popen[bytes]) -> None:
    """Whatever happened, the child does not outlive the test."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def test_live_talk_lists_devices_and_ends_cleanly_on_ctrl_c(home: Path, null_audio: dict[str, str]) -> None:
    listed = subprocess.run([*OS1, "--model", "fake", "talk", "--list-devices"], env=null_audio,
                            capture_output=True, timeout=60, check=False)
    assert listed.returncode == 0 and b"os1null" in listed.stdout
    proc = subprocess.Popen([*OS1, "--model", "fake", "talk", "--device", "os1null"], env=null_audio,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = read_line(proc, timeout=120)  # "Listening on …" once the speech models are loaded
        assert "Listening on os1null" in first, first
        time.sleep(0.5)
        ends_on_ctrl_c(proc)
    finally:
        killed(proc)


def test_live_talk_says_a_timer_that_goes_off(home: Path, null_audio: dict[str, str]) -> None:
    from datetime import UTC, datetime, timedelta

    from os1.memory.store import Database

    db = Database(home / "os1.db")
    store = db.user("local")
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    store.add_timer("timer", datetime.now(UTC) + timedelta(seconds=3), "tea")
    db.close()
    proc = subprocess.Popen([*OS1, "--model", "fake", "talk", "--device", "os1null"], env=null_audio,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = [read_line(proc, timeout=120)]
        assert "Listening on os1null" in lines[0], lines
        while not any("tea" in line for line in lines) and lines[-1]:
            lines.append(read_line(proc, timeout=30))
        assert any(line.startswith("Your timer") and "tea" in line for line in lines), lines
        time.sleep(1.0)  # it is being said through the (null) speaker
        ends_on_ctrl_c(proc)
    finally:
        killed(proc)
