"""`os1 memory …` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.db_helpers import rows
from tests.test_cli import FIRST_BOOT, run


def test_search_show_export_import_forget(home: Path, tmp_path: Path) -> None:
    rc, _, err = run("chat", stdin=FIRST_BOOT + b"My friend Amy plays the cello. I live in Lisbon.\n")
    assert rc == 0, err
    rc, out, err = run("memory", "search", "who plays the cello?")
    assert rc == 0, err and "cello" in out
    _, out, _ = run("memory", "show")
    assert "Amy is Theodore's friend." in out and "Theodore lives in Lisbon." in out
    export = tmp_path / "me.json"
    rc, out, _ = run("memory", "export", str(export))
    assert rc == 0 and json.loads(export.read_text())["format"] == "os1-memory"
    rc, _, err = run("memory", "import", str(export))
    assert rc == 2 and "fresh" in err
    other = tmp_path / "other-home"
    rc, out, err = run("--home", str(other), "memory", "import", str(export))
    assert rc == 0, err
    again = tmp_path / "again.json"
    run("--home", str(other), "memory", "export", str(again))
    first, second = json.loads(export.read_text()), json.loads(again.read_text())
    first.pop("exported_at"), second.pop("exported_at")
    assert first == second
    rc, out, _ = run("memory", "forget", "Amy", stdin=b"no\n")
    assert rc == 1 and "Nothing forgotten" in out
    rc, out, _ = run("memory", "forget", "Amy", "--yes")
    assert rc == 0 and "Forgotten: 2 turns" in out  # the user's turn and the echo
    assert b"Amy" not in (home / "os1.db").read_bytes()


def test_a_broken_import_file_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "half.json"
    broken.write_text('{"format": "os1-memory", "version": 1, "turns": [')
    rc, out, err = run("memory", "import", str(broken))
    assert rc == 2 and "half-written" in err and "Traceback" not in err + out


def test_vocabulary(home: Path) -> None:
    rc, out, _ = run("memory", "vocabulary", "Peak", "my gym")
    assert rc == 0
    _, out, _ = run("memory", "vocabulary")
    assert "Peak: my gym" in out


def test_show_uses_the_os_own_name(home: Path) -> None:
    rc, _, err = run("chat", stdin=FIRST_BOOT + b"My friend Amy plays the cello.\n")
    assert rc == 0, err
    ((name,),) = rows(home / "os1.db", "SELECT value FROM profile WHERE key = 'os.name'")
    _, out, _ = run("memory", "show")
    assert f"What {name} remembers" in out and "OS1 remembers" not in out


def test_search_finds_only_what_is_relevant(home: Path) -> None:
    story = b"My sister Catherine signed the divorce papers.\nI had pasta with Amy at the harbour.\n"
    rc, _, err = run("chat", stdin=FIRST_BOOT + story)
    assert rc == 0, err
    rc, out, _ = run("memory", "search", "who did I have pasta with?")
    assert rc == 0 and "Amy" in out
    rc, out, _ = run("memory", "forget", "Catherine", "--yes")
    assert rc == 0
    for query in ("Catherine", "what is the boiling point of mercury on Venus?"):
        rc, out, _ = run("memory", "search", query)
        assert rc == 0 and "Nothing I remember matches" in out, out
        assert "│" not in out  # no table of arbitrary hits
