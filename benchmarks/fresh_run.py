"""`make run` on a fresh machine: the time from a new clone to the page answering, and to the first reply.

    .venv/bin/python benchmarks/fresh_run.py [--keep]

A fresh machine is simulated as closely as one can without a new one: a clone of this repository in a new
folder, with a new, empty `HOME` (so no pip cache, no built llama.cpp wheel in ~/.cache/os1/wheels, no joined
model in ~/.cache/os1/models, no OS1 home); the Debian packages and the package index are the machine's own
(the Makefile installs what is missing). `make run` is started (with `CI=true`, so no browser opens), each line
it prints is timed, and once the page's server answers on port 8765 a client does what a person on the page
does: opens the socket, reads the first-boot question, answers the four, then types a first line. Reported:
the llama.cpp build, the Python install (the brain's pack of 22 parts among it), joining and checking the pack
(`os1 models --prepare`), the server up, the first-boot question on screen, and the first reply's first word
and end (the default brain reads its persona for the first time). Takes 15–25 minutes on two cores and some
4 GB of disk (removed after, unless `--keep`). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
ANSWERS = ["Theodore", "social", "we talk on Sundays", "female"]
FIRST_LINE = "Hi! I just installed you. How are you?"
MARKS = {  # phase: a piece of a line make prints when the phase begins
    "llama_build": "Building llama-cpp-python",
    "python_install": "pip install -q -e",
    "pack_join": "os1 models --prepare",
    "server_listening": "OS1 is at http",
}


def healthy(timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


async def first_conversation(started: float) -> dict[str, float]:
    """As a person on the page: the first-boot question, four answers, a first line; times since `started`."""
    import websockets

    times: dict[str, float] = {}
    origin = f"http://127.0.0.1:{PORT}"
    async with websockets.connect(f"ws://127.0.0.1:{PORT}/ws", origin=origin,  # type: ignore[arg-type]
                                  max_size=None, open_timeout=60) as socket:

        async def until(kind: str) -> dict[str, Any]:
            while True:
                event: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 600))
                if event["type"] == "error":
                    raise SystemExit(f"the server answered an error: {event}")
                if event["type"] == kind:
                    return event

        async def say(text: str, answer: str) -> None:
            """Send a line once the last one's answer is over (the page's send button waits the same way)."""
            while True:
                await socket.send(json.dumps({"type": "say", "text": text}))
                event: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 600))
                while event["type"] not in (answer, "error"):
                    event = json.loads(await asyncio.wait_for(socket.recv(), 600))
                if event["type"] == answer:
                    return
                if event.get("code") != "busy":
                    raise SystemExit(f"the server answered an error: {event}")
                await asyncio.sleep(0.05)

        await socket.send(json.dumps({"type": "hello"}))
        await until("prompt")
        times["first_question_s"] = time.monotonic() - started
        for number, answer in enumerate(ANSWERS, 1):
            await say(answer, "prompt" if number < len(ANSWERS) else "reply_done")  # the next question; the greeting
        said = time.monotonic()
        await say(FIRST_LINE, "delta")
        times["first_reply_word_s"] = time.monotonic() - started
        times["first_reply_word_after_line_s"] = time.monotonic() - said
        done = await until("reply_done")
        times["first_reply_done_s"] = time.monotonic() - started
        print(f"the first reply: {done['text']!r}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the clone and the fresh HOME")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    args = parser.parse_args()
    if healthy():
        raise SystemExit(f"Something already serves port {PORT}; stop it first.")
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="os1-fresh-run-"))
    clone, home = work / "os1", work / "home"
    home.mkdir()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OS1_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), CI="true", PIP_NO_INPUT="1")
    started = time.monotonic()
    marks: dict[str, float] = {}
    make = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
    assert make.stdout is not None

    def read() -> None:
        assert make.stdout is not None
        for line in make.stdout:
            at = time.monotonic() - started
            print(f"{at:8.1f} s  {line.rstrip()[:150]}", flush=True)
            for phase, piece in MARKS.items():
                if phase not in marks and piece in line:
                    marks[phase] = at

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    times: dict[str, float] = {}
    try:
        while not healthy():
            if make.poll() is not None:
                raise SystemExit(f"make run ended ({make.returncode}) before the server answered")
            if time.monotonic() - started > args.timeout:
                raise SystemExit("the server did not answer in time")
            time.sleep(1.0)
        marks["server_up"] = time.monotonic() - started
        times = asyncio.run(first_conversation(started))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"fresh_run_to_reply_s": round(times["first_reply_word_s"], 1),
                      **{k: round(v, 1) for k, v in times.items()},
                      "phases_s": {phase: round(at, 1) for phase, at in sorted(marks.items(), key=lambda m: m[1])}}))


if __name__ == "__main__":
    main()
