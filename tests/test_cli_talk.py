"""`os1 talk --in … --out …`: a spoken conversation from recordings, end to end in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.speech.audio import load, rms_dbfs, silence, write_wav
from tests.db_helpers import rows
from tests.speech_helpers import spoken
from tests.test_cli import FIRST_BOOT, run

pytest_plugins = ["tests.speech_fixtures"]


@pytest.fixture
def onboarded(home: Path) -> Path:
    rc, _, err = run("chat", stdin=FIRST_BOOT.replace(b"female", b"male"))
    assert rc == 0, err
    return home


def test_two_spoken_turns_from_wav_files(onboarded: Path, tmp_path: Path, steady_piper) -> None:
    first = write_wav(tmp_path / "q1.wav", spoken(steady_piper, "Hello, how are you today?"))
    second = write_wav(tmp_path / "q2.wav", spoken(steady_piper, "Tell me a story please."))
    out = tmp_path / "answer.wav"
    rc, stdout, err = run("talk", "--in", str(first), "--in", str(second), "--out", str(out))
    assert rc == 0, err
    answer = load(out)
    assert rms_dbfs(answer) > -40  # speech, not silence
    db = onboarded / "os1.db"
    replies = rows(db, "SELECT text FROM turns WHERE role = 'assistant' ORDER BY id")[-2:]
    assert [r[0] for r in replies] == [f"You said: {t}" for (t,) in rows(
        db, "SELECT text FROM turns WHERE role = 'user' ORDER BY id")[-2:]]
    words = sum(len(r[0].split()) for r in replies)
    assert 0.15 * words < answer.duration < 1.5 * words + 8  # about the right length for what was said
    assert "first audio" in stdout and "today" in stdout


def test_bad_recordings_get_a_clear_error(onboarded: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 50)
    rc, out, err = run("talk", "--in", str(junk), "--out", str(tmp_path / "a.wav"))
    assert rc == 2 and "Traceback" not in err + out and err.strip()
    quiet = write_wav(tmp_path / "quiet.wav", silence(2.0, 16_000))
    rc, out, err = run("talk", "--in", str(quiet), "--out", str(tmp_path / "b.wav"))
    assert rc == 0, err
    assert "No speech" in out
