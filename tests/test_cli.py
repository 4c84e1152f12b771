"""The `os1` command end to end, as a person would use it through a pipe or a terminal."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from os1.cli.root import build_parser
from tests.conftest import OS1
from tests.db_helpers import rows, turns

FIRST_BOOT = b"Theodore\nsocial\nwe talk on Sundays\nfemale\n"
STORY = " ".join(f"word{i}" for i in range(80))



def run(*args: str, stdin: bytes = b"", model: str = "fake") -> tuple[int, str, str]:
    proc = subprocess.run([*OS1, "--model", model, *args], input=stdin, capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def test_piped_first_boot_names_the_os_and_the_next_run_welcomes_back(home: Path) -> None:
    rc, out, err = run("chat", stdin=FIRST_BOOT + b"Hi! How are you?\n")
    assert rc == 0, err
    ((name,),) = rows(home / "os1.db", "SELECT value FROM profile WHERE key = 'os.name'")
    assert f"I'm {name}" in out and "How would you describe your relationship with your mother?" in out
    assert "You said: Hi! How are you?" in out
    rc, out, err = run("chat", stdin=b"Hello again\n")
    assert rc == 0, err
    assert "Welcome back, Theodore." in out and "Welcome to OS1" not in out
    assert turns(home / "os1.db")[-2:] == [("user", "Hello again", "complete"),
                                           ("assistant", "You said: Hello again", "complete")]


def test_bare_os1_serves_the_page_and_chat_talks_in_the_terminal(home: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proc = subprocess.Popen([*OS1, "--model", "fake", "--no-browser", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        page = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "<title>OS1</title>" in page, proc.stderr.read().decode() if proc.poll() is not None else "no page"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out.decode()
    chat = subprocess.run([*OS1, "--model", "fake", "chat"], input=FIRST_BOOT, capture_output=True, timeout=60,
                          check=False)
    assert chat.returncode == 0 and b"I'm " in chat.stdout


def test_empty_lines_are_skipped_and_store_nothing(home: Path) -> None:
    rc, _, err = run("chat", stdin=FIRST_BOOT + b"\n   \n\t\nhello\n\n")
    assert rc == 0, err
    assert [t[1] for t in turns(home / "os1.db") if t[0] == "user"] == ["hello"]


def test_a_100k_paste_is_trimmed_with_a_notice_and_kept_whole(home: Path) -> None:
    paste = ("All work and no play makes Jack a dull boy. " * 2300)[:99_999] + "!"
    rc, out, err = run("chat", stdin=FIRST_BOOT + paste.encode() + b"\n")
    assert rc == 0, err
    assert "Your message is long (100,000 characters)" in out
    user_turns = [t[1] for t in turns(home / "os1.db") if t[0] == "user"]
    assert user_turns == [paste]
    assert len(out) < 20_000  # the pipe's echo of the paste is shortened


def test_invalid_utf8_gets_a_notice_and_the_rest_is_kept(home: Path) -> None:
    rc, out, err = run("chat", stdin=FIRST_BOOT + b"caf\xe9 and \xff\xfe bytes\n")
    assert rc == 0, err
    assert "not valid UTF-8" in out
    assert [t[1] for t in turns(home / "os1.db") if t[0] == "user"] == ["caf\ufffd and \ufffd\ufffd bytes"]


def test_a_corrupt_database_is_refused_and_not_overwritten(home: Path) -> None:
    home.mkdir(parents=True)
    db = home / "os1.db"
    db.write_bytes(b"\x00garbage" * 1000)
    rc, out, err = run("chat", stdin=b"hello\n")
    assert rc == 2
    assert "damaged" in err and "Traceback" not in err + out
    assert db.read_bytes() == b"\x00garbage" * 1000


def test_a_locked_database_is_refused(home: Path) -> None:
    run("chat", stdin=FIRST_BOOT)
    holder = sqlite3.connect(home / "os1.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE hold(x)")
    try:
        rc, out, err = run("chat", stdin=b"hello\n")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert rc == 2 and "in use" in err and "Traceback" not in err + out
    assert ("user", "hello", "complete") not in turns(home / "os1.db")


def test_an_unreachable_model_server_gives_one_line_and_keeps_the_turn(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "down.json"
    script.write_text(json.dumps({"fail": "unavailable"}))
    rc, out, err = run("chat", stdin=FIRST_BOOT + b"are you there?\n", model=f"fake:{script}")
    assert rc == 0, err
    assert "Could not reach" in out and "Traceback" not in out + err
    assert turns(home / "os1.db")[-1] == ("user", "are you there?", "complete")


def slow_chat(home: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Start a chat whose reply streams slowly; return once part of it is stored."""
    script = tmp_path / "slow.json"
    script.write_text(json.dumps({"replies": ["Short first.", STORY], "delay": 0.04}))
    proc = subprocess.Popen([*OS1, "--model", f"fake:{script}", "chat"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdin is not None
    proc.stdin.write(FIRST_BOOT + b"first\ntell me a story\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (home / "os1.db").exists():
            try:
                streaming = rows(home / "os1.db", "SELECT text FROM turns WHERE status = 'streaming'")
            except sqlite3.OperationalError:  # the schema is still being created
                streaming = []
            if streaming and streaming[0][0]:
                return proc
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the reply never started streaming")


def test_ctrl_c_mid_reply_stores_the_partial_reply_as_interrupted(home: Path, tmp_path: Path) -> None:
    proc = slow_chat(home, tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(b"after\n", timeout=30)
    assert proc.returncode == 0, err
    story = [t for t in turns(home / "os1.db") if t[1].startswith("word0")]
    assert len(story) == 1 and story[0][2] == "interrupted"
    assert story[0][1] != STORY
    assert b"[interrupted]" in out
    assert turns(home / "os1.db")[-2][1] == "after"  # the chat went on after the interruption


def test_sigkill_mid_reply_keeps_every_earlier_turn(home: Path, tmp_path: Path) -> None:
    proc = slow_chat(home, tmp_path)
    before = turns(home / "os1.db")
    proc.kill()
    proc.wait(timeout=10)
    after = turns(home / "os1.db")
    assert after[: len(before) - 1] == before[:-1]
    assert ("user", "first", "complete") in after and ("user", "tell me a story", "complete") in after
    assert after[-1][0] == "assistant" and after[-1][1].startswith("word0")
    rc, out, err = run("chat", stdin=b"still there?\n")
    assert rc == 0, err and "Welcome back, Theodore." in out
    assert ("assistant", after[-1][1], "interrupted") in turns(home / "os1.db")


def test_reset_asks_first(home: Path) -> None:
    run("chat", stdin=FIRST_BOOT)
    rc, out, _ = run("reset", stdin=b"no\n")
    assert rc == 1 and "Nothing erased" in out and (home / "os1.db").exists()
    rc, _, _ = run("reset", stdin=b"")
    assert rc == 1 and (home / "os1.db").exists()
    rc, out, _ = run("reset", "--yes")
    assert rc == 0 and not (home / "os1.db").exists()
    _, out, _ = run("chat", stdin=b"")
    assert "Welcome to OS1" in out


def test_config_set_show_and_models(home: Path) -> None:
    rc, _, err = run("config", "set", "openai_api_key", "sk-abcdefgh12345678")
    assert rc == 0, err
    assert oct((home / "config.toml").stat().st_mode & 0o777) == "0o600"
    _, out, _ = run("config")
    assert "****5678" in out and "sk-abcdefgh" not in out
    rc, _, err = run("config", "set", "nonsense", "1")
    assert rc == 2 and "Unknown setting" in err
    _, out, _ = run("models")
    for prefix in ("embedded", "tiny", "qwen-1.5b", "qwen-0.5b", "gguf", "openai", "anthropic", "llm"):
        assert prefix in out
    assert "Offline brains" in out and "Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in out


def test_an_unknown_model_is_a_clear_error(home: Path) -> None:
    rc, _, err = run("chat", model="nonsense:thing")
    assert rc == 2 and "Unknown model" in err and "Traceback" not in err


@pytest.mark.real_model
def test_the_real_embedded_model_completes_a_first_boot_chat(home: Path) -> None:
    run("config", "set", "max_reply_tokens", "24")
    run("config", "set", "llm_threads", "1")
    rc, out, err = run("chat", stdin=FIRST_BOOT + b"Hi! How are you?\n", model="tiny")
    assert rc == 0, err
    assert turns(home / "os1.db")[-2][1] == "Hi! How are you?"
    role, text, status = turns(home / "os1.db")[-1]
    assert role == "assistant" and text.strip() and status == "complete"
    assert text[:20] in out


@pytest.mark.parametrize("argv", [
    ["chat", "--model", "fake"],
    ["--model", "fake", "chat"],
    ["chat", "--model=fake", "--home", "{home}"],
    ["memory", "show", "--model", "fake"],
    ["config", "get", "model", "--model", "fake"],
])
def test_options_are_accepted_before_or_after_the_subcommand(home: Path, argv: list[str]) -> None:
    argv = [a.replace("{home}", str(home)) for a in argv]
    args = build_parser().parse_args(argv)
    assert args.model == "fake"
    if "--home" in argv:
        assert args.home == str(home)


def test_an_option_after_the_subcommand_wins_over_one_before(home: Path) -> None:
    args = build_parser().parse_args(["--model", "embedded", "chat", "--model", "fake"])
    assert args.model == "fake"


def test_show_context_prints_what_the_model_reads(home: Path) -> None:
    rc, out, err = run("chat", "--show-context", stdin=FIRST_BOOT + b"I moved to Lisbon last spring.\n"
                                                              b"Where do I live now?\n")
    assert rc == 0, err
    assert out.count("── the model reads") == 2 and "[system]" in out and "[user]" in out
    context = out[out.rindex("── the model reads"):out.rindex("── end of context ──")]
    assert "Where do I live now?" in context and "I moved to Lisbon last spring." in context
    rc, out, _ = run("chat", stdin=b"Hello\n")
    assert "the model reads" not in out


def test_at_stores_a_session_at_the_time_given(home: Path) -> None:
    rc, _, err = run("chat", "--at", "2026-03-01T19:30", stdin=FIRST_BOOT + b"My sister's birthday was today.\n")
    assert rc == 0, err
    stamps = rows(home / "os1.db", "SELECT created_at FROM turns WHERE text LIKE 'My sister%'")
    assert stamps[0][0].startswith("2026-03-01T19:30")
    ((started,),) = rows(home / "os1.db", "SELECT started_at FROM sessions ORDER BY id LIMIT 1")
    assert started.startswith("2026-03-01T19:30")
    rc, _, err = run("chat", "--at", "last tuesday", stdin=b"Hi\n")
    assert rc == 2 and "ISO 8601" in err
