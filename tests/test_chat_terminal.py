"""`os1 chat` in a real terminal (a pseudo-terminal): Ctrl-C and Ctrl-D at the prompt leave cleanly."""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import OS1


class Terminal:
    """`os1 chat` with a pseudo-terminal as its controlling terminal, read and typed into like a person would."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {**os.environ, "OS1_HOME": str(home), "TERM": "xterm", "COLUMNS": "200"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: os1 chat on the terminal
            os.execvpe(OS1[0], [*OS1, *args], env)
        self.output = b""

    def read_until(self, text: str, timeout: float = 120.0) -> str:
        """Everything printed until `text` appears (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.shown()}")
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    raise AssertionError(f"{text!r} never appeared:\n{self.shown()}") from None
        return self.shown()

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait(self, timeout: float = 60.0) -> int:
        """The exit status (negative: killed by that signal), reading what the child prints meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._drain()
                return os.waitstatus_to_exitcode(status)
            self._drain(0.2)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"os1 chat did not leave:\n{self.shown()}")

    def _drain(self, timeout: float = 0.0) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def shown(self) -> str:
        return self.output.decode("utf-8", "replace")


@pytest.fixture
def chatting(home: Path) -> Terminal:
    """`os1 chat` past first boot, waiting at its prompt."""
    term = Terminal(home, "chat", "--model", "fake")
    for answer in ("Theodore", "social", "we talk on Sundays", "female"):
        term.read_until("You: ")
        term.output = b""
        term.type(answer.encode() + b"\r")
    term.read_until("So, how are you?")
    term.read_until("You: ")
    return term


@pytest.mark.parametrize("key", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_at_the_prompt_leaves_cleanly(chatting: Terminal, key: bytes) -> None:
    chatting.output = b""
    chatting.type(key)
    status = chatting.wait()
    shown = chatting.shown()
    assert "Fatal Python error" not in shown and "Traceback" not in shown, shown
    assert status == 0, shown
    assert shown.endswith(("\n", "\r\n")), repr(shown)  # the shell's prompt starts on a line of its own


def test_ctrl_c_during_a_reply_stops_it_and_the_chat_goes_on(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "slow.json"
    script.write_text('{"replies": ["' + " ".join(["word"] * 400) + '"], "delay": 0.05}')
    term = Terminal(home, "--model", f"fake:{script}", "chat")
    for answer in ("Theodore", "social", "we talk on Sundays", "female"):
        term.read_until("You: ")
        term.output = b""
        term.type(answer.encode() + b"\r")
    term.read_until("You: ")
    term.type(b"Tell me a long story\r")
    term.read_until("word word")
    term.type(b"\x03")
    term.read_until("[interrupted]")
    term.read_until("You: ")
    term.type(b"/quit\r")
    assert term.wait() == 0, term.shown()


def test_a_timer_goes_off_at_the_prompt_and_the_prompt_comes_back(chatting: Terminal) -> None:
    chatting.output = b""
    chatting.type(b"set a timer for 2 seconds\r")
    chatting.read_until("Timer set for 2 seconds.")
    chatting.read_until("You: ")
    chatting.output = b""
    shown = chatting.read_until("Your timer for 2 seconds is done.", timeout=30)
    shown = chatting.read_until("You: ", timeout=10)
    assert shown.index("is done") < shown.rindex("You: ")  # a fresh prompt after it
    chatting.type(b"\x04")
    assert chatting.wait() == 0
