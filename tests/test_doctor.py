"""`os1 doctor`: the native build's instructions against this CPU, and each model backend run once in a child."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import os1.cli.doctor
from os1.cli.doctor import run
from os1.config import Settings
from tests.conftest import OS1


def test_doctor_runs_the_backends_and_says_what_works(home: Path) -> None:
    done = subprocess.run([*OS1, "doctor", "--model", "embedded"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"}, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") >= 3}
    assert "works" in lines["llama.cpp build"] and "AVX2" in lines["llama.cpp build"]
    assert "works" in lines["model embedded"] and "tokens in" in lines["model embedded"]
    assert "works" in lines["model tiny"] and "tokens in" in lines["model tiny"]
    assert "works" in lines["model fake"]
    assert "not configured" in lines["model openai"]


def test_a_model_that_crashes_is_reported_with_its_signal(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    monkeypatch.setattr(os1.cli.doctor, "probe_command", lambda model, threads=1: crash)
    out = io.StringIO()
    status = run(Settings(home=home, model="embedded"), argparse.Namespace(), Console(file=out, width=300))
    assert status == 1
    row = next(line for line in out.getvalue().splitlines() if "model embedded" in line)
    assert "fails" in row and "SIGILL" in row


def test_an_unreachable_server_is_reported_not_raised(home: Path) -> None:
    settings = Settings(home=home, model="openai:nothing", openai_base_url="http://127.0.0.1:9/v1")
    out = io.StringIO()
    assert run(settings, argparse.Namespace(), Console(file=out, width=300)) == 1
    row = next(line for line in out.getvalue().splitlines() if "model openai:nothing" in line)
    assert "fails" in row
