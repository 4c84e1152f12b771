"""A model whose native code cannot run on this CPU is an error, not a death: the terminal and the server stay
up, keep the user's turn, and say in one line what to do. The crash is a real child killed by SIGILL."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console
from starlette.testclient import TestClient

import os1.llm.probe
from os1.chat import run_chat
from os1.config import Settings
from os1.llm import UnavailableModel
from os1.local import open_companion
from os1.server.app import create_app
from tests.db_helpers import turns
from tests.server_helpers import ANSWERS

SIGILL_CHILD = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]


@pytest.fixture
def crashing(monkeypatch: pytest.MonkeyPatch, home: Path) -> Settings:
    """The embedded model, on a 'CPU' where its probe dies with SIGILL (a context size no other test loads, so
    no model already loaded in this process is reused)."""
    monkeypatch.setattr(os1.llm.probe, "probe_command", lambda model, threads=1: SIGILL_CHILD)
    return Settings(home=home, model="embedded", context_tokens=1536, llm_threads=1)


async def test_the_terminal_stays_up_keeps_the_turn_and_names_the_fix(crashing: Settings) -> None:
    out = io.StringIO()
    console = Console(file=out, width=400, force_terminal=False)
    with open_companion(crashing) as companion:
        assert isinstance(companion.llm, UnavailableModel)
        stdin = io.BytesIO(("\n".join(ANSWERS) + "\nHello, are you there?\nStill there?\n").encode())
        assert await run_chat(companion, console, stdin) == 0
    shown = out.getvalue()
    lines = [line for line in shown.splitlines() if "cannot run on this computer" in line]
    assert len(lines) >= 3, shown  # once at the start, then for each line the user typed
    assert "SIGILL" in lines[0] and "make llama-rebuild" in lines[0] and "--model" in lines[0]
    said = [t for t in turns(crashing.db_path) if t[0] == "user"]
    assert ("user", "Hello, are you there?", "complete") in said and ("user", "Still there?", "complete") in said


def test_the_server_stays_up_and_every_reply_is_the_error(crashing: Settings) -> None:
    with TestClient(create_app(crashing), base_url="http://127.0.0.1") as client, \
            client.websocket_connect("ws://127.0.0.1/ws") as ws:
        ws.send_json({"v": 1, "type": "hello"})
        assert ws.receive_json()["type"] == "ready"
        warned = ws.receive_json()
        assert warned["type"] == "error" and warned["code"] == "model.crashed"
        while ws.receive_json()["type"] != "prompt":  # the opening
            pass
        for answer in ANSWERS:
            ws.send_json({"v": 1, "type": "say", "text": answer})
            end = "reply_done" if answer == ANSWERS[-1] else "prompt"  # the last answer: the OS names itself
            while ws.receive_json()["type"] != end:
                pass
        for text in ("Hello?", "Are you still there?"):
            ws.send_json({"v": 1, "type": "say", "text": text})
            events = []
            while (event := ws.receive_json())["type"] != "error":
                events.append(event)
            assert events[0]["type"] == "turn_stored"
            assert event["code"] == "model.crashed" and "make llama-rebuild" in event["message"]
        ws.send_json({"v": 1, "type": "ping"})
        assert ws.receive_json()["type"] == "pong"
    said = [t for t in turns(crashing.db_path) if t[0] == "user"]
    assert [t[1] for t in said][-2:] == ["Hello?", "Are you still there?"]
