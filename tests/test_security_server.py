"""Issue 11's security findings against the server: a removed account's data never reaches the next account,
sockets end with their sign-in, bad input is a clear refusal, refused sockets close with their documented
codes, slow clients are dropped, and the sign-in throttle never locks the owner out. Most run a real uvicorn
on loopback, as `os1 serve` does."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from os1.config import Settings
from os1.memory import Database
from os1.server.accounts import Accounts
from os1.server.app import create_app
from os1.server.login import Throttle
from os1.testing import FakeLLM
from tests.conftest import OS1
from tests.server_helpers import ANSWERS, opener_for, serving
from tests.test_accounts import PASSWORD, client, csrf, make_accounts, sign_in, talk

DEADLINE_S = 30.0
"""How long a test waits for the server to do something it should do within seconds."""


def os1(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI in another process, as a user runs it beside the server."""
    return subprocess.run([*OS1, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False)


@contextmanager
def server_log() -> Iterator[list[logging.LogRecord]]:
    """uvicorn's error log while the block runs (where a traceback of the app would go). Enter it once the
    server has started: uvicorn's logging set-up drops the handlers of its loggers."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep(level=logging.WARNING)
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def problems(log: list[logging.LogRecord]) -> list[str]:
    return [f"{r.levelname} {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.levelname} {r.getMessage()}"
            for r in log if r.levelno >= logging.ERROR or r.exc_info]


def web_sign_in(http: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    return http.post("/login", data={"name": name, "password": password, "csrf": token.group(1)})


def cookie_header(http: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items())}


def open_socket(url: str, headers: dict[str, str] | None = None, origin: str | None = None) -> ClientConnection:
    return connect(url.replace("http://", "ws://") + "/ws", additional_headers=headers, origin=origin,  # type: ignore[arg-type]
                   proxy=None, open_timeout=DEADLINE_S)


def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; its close code (fails if it stays open past the deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        pass
    pytest.fail(f"the server left the socket open for {DEADLINE_S:.0f} s")


def hello(ws: ClientConnection) -> dict[str, Any]:
    ws.send(json.dumps({"type": "hello"}))
    ready: dict[str, Any] = json.loads(ws.recv(timeout=DEADLINE_S))
    assert ready["type"] == "ready"
    return ready


# 1. A removed account's data never reaches the next account ----------------------------------------------

def test_a_removed_accounts_companion_and_key_never_serve_the_next_account(home: Any, settings: Settings,
                                                                         fake: FakeLLM) -> None:
    """The issue's reproduction: add X, sign in, remove X from another process, add Y (today: X's id), Y tells a
    secret, add X again: X must see nothing of Y's and never get Y's key."""
    make_accounts(settings, "x")
    with client(settings, fake) as c:
        assert sign_in(c, "x").status_code == 303
        assert c.get("/api/history").status_code == 200  # X's companion is open in the server
        x_key = c.post("/api/key", headers=csrf(c)).json()["key"]
        assert os1("user", "remove", "x", "--yes").returncode == 0
        make_accounts(settings, "y")
        c.cookies.clear()
        assert sign_in(c, "y").status_code == 303
        talk(c, "my secret is the blue door")
        y_key = c.post("/api/key", headers=csrf(c)).json()["key"]
        make_accounts(settings, "x")
        c.cookies.clear()
        assert sign_in(c, "x").status_code == 303
        history = c.get("/api/history?limit=500").json()["turns"]
        assert not any("blue door" in t["text"] for t in history)
        assert y_key not in c.get("/api/key").text
        assert "blue door" not in json.dumps(c.get("/api/memory").json())
        assert c.get("/v1/models", headers={"Authorization": f"Bearer {x_key}"}).status_code == 401
        assert c.get("/v1/models", headers={"Authorization": f"Bearer {y_key}"}).status_code == 200


def test_a_cached_companion_is_checked_against_its_account_on_use(settings: Settings, fake: FakeLLM) -> None:
    from os1.server.users import Companions, UserGone

    db = Database(settings.db_path)
    try:
        ada = db.user("ada").user_id
        companions = Companions(settings, opener_for(fake), users=Accounts(db).user)
        opened = companions.acquire(ada, "ada")
        assert opened.store.user_id == ada
        companions.release(ada)
        assert companions.is_open(ada)
        db.execute("DELETE FROM users WHERE id = ?", (ada,))  # removed by another process
        with pytest.raises(UserGone):
            companions.acquire(ada, "ada")
        assert not companions.is_open(ada)
        bob = db.user("bob").user_id
        with pytest.raises(UserGone):
            companions.acquire(bob, "ada")  # an id that is someone else's
    finally:
        db.close()


# 2. Sign-out, removal and a new password end the account's sockets and sign-ins ---------------------------

def test_signing_out_ends_that_sign_ins_open_socket(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake) as c:
        sign_in(c, "ada")
        with c.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"
            assert c.post("/logout", headers=csrf(c)).status_code == 200
            ws.send_json({"type": "ping"})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401


def test_removing_an_account_from_another_process_closes_its_sockets(home: Any, settings: Settings,
                                                                    fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with serving(create_app(settings, opener=opener_for(fake))) as url, server_log() as log, \
            httpx.Client(base_url=url) as http:
        assert web_sign_in(http, "ada").status_code == 303
        with open_socket(url, cookie_header(http)) as idle, open_socket(url, cookie_header(http)) as talking:
            hello(idle)
            hello(talking)
            assert os1("user", "remove", "ada", "--yes").returncode == 0
            talking.send(json.dumps({"type": "say", "text": ANSWERS[0]}))
            assert close_code(talking) == 4401  # not a silent socket, and no IntegrityError
            assert close_code(idle) == 4401  # noticed while idle, within a few seconds
        assert http.get("/api/me").status_code == 401
    assert problems(log) == []


def test_a_new_password_ends_every_sign_in_of_the_account(home: Any, settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada", "bob")
    with serving(create_app(settings, opener=opener_for(fake))) as url, httpx.Client(base_url=url) as one, \
            httpx.Client(base_url=url) as two, httpx.Client(base_url=url) as bob:
        for http, name in ((one, "ada"), (two, "ada"), (bob, "bob")):
            assert web_sign_in(http, name).status_code == 303
        with open_socket(url, cookie_header(one)) as ws:
            hello(ws)
            changed = os1("user", "passwd", "ada", "--password-stdin", stdin="a brand new password\n")
            assert changed.returncode == 0, changed.stderr
            assert close_code(ws) == 4401
        assert one.get("/api/me").status_code == 401 and two.get("/api/me").status_code == 401
        assert bob.get("/api/me").status_code == 200  # another account's sign-in is untouched
        with httpx.Client(base_url=url) as again:
            assert web_sign_in(again, "ada").status_code == 401
            assert web_sign_in(again, "ada", "a brand new password").status_code == 303
    short = os1("user", "passwd", "ada", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "8 characters" in short.stderr
    assert os1("user", "passwd", "nobody", "--password-stdin", stdin=PASSWORD + "\n").returncode == 2


# 7. Bad input: a clear error, never a traceback -----------------------------------------------------------

def test_deeply_nested_json_on_the_socket_is_a_bad_json_error_and_it_stays_open(settings: Settings,
                                                                                  fake: FakeLLM) -> None:
    with TestClient(create_app(settings, opener=opener_for(fake)), base_url="http://127.0.0.1") as c, \
            c.websocket_connect("ws://127.0.0.1/ws") as ws:
        for frame in ('{"type":' * 5000, "[" * 50_000):
            ws.send_text(frame)
            error = ws.receive_json()
            assert error["type"] == "error" and error["code"] == "bad_json"
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"


def test_deeply_nested_json_to_the_pages_api_is_a_400(settings: Settings, fake: FakeLLM) -> None:
    with TestClient(create_app(settings, opener=opener_for(fake)), base_url="http://127.0.0.1") as c:
        c.cookies.set("os1_csrf", "t")
        for path in ("/api/settings", "/api/memory/forget", "/api/memory/vocabulary"):
            response = c.post(path, content=b"[" * 50_000, headers={"X-CSRF-Token": "t",
                                                                   "Content-Type": "application/json"})
            assert response.status_code == 400 and response.json()["error"]["code"] == "bad_json", path


def test_a_sign_in_form_with_too_many_fields_is_a_400_with_the_form(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake) as c:
        page = c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        fields = {"name": "ada", "password": PASSWORD, "csrf": token.group(1), **{f"f{i}": "x" for i in range(9)}}
        response = c.post("/login", data=fields, follow_redirects=False)
        assert response.status_code == 400 and '<form class="login"' in response.text
        assert "os1_session" not in c.cookies
        assert sign_in(c, "ada").status_code == 303  # and the next, proper form works


def _cut_short(url: str, request: bytes) -> None:
    """Send a request whose body stops half-way, then hang up."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=DEADLINE_S) as sock:
        sock.sendall(request)
        time.sleep(0.2)


def _request(method: str, path: str, headers: dict[str, str], body: bytes, length: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_a_client_dropping_mid_body_leaves_no_traceback(home: Any, settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    made = os1("--user", "ada", "key")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    with serving(create_app(settings, opener=opener_for(fake))) as url, server_log() as log, \
            httpx.Client(base_url=url) as http:
        assert web_sign_in(http, "ada").status_code == 303
        signed_in = {**cookie_header(http), "X-CSRF-Token": http.cookies["os1_csrf"],
                     "Content-Type": "application/json"}
        _cut_short(url, _request("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"},
                                 b"name=ada&password=", 1000))
        _cut_short(url, _request("POST", "/api/settings", signed_in, b'{"name": "Ju', 1000))
        _cut_short(url, _request("POST", "/api/memory/forget", signed_in, b'{"topic": ', 1000))
        _cut_short(url, _request("POST", "/v1/chat/completions", {"Authorization": f"Bearer {key}",
                                                                  "Content-Type": "application/json"},
                                 b'{"messages": [', 1000))
        assert http.get("/api/me").status_code == 200  # the server is fine
        time.sleep(0.5)  # let the server notice the last hang-up
    assert problems(log) == []


# 8. A refused socket closes with the documented code ------------------------------------------------------

def test_a_socket_without_a_sign_in_is_closed_with_4401_and_a_bad_origin_with_1008(settings: Settings,
                                                                                     fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with serving(create_app(settings, opener=opener_for(fake))) as url:
        try:
            with open_socket(url) as ws:
                assert close_code(ws) == 4401
            with open_socket(url, {"Cookie": "os1_session=forged"}) as ws:
                assert close_code(ws) == 4401
            with open_socket(url, origin="http://evil.example") as ws:
                assert close_code(ws) == 1008
        except InvalidStatus as refused:
            pytest.fail(f"the handshake was refused with HTTP {refused.response.status_code}, not a close code")


# 9. Slow clients are dropped ------------------------------------------------------------------------------

@contextmanager
def timed_server(settings: Settings, fake: FakeLLM, seconds: float) -> Iterator[tuple[str, int]]:
    """The app under uvicorn configured as `os1 serve` configures it, with short read timeouts."""
    import threading

    import uvicorn

    from os1.cli.serve import uvicorn_config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn_config(create_app(settings, opener=opener_for(fake)), "127.0.0.1", sock.getsockname()[1],
                            read_timeout=seconds)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert server.started
        yield "127.0.0.1", sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(DEADLINE_S)
        sock.close()


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (reads until it does, or the deadline passes)."""
    sock.settimeout(DEADLINE_S)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_slow_headers_and_slow_bodies_are_dropped(settings: Settings, fake: FakeLLM) -> None:
    with timed_server(settings, fake, 1.0) as address:
        slow_headers = [socket.create_connection(address) for _ in range(20)]
        for sock in slow_headers:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        silent = socket.create_connection(address)  # connects and says nothing
        slow_body = socket.create_connection(address)
        slow_body.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        try:
            assert all(_closed_by_server(s) for s in [*slow_headers, silent, slow_body])
            assert httpx.get(f"http://{address[0]}:{address[1]}/healthz").json()["ok"] is True
        finally:
            for sock in [*slow_headers, silent, slow_body]:
                sock.close()


def test_os1_serve_uses_the_read_timeouts(settings: Settings) -> None:
    from os1.cli.serve import uvicorn_config
    from os1.server.timeouts import ReadTimeouts

    config = uvicorn_config(create_app(settings), "127.0.0.1", 8765)
    assert isinstance(config.http, type) and issubclass(config.http, ReadTimeouts)
    assert 0 < config.http.header_timeout <= 30 and 0 < config.http.body_timeout <= 60


# 6. The throttle over HTTP: the guesser waits, the owner elsewhere does not ------------------------------

def test_wrong_passwords_slow_that_client_but_not_the_owner_elsewhere(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    throttle = Throttle(first_delay=600.0)  # the first wait is long enough for any machine to still be in it
    with serving(create_app(settings, opener=opener_for(fake), throttle=throttle)) as url, \
            httpx.Client(base_url=url) as guesser, \
            httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as owner:
        codes = [web_sign_in(guesser, "ada", f"guess {n}").status_code for n in range(7)]
        assert codes == [401] * 5 + [429] * 2
        slowed = web_sign_in(guesser, "ada")
        assert slowed.status_code == 429 and "Wait" in slowed.text
        assert web_sign_in(owner, "ada").status_code == 303
