"""The web server: the page, static files, and the WebSocket protocol against the fake model."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from os1.config import Settings
from os1.server.app import create_app, is_loopback
from os1.server.protocol import MAX_MESSAGE_BYTES, RateLimit
from os1.testing import FakeLLM
from tests.conftest import OS1
from tests.db_helpers import rows, turns
from tests.server_helpers import ANSWERS, opener_for


@contextmanager
def client(settings: Settings, llm: FakeLLM, **kw: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, opener=opener_for(llm), **kw), base_url="http://127.0.0.1") as c:
        yield c


def until(ws: Any, kind: str) -> list[dict[str, Any]]:
    """Events up to and including the first of `kind`."""
    seen = []
    while True:
        event = ws.receive_json()
        assert event["v"] == 1
        seen.append(event)
        if event["type"] == kind:
            return seen


def onboard(ws: Any) -> None:
    ws.send_json({"v": 1, "type": "hello"})
    events = until(ws, "prompt")
    assert events[0]["type"] == "ready" and events[0]["name"] == ""
    for answer in ANSWERS[:-1]:
        ws.send_json({"type": "say", "text": answer})
        until(ws, "prompt")
    ws.send_json({"type": "say", "text": ANSWERS[-1]})
    events = until(ws, "reply_done")
    assert any(e["type"] == "renamed" for e in events)


def test_onboarding_then_a_streamed_reply(settings: Settings, fake: FakeLLM) -> None:
    fake.delay = 0.002  # word by word, as a model streams
    with client(settings, fake) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"v": 1, "type": "say", "text": "Hello there, how are you"})
        events = until(ws, "reply_done")
        kinds = [e["type"] for e in events]
        assert kinds[:2] == ["turn_stored", "reply_started"] and kinds.count("delta") >= 3
        assert "".join(e["text"] for e in events if e["type"] == "delta") == "You said: Hello there, how are you"
        assert events[-1]["status"] == "complete"
        ws.send_json({"type": "hello"})
        ready = until(ws, "delta")
        assert ready[0]["name"] and ready[0]["user_name"] == "Theodore"
    assert turns(settings.db_path)[-2:] == [("user", "Hello there, how are you", "complete"),
                                    ("assistant", "You said: Hello there, how are you", "complete")]


def test_a_reply_that_comes_at_once_is_one_delta(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"v": 1, "type": "say", "text": "Hello again"})
        deltas = [e["text"] for e in until(ws, "reply_done") if e["type"] == "delta"]
        assert deltas == ["You said: Hello again"]


def test_debug_asks_for_the_context_before_each_reply(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"v": 1, "type": "debug", "context": True})
        ws.send_json({"v": 1, "type": "say", "text": "What do you know?"})
        events = until(ws, "reply_done")
        shown = [e for e in events if e["type"] == "context"]
        assert len(shown) == 1 and shown[0]["messages"][0]["role"] == "system"
        assert shown[0]["messages"] == [{"role": m.role, "content": m.content} for m in fake.calls[-1]]
        ws.send_json({"v": 1, "type": "debug", "context": False})
        ws.send_json({"v": 1, "type": "say", "text": "And now?"})
        assert not any(e["type"] == "context" for e in until(ws, "reply_done"))


def test_say_with_a_time_only_where_the_server_allows_it(settings: Settings, fake: FakeLLM) -> None:
    for allowed in (False, True):
        with client(settings, fake, explicit_time=allowed) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
            if not allowed:
                onboard(ws)
            else:
                ws.send_json({"v": 1, "type": "hello"})
                until(ws, "delta")
            ws.send_json({"v": 1, "type": "say", "text": f"dated, allowed={allowed}", "at": "2026-03-01T19:30:00Z"})
            if not allowed:
                refused = until(ws, "error")[-1]
                assert refused["code"] == "bad_field" and "--explicit-time" in refused["message"]
                continue
            until(ws, "reply_done")
            ws.send_json({"v": 1, "type": "say", "text": "x", "at": "soon"})
            assert until(ws, "error")[-1]["code"] == "bad_field"
    stamps = rows(settings.db_path, "SELECT created_at, role FROM turns WHERE created_at LIKE '2026-03-01%'")
    assert sorted(r for _, r in stamps) == ["assistant", "user"]
    assert all(s.startswith("2026-03-01T19:30:00") for s, _ in stamps)


@pytest.mark.parametrize(("frame", "code"), [
    ("not json", "bad_json"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": "say"}', "bad_field"),
    ('{"type": "say", "text": 5}', "bad_field"),
    ('{"v": 2, "type": "ping"}', "bad_version"),
    ('{"type": "debug", "context": "yes"}', "bad_field"),
    ("[1, 2]", "bad_message"),
    (json.dumps({"type": "say", "text": "x" * MAX_MESSAGE_BYTES}), "too_large"),
    (b"\x00\x01", "audio_not_started"),
])
def test_bad_frames_get_an_error_and_the_session_goes_on(settings: Settings, fake: FakeLLM, frame: str | bytes,
                                                          code: str) -> None:
    with client(settings, fake) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        if isinstance(frame, bytes):
            ws.send_bytes(frame)
        else:
            ws.send_text(frame)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == code and error["message"]
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_a_flood_is_rate_limited_and_the_session_stays_up(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake, rate_limit=5) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        for _ in range(12):
            ws.send_json({"type": "ping"})
        events = [ws.receive_json()["type"] for _ in range(6)]
        assert events == ["pong"] * 5 + ["error"]
        time.sleep(1.05)
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_rate_limit_is_a_sliding_window() -> None:
    limit = RateLimit(2, per=1.0)
    assert [limit.allow(t) for t in (0.0, 0.1, 0.2, 1.05, 1.15)] == [True, True, False, True, True]


def test_cancel_stores_the_partial_reply_as_interrupted(settings: Settings) -> None:
    slow = FakeLLM(["one two three four five six seven eight nine ten eleven twelve"], delay=0.1)
    with client(settings, slow) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"type": "say", "text": "Tell me a long story"})
        until(ws, "delta")
        until(ws, "delta")
        ws.send_json({"type": "cancel"})
        done = until(ws, "reply_done")[-1]
        assert done["status"] == "interrupted" and done["text"].startswith("one two")
        ws.send_json({"type": "ping"})
        assert until(ws, "pong")
    role, text, status = turns(settings.db_path)[-1]
    assert (role, status) == ("assistant", "interrupted") and text.startswith("one two") and "twelve" not in text
    assert turns(settings.db_path)[-2] == ("user", "Tell me a long story", "complete")
    assert slow.cancelled == 1


def test_a_client_vanishing_mid_reply_keeps_the_partial_reply(settings: Settings) -> None:
    slow = FakeLLM(["one two three four five six seven eight nine ten eleven twelve"], delay=0.1)
    with client(settings, slow) as c:
        with c.websocket_connect("ws://127.0.0.1/ws") as ws:
            onboard(ws)
            ws.send_json({"type": "say", "text": "Tell me a long story"})
            until(ws, "delta")
            until(ws, "delta")
        for _ in range(50):
            if slow.cancelled:
                break
            time.sleep(0.05)
    role, text, status = turns(settings.db_path)[-1]
    assert (role, status) == ("assistant", "interrupted") and text.startswith("one") and "twelve" not in text
    assert turns(settings.db_path)[-2] == ("user", "Tell me a long story", "complete")


def test_a_second_say_while_replying_is_refused(settings: Settings) -> None:
    slow = FakeLLM(["one two three four five six"], delay=0.1)
    with client(settings, slow) as c, c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"type": "say", "text": "first"})
        until(ws, "reply_started")
        ws.send_json({"type": "say", "text": "second"})
        events = until(ws, "reply_done")
        assert any(e["type"] == "error" and e["code"] == "busy" for e in events)
    assert [t[1] for t in turns(settings.db_path) if t[0] == "user"][-1] == "first"


def test_the_page_and_static_files(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c:
        page = c.get("/")
        assert page.status_code == 200 and "/static/app.js" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert c.get("/static/app.js").status_code == 200 and c.get("/static/style.css").status_code == 200
        assert c.get("/healthz").json()["ok"] is True
        for path in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/%2e%2e/config.py",
                     "/static/nothing.js", "/static/", "/static//etc/passwd"):
            assert c.get(path).status_code == 404, path


def test_foreign_hosts_and_origins_are_refused(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c:
        assert c.get("/healthz", headers={"host": "evil.example"}).status_code == 403
        with pytest.raises(WebSocketDisconnect) as closed, \
                c.websocket_connect("ws://127.0.0.1/ws", headers={"origin": "http://evil.example"}) as refused:
            refused.receive_json()
        assert closed.value.code == 1008
        with c.websocket_connect("ws://127.0.0.1/ws", headers={"origin": "http://127.0.0.1"}) as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.com", ""]))


def test_serve_refuses_a_public_address(home: Path) -> None:
    proc = subprocess.run([*OS1, "--model", "fake", "serve", "--host", "0.0.0.0", "--no-browser"],
                          capture_output=True, timeout=60, check=False, text=True)
    assert proc.returncode == 2
    assert "Refusing to listen on 0.0.0.0" in proc.stderr and "accounts" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_os1_key_prints_and_rotates_the_key(home: Path) -> None:
    def key(*extra: str) -> str:
        proc = subprocess.run([*OS1, "key", *extra], capture_output=True, timeout=60, check=True, text=True)
        return proc.stdout.strip()

    first = key()
    assert first.startswith("os1-")
    assert first not in key() and first[:8] in key()  # shown once; then only its hint
    new = key("--new")
    assert new.startswith("os1-") and new != first and new not in key()


def test_the_server_syncs_each_turn_to_disk_before_saying_it_is_stored(settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's one database commits without waiting for the disk and syncs its log in groups, off the
    event loop: still, `turn_stored` and a finished `reply_done` come only after a sync that began after them."""
    import os

    from os1.memory import store as store_module

    events: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append("synced " + os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1])

    monkeypatch.setattr(store_module.os, "fsync", fsync)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c, \
            c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        events.clear()
        ws.send_json({"v": 1, "type": "say", "text": "My sister's birthday is on the 3rd of June"})
        while True:
            event = ws.receive_json()
            events.append(event["type"])
            if event["type"] == "reply_done":
                break
    stored, done = events.index("turn_stored"), events.index("reply_done")
    assert "synced os1.db-wal" in events[:stored]
    assert "synced os1.db-wal" in events[events.index("reply_started"):done]
