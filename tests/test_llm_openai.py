"""The `openai:` backend against a real OpenAI-compatible server (llama-cpp-python's) and against broken ones."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from os1.config import Settings
from os1.errors import ModelError, ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm import Message, get_model
from os1.llm.openai_backend import OpenAIModel
from tests.db_helpers import rows, turns

OS1 = [sys.executable, "-m", "os1"]
FIRST_BOOT = b"Theodore\nsocial\nwe talk on Sundays\nfemale\n"
HELLO = "Hi! How are you?"
CHAT = [Message("system", "You are a friendly assistant. Answer briefly."), Message("user", "Say hello.")]
READY_SECONDS = 60.0


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2 as `smollm2`; yields its root URL."""
    from os1.llm.llamacpp import embedded_model_path

    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
             "--n_threads_batch", "1", "--model_alias", "smollm2"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if proc.poll() is not None:
                tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server was not ready after {READY_SECONDS:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


class Broken(BaseHTTPRequestHandler):
    """An OpenAI-compatible server gone wrong; the first path segment picks how (`/MODE/v1/...`)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.path.strip("/").split("/")[0]
        if mode == "junk":
            self._send(200, "text/html", b"<html><body>Welcome to nginx!</body></html>\n")
        elif mode == "binary":
            self._send(200, "application/octet-stream", b"\x00\xff\xfe junk \x80\x81\n\n")
        elif mode == "plain-json":
            self._send(200, "application/json", b'{"answer": "not a chat completion stream"')
        elif mode == "sse-junk":
            self._send(200, "text/event-stream", b"data: not json\n\ndata: still not json\n\n")
        elif mode == "sse-wrong-shape":
            self._send(200, "text/event-stream", b'data: {"choices": "nope"}\n\ndata: [DONE]\n\n')
        elif mode == "http500":
            self._send(500, "application/json", b'{"error": {"message": "internal error"}}')
        elif mode == "http404":
            self._send(404, "application/json", b'{"error": {"message": "model not found"}}')
        elif mode == "cut":
            # One good chunk, then the connection drops in the middle of a chunked body.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            event = (b'data: {"id": "1", "object": "chat.completion.chunk", "created": 0, "model": "m", '
                     b'"choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": null}]}\n\n')
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.write(b"400\r\npartial")
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(400, "text/plain", b"unknown mode")


@pytest.fixture(scope="module")
def broken() -> Iterator[str]:
    """Root URL of a loopback server that answers chat completions badly; add `/MODE/v1`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


async def collect(model: OpenAIModel, max_tokens: int = 16) -> list[str]:
    try:
        return [delta async for delta in model.stream(CHAT, max_tokens=max_tokens, temperature=0.0)]
    finally:
        await model.aclose()


def run_chat(model: str, base_url: str, stdin: bytes) -> tuple[int, str, str]:
    proc = subprocess.run([*OS1, "--model", model, "--base-url", base_url, "chat"], input=stdin,
                          capture_output=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def os_name(home: Path) -> str:
    ((name,),) = rows(home / "os1.db", "SELECT value FROM profile WHERE key = 'os.name'")
    return str(name)


def short_replies(home: Path) -> None:
    """Keep the real model's replies short in CLI runs."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("max_reply_tokens = 24\n", encoding="utf-8")


# --- the real server -------------------------------------------------------------------------------


@pytest.mark.real_model
async def test_get_model_builds_an_openai_model_from_settings(server: str, tmp_path: Path) -> None:
    model = get_model("openai:smollm2", Settings(home=tmp_path, openai_base_url=server + "/v1"))
    assert isinstance(model, OpenAIModel)
    assert model.name == "openai:smollm2"
    deltas = await collect(model)
    assert deltas and all(isinstance(d, str) and d for d in deltas)
    assert "".join(deltas).strip()


@pytest.mark.real_model
async def test_closing_the_stream_early_then_asking_again(server: str) -> None:
    model = OpenAIModel("smollm2", base_url=server + "/v1")
    try:
        stream = model.stream(CHAT, max_tokens=16, temperature=0.0)
        first = await anext(stream)
        assert first
        await stream.aclose()
        started = time.monotonic()
        again = [d async for d in model.stream(CHAT, max_tokens=8, temperature=0.0)]
        assert "".join(again).strip()
        assert time.monotonic() - started < 30
    finally:
        await model.aclose()


@pytest.mark.real_model
async def test_cancelling_the_consuming_task_stops_the_stream(server: str) -> None:
    model = OpenAIModel("smollm2", base_url=server + "/v1")
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in model.stream(CHAT, max_tokens=64, temperature=0.0):
            got_one.set()

    try:
        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_one.wait(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "".join([d async for d in model.stream(CHAT, max_tokens=8)]).strip()
    finally:
        await model.aclose()


@pytest.mark.real_model
def test_cli_chat_against_the_real_server(server: str, home: Path) -> None:
    short_replies(home)
    rc, out, err = run_chat("openai:smollm2", server + "/v1", FIRST_BOOT + HELLO.encode() + b"\n")
    assert rc == 0, err
    assert "Traceback" not in out + err
    name = os_name(home)
    assert name and name in out
    rows = turns(home / "os1.db")
    user_at = rows.index(("user", HELLO, "complete"))
    role, text, status = rows[user_at + 1]
    assert (role, status) == ("assistant", "complete") and text.strip()


# --- no server -------------------------------------------------------------------------------------


async def test_server_down_is_model_unavailable_naming_the_address() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelUnavailable) as info:
        await collect(OpenAIModel("smollm2", base_url=base_url, timeout=5))
    assert base_url in info.value.message
    assert "--base-url" in info.value.friendly()


def test_cli_with_the_server_down_says_so_once_and_keeps_the_turn(home: Path) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    rc, out, err = run_chat("openai:smollm2", base_url, FIRST_BOOT + HELLO.encode() + b"\n")
    assert rc == 0, err
    assert "Traceback" not in out and "Traceback" not in err
    assert out.count(f"Could not reach the model server at {base_url}.") == 1
    assert os_name(home) in out
    rows = turns(home / "os1.db")
    assert rows[-1] == ("user", HELLO, "complete")  # the failed, empty reply leaves no row


# --- a server that answers badly -------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "error"), [
    ("junk", ModelResponseError),
    ("binary", ModelResponseError),
    ("plain-json", ModelResponseError),
    ("sse-junk", ModelResponseError),
    ("sse-wrong-shape", ModelResponseError),
    ("http500", ModelResponseError),
    ("http404", ModelNotFound),
])
async def test_bad_answers_become_one_model_error(broken: str, mode: str, error: type[ModelError]) -> None:
    base_url = f"{broken}/{mode}/v1"
    with pytest.raises(ModelError) as info:
        await collect(OpenAIModel("smollm2", base_url=base_url, timeout=10))
    assert type(info.value) is error
    assert base_url in info.value.message
    assert "\n" not in info.value.message and "Traceback" not in info.value.friendly()


async def test_http_500_names_the_status(broken: str) -> None:
    with pytest.raises(ModelResponseError, match=r"HTTP 500"):
        await collect(OpenAIModel("smollm2", base_url=f"{broken}/http500/v1", timeout=10))


async def test_connection_dropped_mid_reply_keeps_what_came_and_raises_a_model_error(broken: str) -> None:
    model = OpenAIModel("smollm2", base_url=f"{broken}/cut/v1", timeout=10)
    got: list[str] = []
    with pytest.raises(ModelError):
        try:
            async for delta in model.stream(CHAT, max_tokens=16):
                got.append(delta)
        finally:
            await model.aclose()
    assert got == ["Hello"]


@pytest.mark.parametrize(("mode", "message"), [
    ("junk", "sent a reply OS1 could not read"),
    ("sse-junk", "sent a reply OS1 could not read"),
    ("http500", "answered with an error (HTTP 500)"),
])
def test_cli_with_a_broken_server_shows_one_line_and_keeps_the_turn(
        broken: str, home: Path, mode: str, message: str) -> None:
    rc, out, err = run_chat("openai:smollm2", f"{broken}/{mode}/v1", FIRST_BOOT + HELLO.encode() + b"\n")
    assert rc == 0, err
    assert "Traceback" not in out and "Traceback" not in err
    assert out.count(message) == 1
    assert turns(home / "os1.db")[-1] == ("user", HELLO, "complete")
