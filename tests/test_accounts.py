"""Accounts: `os1 user`, signing in, cookies, CSRF, per-user isolation and limits on the server."""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from os1.config import Settings
from os1.llm.base import LLM, Message
from os1.llm.kvstate import STATE_DIR
from os1.memory import Database
from os1.memory.store import now
from os1.server.accounts import AccountError, Accounts
from os1.server.app import create_app
from os1.server.auth import make_key
from os1.server.gate import CSRF_COOKIE, SESSION_COOKIE
from os1.server.login import Throttle
from os1.server.users import Companions
from os1.testing import FakeLLM
from tests.conftest import OS1
from tests.db_helpers import rows, turns
from tests.server_helpers import ANSWERS, opener_for

PASSWORD = "correct horse battery"


def make_accounts(settings: Settings, *names: str) -> None:
    db = Database(settings.db_path)
    try:
        for name in names:
            Accounts(db).add(name, PASSWORD)
    finally:
        db.close()


@contextmanager
def client(settings: Settings, llm: LLM, **kw: Any) -> Iterator[TestClient]:
    app = create_app(settings, opener=opener_for(llm), **kw)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def sign_in(c: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    return c.post("/login", data={"name": name, "password": password, "csrf": csrf.group(1)},
                  follow_redirects=False)


@contextmanager
def ada_and_bob(settings: Settings, llm: LLM) -> Iterator[tuple[TestClient, TestClient]]:
    """Two accounts on one server, each signed in from a browser of their own."""
    make_accounts(settings, "ada", "bob")
    with client(settings, llm) as ada, client(settings, llm, accounts=True) as bob:
        sign_in(ada, "ada")
        sign_in(bob, "bob")
        yield ada, bob


def csrf(c: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": c.cookies[CSRF_COOKIE]}


def until(ws: Any, kind: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        event = ws.receive_json()
        seen.append(event)
        if event["type"] == kind:
            return seen


def talk(c: TestClient, text: str) -> str:
    """Go through first boot if it is pending, then say `text`; the reply's text."""
    with c.websocket_connect("ws://127.0.0.1/ws") as ws:
        ws.send_json({"type": "hello"})
        ready = ws.receive_json()
        if ready["name"] == "":
            until(ws, "prompt")
            for answer in ANSWERS:
                ws.send_json({"type": "say", "text": answer})
                until(ws, "prompt" if answer != ANSWERS[-1] else "reply_done")
        ws.send_json({"type": "say", "text": text})
        return str(until(ws, "reply_done")[-1]["text"])


# The store ------------------------------------------------------------------------------------------------

def test_passwords_are_argon2_hashes_and_sign_ins_keep_only_token_hashes(settings: Settings) -> None:
    db = Database(settings.db_path)
    try:
        accounts = Accounts(db)
        accounts.add("ada", PASSWORD)
        assert accounts.verify("ada", PASSWORD)
        assert not accounts.verify("ada", "wrong password") and not accounts.verify("nobody", PASSWORD)
        token, sign_in = accounts.sign_in("ada")
        assert accounts.signed_in(token) == sign_in and accounts.signed_in(token + "x") is None
        accounts.sign_out(token)
        assert accounts.signed_in(token) is None
    finally:
        db.close()
    ((stored,),) = rows(settings.db_path, "SELECT password_hash FROM accounts")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert all(token not in str(r) for r in rows(settings.db_path, "SELECT * FROM logins"))


def test_bad_names_short_passwords_and_duplicates_are_refused(settings: Settings) -> None:
    db = Database(settings.db_path)
    try:
        accounts = Accounts(db)
        for name in ("", "Ada Lovelace", "../etc", "x" * 33):
            with pytest.raises(AccountError):
                accounts.add(name, PASSWORD)
        with pytest.raises(AccountError, match="8 characters"):
            accounts.add("ada", "short")
        accounts.add("ada", PASSWORD)
        with pytest.raises(AccountError, match="already"):
            accounts.add("ada", PASSWORD)
        with pytest.raises(AccountError):
            accounts.remove("nobody")
    finally:
        db.close()


def test_a_sign_in_expires(settings: Settings) -> None:
    db = Database(settings.db_path)
    try:
        clock = [now()]
        accounts = Accounts(db, clock=lambda: clock[0])
        accounts.add("ada", PASSWORD)
        token, _ = accounts.sign_in("ada")
        clock[0] += timedelta(days=31)
        assert accounts.signed_in(token) is None
        assert rows(settings.db_path, "SELECT COUNT(*) FROM logins") == [(0,)]  # expired ones are deleted
    finally:
        db.close()


# The CLI --------------------------------------------------------------------------------------------------

def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*OS1, *args], input=stdin, capture_output=True, timeout=120, check=False)


def test_os1_user_add_list_remove_takes_everything_of_the_user(home: Any, settings: Settings, fake: FakeLLM) -> None:
    assert run("user", "add", "ada", "--password-stdin", stdin=PASSWORD.encode() + b"\n").returncode == 0
    assert run("user", "add", "bob", "--password-stdin", stdin=PASSWORD.encode() + b"\n").returncode == 0
    bad = run("user", "add", "carl", "--password-stdin", stdin=b"short\n")
    assert bad.returncode == 2 and b"8 characters" in bad.stderr
    no_tty = run("user", "add", "dora")
    assert no_tty.returncode == 2 and b"--password-stdin" in no_tty.stderr
    listed = run("user", "list").stdout.decode()
    assert "ada" in listed and "bob" in listed and "carl" not in listed
    with client(settings, fake) as c:
        assert sign_in(c, "ada").status_code == 303
        talk(c, "my secret garden is behind the mill")
    ((ada_id,),) = rows(settings.db_path, "SELECT id FROM users WHERE name = 'ada'")
    assert rows(settings.db_path, f"SELECT COUNT(*) FROM search_{ada_id}")[0][0] > 0
    saved = settings.home / STATE_DIR / "persona.kv"  # a local model's reading of a persona, their name in it
    saved.parent.mkdir()
    saved.write_bytes(b"ada")
    refused = run("user", "remove", "ada", stdin=b"no\n")
    assert refused.returncode == 1 and saved.exists()
    assert run("user", "remove", "ada", stdin=b"ada\n").returncode == 0
    assert not saved.exists()
    assert rows(settings.db_path, "SELECT name FROM users WHERE name = 'ada'") == []
    for table in ("turns", "profile", "memories", "vectors", "logins", "api_keys", "sessions", "accounts"):
        assert rows(settings.db_path, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (ada_id,)) == [(0,)]
    assert rows(settings.db_path, "SELECT name FROM sqlite_master WHERE name = ?", (f"search_{ada_id}",)) == []
    assert not any("secret garden" in t[1] for t in turns(settings.db_path))
    assert "bob" in run("user", "list").stdout.decode()


def test_serve_refuses_other_addresses_until_accounts_exist(home: Any) -> None:
    refused = run("--model", "fake", "serve", "--host", "0.0.0.0", "--no-browser")
    assert refused.returncode == 2 and b"os1 user add" in refused.stderr


# Signing in -----------------------------------------------------------------------------------------------

def test_with_accounts_everything_but_sign_in_needs_one(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake) as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        assert c.get("/api/me").status_code == 401
        assert c.get("/static/app.js").status_code == 200 and c.get("/healthz").status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed, c.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.receive_json()
        assert closed.value.code == 4401
        wrong = sign_in(c, "ada", "not the password")
        assert wrong.status_code == 401 and "do not match" in wrong.text and SESSION_COOKIE not in c.cookies
        ok = sign_in(c, "ada")
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        cookie = next(v for k, v in ok.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
        assert c.get("/api/me").json() == {"user": "ada", "accounts": True}
        assert c.get("/").status_code == 200
        assert talk(c, "hello there") == "You said: hello there"
        assert c.post("/logout", headers=csrf(c)).status_code == 200
        assert c.get("/api/me").status_code == 401


def test_forged_and_expired_cookies_are_refused(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake) as c:
        c.cookies.set(SESSION_COOKIE, "forged-token")
        assert c.get("/api/me").status_code == 401
        c.cookies.set(SESSION_COOKIE, "\x7f;;==junk")
        assert c.get("/api/me").status_code == 401
        assert sign_in(c, "ada").status_code == 303
        db = Database(settings.db_path)
        try:
            db.execute("UPDATE logins SET expires_at = ?", ((datetime.now().astimezone() - timedelta(1)).isoformat(),))
        finally:
            db.close()
        assert c.get("/api/me").status_code == 401


def test_csrf_is_required_for_every_change(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake) as c:
        page = c.get("/login")
        forged = c.post("/login", data={"name": "ada", "password": PASSWORD, "csrf": "guess"}, follow_redirects=False)
        assert forged.status_code == 403 and SESSION_COOKIE not in c.cookies
        assert page.status_code == 200
        assert sign_in(c, "ada").status_code == 303
        assert c.post("/logout").status_code == 403  # no header
        assert c.post("/logout", headers={"X-CSRF-Token": "guess"}).status_code == 403
        signed_in = dict(c.cookies)
        c.cookies.set(CSRF_COOKIE, "guess")  # a token planted in the cookie must also be the sign-in's own
        assert c.post("/logout", headers={"X-CSRF-Token": "guess"}).status_code == 403
        c.cookies.clear()
        for name, value in signed_in.items():
            c.cookies.set(name, value)
        assert c.get("/api/me").status_code == 200  # still signed in
        assert c.post("/logout", headers=csrf(c)).status_code == 200


def test_local_mode_needs_no_sign_in_but_still_checks_csrf(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c:
        assert c.get("/login", follow_redirects=False).headers["location"] == "/"
        assert c.get("/api/me").json() == {"user": "local", "accounts": False}
        assert c.post("/logout").status_code == 403
        assert c.post("/logout", headers=csrf(c)).status_code == 200


def test_failed_passwords_make_a_name_wait(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake, throttle=Throttle(first_delay=600.0)) as c:
        for _ in range(5):
            assert sign_in(c, "ada", "wrong password").status_code == 401
        assert sign_in(c, "ada").status_code == 429  # even the right password, for a while


# Isolation ------------------------------------------------------------------------------------------------

def test_users_see_only_their_own_conversation_memory_and_keys(settings: Settings, fake: FakeLLM) -> None:
    with ada_and_bob(settings, fake) as (ada, bob):
        talk(ada, "my sister Lena lives in Oslo")
        talk(bob, "I keep bees on the roof")
        with bob.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.send_json({"type": "hello"})
            assert ws.receive_json()["user_name"] == "Theodore"
        db = Database(settings.db_path)
        try:
            ada_key, bob_key = make_key(db, db.user("ada").user_id), make_key(db, db.user("bob").user_id)
        finally:
            db.close()
        answer = bob.post("/v1/chat/completions", headers={"Authorization": f"Bearer {bob_key}"},
                          json={"messages": [{"role": "user", "content": "what do I keep?"}]})
        assert answer.status_code == 200
        assert ada.get("/v1/models", headers={"Authorization": "Bearer os1-not-a-key"}).status_code == 401
        assert ada.get("/v1/models", headers={"Authorization": f"Bearer {ada_key}"}).status_code == 200
    by_user = {name: [t for t in rows(settings.db_path, "SELECT t.text FROM turns t JOIN users u ON u.id = t.user_id "
                                                        "WHERE u.name = ?", (name,))]
               for name in ("ada", "bob")}
    assert any("Lena" in t for (t,) in by_user["ada"]) and not any("Lena" in t for (t,) in by_user["bob"])
    assert any("bees" in t for (t,) in by_user["bob"]) and not any("bees" in t for (t,) in by_user["ada"])
    assert any("what do I keep" in t for (t,) in by_user["bob"])


# Limits and concurrency -----------------------------------------------------------------------------------

def test_a_user_cannot_buy_more_frames_with_more_sessions(settings: Settings, fake: FakeLLM) -> None:
    make_accounts(settings, "ada")
    with client(settings, fake, user_frames_per_second=10, rate_limit=8) as c:
        sign_in(c, "ada")
        with c.websocket_connect("ws://127.0.0.1/ws") as one, c.websocket_connect("ws://127.0.0.1/ws") as two:
            for _ in range(6):
                one.send_json({"type": "ping"})
                two.send_json({"type": "ping"})
            kinds = [one.receive_json()["type"] for _ in range(6)] + [two.receive_json()["type"] for _ in range(5)]
            assert kinds.count("pong") == 10 and "error" in kinds  # 10 in a second for the user, not 2 × 8


def test_the_api_limits_requests_per_user(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake, user_requests_per_minute=3) as c:
        db = Database(settings.db_path)
        try:
            key = make_key(db, db.user("local").user_id)
        finally:
            db.close()
        codes = [c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


class Held(FakeLLM):
    """A scripted model whose replies to messages with 'slow' wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    async def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
                     temperature: float = 0.7) -> AsyncGenerator[str, None]:
        if "slow" in messages[-1].content:
            await asyncio.to_thread(self.release.wait, 60)
        async for piece in super().stream(messages, max_tokens=max_tokens, temperature=temperature):
            yield piece


def test_one_users_slow_model_call_does_not_delay_another(settings: Settings) -> None:
    make_accounts(settings, "ada", "bob")
    llm = Held()
    with client(settings, llm) as c:
        sign_in(c, "ada")
        talk(c, "hi")
        ada_cookie = dict(c.cookies)
        c.cookies.clear()
        sign_in(c, "bob")
        talk(c, "hi")
        bob_cookie = dict(c.cookies)
        with c.websocket_connect("ws://127.0.0.1/ws", headers=_cookie_header(ada_cookie)) as slow, \
                c.websocket_connect("ws://127.0.0.1/ws", headers=_cookie_header(bob_cookie)) as quick:
            slow.send_json({"type": "say", "text": "a slow question"})
            until(slow, "turn_stored")
            quick.send_json({"type": "say", "text": "a quick one"})
            # bob is answered while ada's model call is still held
            assert until(quick, "reply_done")[-1]["text"] == "You said: a quick one"
            assert not llm.release.is_set()
            llm.release.set()
            assert until(slow, "reply_done")[-1]["text"] == "You said: a slow question"
    texts = {name: [t for (t,) in rows(settings.db_path, "SELECT t.text FROM turns t JOIN users u ON "
                                                        "u.id = t.user_id WHERE u.name = ?", (name,))]
             for name in ("ada", "bob")}
    assert "a slow question" in texts["ada"] and "a quick one" in texts["bob"]
    assert "a quick one" not in texts["ada"]


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def test_idle_companions_beyond_the_limit_are_closed(settings: Settings, fake: FakeLLM) -> None:
    db = Database(settings.db_path)
    try:
        ada, bob = db.user("ada").user_id, db.user("bob").user_id
        companions = Companions(settings, opener_for(fake), users=Accounts(db).user, keep_idle=1)
        first = companions.acquire(ada, "ada")
        companions.release(ada)
        companions.acquire(bob, "bob")
        companions.release(bob)
        assert not companions.is_open(ada) and companions.is_open(bob)
        assert companions.acquire(ada, "ada") is not first  # reopened
        asyncio.run(companions.close())
    finally:
        db.close()


def test_each_user_gets_their_own_api_key_from_the_settings_api(settings: Settings, fake: FakeLLM) -> None:
    with ada_and_bob(settings, fake) as (ada, bob):
        assert ada.get("/api/key").json() == {"exists": False, "hint": None, "created": None,
                                              "base_url": "http://127.0.0.1/v1"}
        assert ada.post("/api/key").status_code == 403  # a change needs the CSRF token
        ada_key, bob_key = (c.post("/api/key", headers=csrf(c)).json()["key"] for c in (ada, bob))
        assert ada_key != bob_key
        shown = ada.get("/api/key").json()  # afterwards: that it exists, never the key
        assert shown["exists"] is True and shown["hint"] == ada_key[:8] and "key" not in shown
        assert ada_key not in ada.get("/api/key").text
        new = ada.post("/api/key", headers=csrf(ada)).json()
        assert new["key"] != ada_key and new["base_url"] == "http://127.0.0.1/v1"
        auth = {"Authorization": f"Bearer {ada_key}"}
        assert ada.get("/v1/models", headers=auth).status_code == 401  # the old key stopped working
        assert ada.get("/v1/models", headers={"Authorization": f"Bearer {new['key']}"}).status_code == 200
        assert bob.get("/v1/models", headers={"Authorization": f"Bearer {bob_key}"}).status_code == 200


def test_no_route_lets_one_account_read_or_change_anothers_data(settings: Settings, fake: FakeLLM) -> None:
    """Through the real sign-in: memory, history, settings, the socket and the API, each from the other side."""
    with ada_and_bob(settings, fake) as (ada, bob):
        talk(bob, "My sister Catherine lives in Lisbon.")
        talk(ada, "I like long walks")
        bob_items = bob.get("/api/memory").json()["items"]
        assert bob_items and any("Catherine" in i["text"] for i in bob_items)
        assert not any("Catherine" in i["text"] for i in ada.get("/api/memory").json()["items"])
        for item in bob_items:
            assert ada.patch(f"/api/memory/items/{item['id']}", json={"text": "changed"},
                             headers=csrf(ada)).status_code == 404
            assert ada.delete(f"/api/memory/items/{item['id']}", headers=csrf(ada)).status_code == 404
        assert ada.delete("/api/memory/vocabulary/Catherine", headers=csrf(ada)).status_code == 404
        assert ada.post("/api/memory/forget", json={"topic": "Catherine"}, headers=csrf(ada)).json()["forgotten"][
            "turns"] == 0
        assert not any("Catherine" in t["text"] for t in ada.get("/api/history?limit=500").json()["turns"])
        bob_name = bob.get("/api/settings").json()["name"]
        assert ada.post("/api/settings", json={"name": "Juniper"}, headers=csrf(ada)).status_code == 200
        assert bob.get("/api/settings").json()["name"] == bob_name != "Juniper"
        # bob's CSRF token is no good with ada's sign-in, and the other way round
        assert ada.post("/api/key", headers={"X-CSRF-Token": bob.cookies[CSRF_COOKIE]}).status_code == 403
        assert [i["text"] for i in bob.get("/api/memory").json()["items"]] == [i["text"] for i in bob_items]
        assert any("Catherine" in t["text"] for t in bob.get("/api/history").json()["turns"])


# When accounts begin on a machine already in use -----------------------------------------------------------

def seed_local(settings: Settings, lines: Sequence[str] = ("I love the sea", "My sister Lena lives in Oslo")) -> int:
    """The local user's conversation, as `os1 chat` leaves it; their id."""
    db = Database(settings.db_path)
    try:
        store = db.user("local")
        for key, answer in (("user.name", "Theodore"), ("user.social", "social"), ("user.mother", "kind"),
                            ("user.voice", "female"), ("os.name", "Samantha")):  # first boot is done
            store.set(key, answer)
        for line in lines:
            store.add_turn("user", line)
            store.add_turn("assistant", "Tell me more.")
        return store.user_id
    finally:
        db.close()


def local_key() -> str:
    made = run("key")
    assert made.returncode == 0, made.stderr
    return made.stdout.decode().strip()


def user_ids(settings: Settings) -> dict[str, int]:
    return {str(n): int(i) for i, n in rows(settings.db_path, "SELECT id, name FROM users")}


def test_the_first_account_must_say_whose_the_existing_conversation_is(home: Any, settings: Settings) -> None:
    seed_local(settings)
    refused = run("user", "add", "ada", "--password-stdin", stdin=PASSWORD.encode() + b"\n")
    assert refused.returncode == 2
    message = refused.stderr.decode()
    assert "--owner" in message and "--new-user" in message and "4 turns" in message
    assert rows(settings.db_path, "SELECT COUNT(*) FROM accounts") == [(0,)]


def test_the_owner_takes_over_their_life_and_a_running_server_switches_to_accounts(
        home: Any, settings: Settings, fake: FakeLLM) -> None:
    local_id = seed_local(settings)
    key = local_key()
    with client(settings, fake) as c:
        assert c.get("/api/me").json() == {"user": "local", "accounts": False}
        assert c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        with c.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"
            made = run("user", "add", "ada", "--password-stdin", "--owner", stdin=PASSWORD.encode() + b"\n")
            assert made.returncode == 0, made.stderr
            ws.send_json({"type": "ping"})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401  # the running server now asks for a sign-in
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        assert c.get("/api/me").status_code == 401
        assert user_ids(settings)["ada"] == local_id and "local" not in user_ids(settings)
        assert sign_in(c, "ada").status_code == 303
        assert c.get("/api/me").json() == {"user": "ada", "accounts": True}
        history = [t["text"] for t in c.get("/api/history").json()["turns"]]
        assert "I love the sea" in history and "My sister Lena lives in Oslo" in history
        # the old local key went with the life it belongs to
        answer = c.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                        json={"messages": [{"role": "user", "content": "still me"}]})
        assert answer.status_code == 200
    assert rows(settings.db_path, "SELECT user_id FROM turns WHERE text = 'still me'") == [(local_id,)]


def test_after_taking_over_the_terminal_goes_on_with_the_owners_life(home: Any, settings: Settings) -> None:
    seed_local(settings)
    made = run("user", "add", "ada", "--password-stdin", "--owner", stdin=PASSWORD.encode() + b"\n")
    assert made.returncode == 0, made.stderr
    chat = run("--model", "fake", "chat", stdin=b"Do you remember my sister?\n")
    assert chat.returncode == 0, chat.stderr
    assert b"Welcome back" in chat.stdout and b"Welcome to OS1" not in chat.stdout
    ada = user_ids(settings)["ada"]
    assert rows(settings.db_path, "SELECT user_id FROM turns WHERE text = 'Do you remember my sister?'") == [(ada,)]
    assert "local" not in user_ids(settings)  # no empty stranger made for the terminal


def test_a_new_user_starts_afresh_and_the_local_key_stops_working(home: Any, settings: Settings,
                                                                 fake: FakeLLM) -> None:
    local_id = seed_local(settings)
    key = local_key()
    made = run("user", "add", "ada", "--password-stdin", "--new-user", stdin=PASSWORD.encode() + b"\n")
    assert made.returncode == 0, made.stderr
    ids = user_ids(settings)
    assert ids["local"] == local_id and ids["ada"] != local_id
    with client(settings, fake) as c:
        assert c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        assert sign_in(c, "ada").status_code == 303
        assert c.get("/api/history").json()["turns"] == []


def test_at_a_terminal_the_first_account_asks_and_yes_takes_over(home: Any, settings: Settings) -> None:
    import os
    import pty
    import time

    local_id = seed_local(settings)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([*OS1, "user", "add", "ada"], stdin=terminal, stdout=terminal, stderr=terminal,
                            start_new_session=True, close_fds=True)
    os.close(terminal)
    seen = b""

    def answer(prompt: bytes, reply: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while prompt not in seen and time.monotonic() < deadline:
            seen += os.read(controller, 4096)
        assert prompt in seen, seen
        seen = seen[seen.index(prompt) + len(prompt):]
        os.write(controller, reply)

    try:
        answer(b"[y/n]", b"maybe\n")  # unclear: asked again, not guessed
        answer(b"answer y", b"y\n")
        answer(b"Password: ", PASSWORD.encode() + b"\n")
        answer(b"Again: ", PASSWORD.encode() + b"\n")
        assert proc.wait(60) == 0
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert user_ids(settings)["ada"] == local_id
