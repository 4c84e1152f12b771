"""The memory and settings pages and their JSON API: listing, editing and forgetting memories, the history,
the OS's name, voice and model, refusals that change nothing, and one user never reaching another's data."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from os1.companion import Companion
from os1.config import Settings
from os1.memory import Database
from os1.memory.api import Memory
from os1.server import pages
from os1.server.app import create_app
from os1.speech import voices
from os1.testing import FakeLLM
from tests.db_helpers import rows
from tests.server_helpers import ANSWERS, opener_for

LINES = ["My sister Catherine signed the divorce papers.", "I love rock climbing.", "Leaving Peak now. Peak is my gym.",
         "My friend Amy is learning the cello.", "I live in Lisbon."]
REPLIES = ["She sounds lovely.", "Good for you.", "Noted.", "How nice.", "A lovely city."]
CSRF = {"X-CSRF-Token": "t"}
"""The header the gate wants on every change: the same value as the browser's `os1_csrf` cookie."""


async def _seed(db: Database, user: str, lines: Sequence[str], replies: Sequence[str]) -> None:
    store = db.user(user)
    memory = Memory(store)
    try:
        companion = Companion(store, FakeLLM(replies), memory=memory)
        for line in [*ANSWERS, *lines]:
            [e async for e in companion.say(line)]
        await memory.flush()
    finally:
        memory.close()


def seed(settings: Settings, user: str = "local", lines: Sequence[str] = LINES,
         replies: Sequence[str] = REPLIES) -> None:
    """A user who finished first boot and said `lines` (each answered by one of `replies`), memories derived."""
    db = Database(settings.db_path)
    try:
        asyncio.run(_seed(db, user, lines, replies))
    finally:
        db.close()


@contextmanager
def client(settings: Settings, llm: FakeLLM) -> Iterator[TestClient]:
    """The whole app in local mode, as the page's scripts call it (CSRF cookie and header)."""
    app = create_app(settings, opener=opener_for(llm))
    with TestClient(app, base_url="http://127.0.0.1", headers=CSRF, cookies={"os1_csrf": "t"}) as c:
        yield c


def stored_bytes(db: Path) -> bytes:
    """Everything in the database's files (the WAL too)."""
    wal = Path(f"{db}-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def item_by_text(c: TestClient, text: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = c.get("/api/memory").json()["items"]
    return next(i for i in items if i["text"] == text)


def error_of(response: Any, status: int) -> str:
    """The error code of a refusal, checking its status and shape."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return str(error["code"])


# the pages ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/memory", "/settings"])
def test_the_pages_are_served_with_the_security_headers(settings: Settings, fake: FakeLLM, path: str) -> None:
    with client(settings, fake) as c:
        page = c.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for header, value in pages_headers().items():
            assert page.headers[header] == value
        assert 'src="/static/pages.js"' in page.text and "<script>" not in page.text and "style=" not in page.text
        assert 'href="/"' in page.text  # the way back to the conversation
        for asset in ("/static/pages.js", "/static/pages.css"):
            assert c.get(asset).status_code == 200


def pages_headers() -> dict[str, str]:
    from os1.server.app import PAGE_HEADERS

    return PAGE_HEADERS


def test_the_script_sends_the_csrf_token_with_every_change() -> None:
    script = (Path(pages.__file__).parent / "static" / "pages.js").read_text(encoding="utf-8")
    assert 'headers["X-CSRF-Token"] = csrfToken()' in script and "os1_csrf" in script
    assert 'credentials: "same-origin"' in script
    assert script.count("fetch(") == 1  # every request goes through the one function that sends them


# memory ---------------------------------------------------------------------------------------------------

def test_the_list_shows_items_and_the_users_words(settings: Settings, fake: FakeLLM) -> None:
    seed(settings)
    with client(settings, fake) as c:
        response = c.get("/api/memory")
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        data = response.json()
    assert data["name"] and data["vocabulary"] == [{"term": "Peak", "meaning": "Theodore's gym"}]
    by_text = {i["text"]: i for i in data["items"]}
    assert {"Catherine is Theodore's sister.", "Theodore loves rock climbing.", "Amy is Theodore's friend.",
            "Theodore lives in Lisbon.", "Peak is Theodore's gym."} <= set(by_text)
    lisbon = by_text["Theodore lives in Lisbon."]
    assert lisbon["kind"] == "fact" and lisbon["until"] is None and lisbon["since"].startswith("20")
    assert set(lisbon) == {"id", "kind", "text", "since", "until"} and isinstance(lisbon["id"], int)


def test_editing_an_item_reindexes_it(settings: Settings, fake: FakeLLM) -> None:
    seed(settings)
    with client(settings, fake) as c:
        item = item_by_text(c, "Theodore lives in Lisbon.")
        response = c.patch(f"/api/memory/items/{item['id']}", json={"text": "  Theodore lives in\nPorto. "})
        assert response.status_code == 200
        assert response.json()["item"] == {**item, "text": "Theodore lives in Porto."}
        assert item_by_text(c, "Theodore lives in Porto.")["id"] == item["id"]
    stored = rows(settings.db_path, f"SELECT text FROM memories WHERE id = {item['id']}")
    assert stored == [("Theodore lives in Porto.",)]
    user = rows(settings.db_path, "SELECT id FROM users WHERE name = 'local'")[0][0]
    doc = 2 * item["id"] + 1
    assert (doc,) in rows(settings.db_path, f"SELECT rowid FROM search_{user} WHERE search_{user} MATCH 'porto'")
    assert (doc,) not in rows(settings.db_path, f"SELECT rowid FROM search_{user} WHERE search_{user} MATCH 'lisbon'")


def test_forgetting_an_item_removes_it_and_the_words_it_came_from(settings: Settings, fake: FakeLLM) -> None:
    seed(settings)
    with client(settings, fake) as c:
        item = item_by_text(c, "Theodore loves rock climbing.")
        response = c.delete(f"/api/memory/items/{item['id']}")
        assert response.status_code == 200
        assert response.json()["forgotten"] == {"turns": 2, "items": 1, "terms": 0, "profile": 0, "listed": 0}
        texts = [i["text"] for i in c.get("/api/memory").json()["items"]]
        assert "Theodore loves rock climbing." not in texts and "Theodore lives in Lisbon." in texts
        history = [t["text"] for t in c.get("/api/history?limit=500").json()["turns"]]
        assert "I love rock climbing." not in history and "Good for you." not in history  # its answer went too
        assert "I live in Lisbon." in history  # the rest stays
        assert error_of(c.delete(f"/api/memory/items/{item['id']}"), 404) == "not_found"
    data = stored_bytes(settings.db_path)
    for needle in (b"climbing", b"Climbing", b"climb", b"Good for you"):
        assert needle not in data


def test_forgetting_a_topic_removes_it_everywhere(settings: Settings, fake: FakeLLM) -> None:
    seed(settings)
    with client(settings, fake) as c:
        response = c.post("/api/memory/forget", json={"topic": "Catherine"})
        assert response.status_code == 200
        report = response.json()["forgotten"]
        assert report["turns"] == 1 and report["items"] == 1
        assert not any("Catherine" in i["text"] for i in c.get("/api/memory").json()["items"])
        nothing = c.post("/api/memory/forget", json={"topic": "Catherine"}).json()["forgotten"]
        assert nothing == {"turns": 0, "items": 0, "terms": 0, "profile": 0, "listed": 0}
    data = stored_bytes(settings.db_path)
    for needle in (b"Catherine", b"catherine", b"catherin", b"divorce"):
        assert needle not in data
    assert rows(settings.db_path, "SELECT count(*) FROM turns WHERE text LIKE '%Lisbon%'") == [(1,)]


def test_teaching_and_forgetting_a_word(settings: Settings, fake: FakeLLM) -> None:
    seed(settings)
    with client(settings, fake) as c:
        taught = c.post("/api/memory/vocabulary", json={"term": " Cocoa ", "meaning": "my car"})
        assert taught.status_code == 200
        assert {"term": "Cocoa", "meaning": "my car"} in taught.json()["vocabulary"]
        gone = c.delete("/api/memory/vocabulary/peak")  # the term as the user typed it, any case
        assert gone.status_code == 200
        assert gone.json()["forgotten"] == {"turns": 2, "items": 1, "terms": 1, "profile": 0, "listed": 0}
        assert gone.json()["vocabulary"] == [{"term": "Cocoa", "meaning": "my car"}]
        assert error_of(c.delete("/api/memory/vocabulary/Peak"), 404) == "not_found"
    assert b"gym" not in stored_bytes(settings.db_path)


def test_the_history_gives_the_latest_turns_oldest_first(settings: Settings, fake: FakeLLM) -> None:
    earlier = [f"Just a passing thought, number {i}." for i in range(25)]
    seed(settings, lines=[*earlier, *LINES], replies=[f"Mm, {i}." for i in range(25)] + REPLIES)
    with client(settings, fake) as c:
        turns = c.get("/api/history?limit=3").json()["turns"]
        assert [(t["role"], t["text"]) for t in turns] == [
            ("assistant", "How nice."), ("user", "I live in Lisbon."), ("assistant", "A lovely city.")]
        assert turns[1]["speaker"] == "Theodore" and turns[1]["status"] == "complete" and turns[1]["at"]
        assert turns[0]["id"] < turns[1]["id"] < turns[2]["id"]
        assert len(c.get("/api/history").json()["turns"]) == pages.HISTORY_DEFAULT
        for bad in ("0", "501", "x", "²", "-1", "1.5"):
            assert error_of(c.get(f"/api/history?limit={bad}"), 400) == "bad_field"


# settings -------------------------------------------------------------------------------------------------

def plugin_voice(register_plugin: Any) -> str:
    """Register a voice plugin, so that one voice is installed whatever this machine has; returns its spec."""
    from os1.plugins import hookimpl

    class Plugin:
        @hookimpl
        def register_tts(self, register: Any) -> None:
            register("testvoice", lambda arg, options: None, "A voice from a plugin")

    register_plugin(Plugin())
    return "testvoice"


@pytest.fixture
def a_voice(register_plugin: Any) -> str:
    return plugin_voice(register_plugin)


def test_settings_show_the_name_voice_and_model(settings: Settings, fake: FakeLLM, a_voice: str) -> None:
    seed(settings)
    with client(settings, fake) as c:
        data = c.get("/api/settings").json()
    name = rows(settings.db_path, "SELECT value FROM profile WHERE key = 'os.name'")[0][0]
    assert data["name"] == name
    assert data["voice"]["current"] == "auto"
    assert {"id": a_voice, "label": "A voice from a plugin", "gender": "unknown"} in data["voice"]["choices"]
    assert data["model"]["current"] == "fake" and data["model"]["changeable"] is True
    prefixes = {b["prefix"] for b in data["model"]["backends"]}
    assert {"embedded", "openai", "fake"} <= prefixes


def test_renaming_and_choosing_a_voice(settings: Settings, fake: FakeLLM, a_voice: str) -> None:
    seed(settings)
    with client(settings, fake) as c:
        response = c.post("/api/settings", json={"name": "juniper", "voice": a_voice})
        assert response.status_code == 200
        assert response.json()["name"] == "Juniper" and response.json()["voice"]["current"] == a_voice
        assert c.get("/api/settings").json()["name"] == "Juniper"
        with c.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.send_json({"type": "hello"})
            assert ws.receive_json()["name"] == "Juniper"
    profile = dict(rows(settings.db_path, "SELECT key, value FROM profile"))
    assert profile["os.name"] == "Juniper" and profile["settings.voice"] == a_voice
    assert profile["os.name_reason"] == "my name was given to me by Theodore"
    assert profile["user.voice"] == "female"  # a voice of no known gender leaves the preference alone


def test_choosing_a_voice_of_the_other_gender_changes_the_preference(settings: Settings, fake: FakeLLM,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seed(settings)  # first boot asked for a female voice
    monkeypatch.setattr(voices, "installed_voices", lambda: [voices.Voice("espeak:en-us", "Robotic", "male")])
    with client(settings, fake) as c:
        assert c.post("/api/settings", json={"voice": "espeak:en-us"}).status_code == 200
    profile = dict(rows(settings.db_path, "SELECT key, value FROM profile"))
    assert profile["settings.voice"] == "espeak:en-us" and profile["user.voice"] == "male"


def reply_to(c: TestClient, text: str) -> str:
    """What the OS answers to `text` over the WebSocket."""
    with c.websocket_connect("ws://127.0.0.1/ws") as ws:
        ws.send_json({"type": "say", "text": text})
        while (event := ws.receive_json())["type"] != "reply_done":
            assert event["type"] != "error", event
        return str(event["text"])


def test_the_model_changes_live_in_local_mode(settings: Settings) -> None:
    seed(settings)
    old = FakeLLM(answers={"hello": "The old model here."})
    with client(settings, old) as c:
        assert reply_to(c, "hello there") == "The old model here."
        response = c.post("/api/settings", json={"model": "fake"})
        assert response.status_code == 200 and response.json()["model"]["current"] == "fake"
        assert reply_to(c, "hello again") == "You said: hello again"  # a new model, loaded from its spec
    assert len(old.calls) == 1
    assert tomllib.loads(settings.config_path.read_text())["model"] == "fake"


@pytest.mark.parametrize("spec", ["nonsense:x", "fake:/no/such/script.json"])
def test_a_model_that_cannot_load_is_refused_and_the_old_one_stays(settings: Settings, spec: str) -> None:
    seed(settings)
    old = FakeLLM(answers={"hello": "The old model here."})
    with client(settings, old) as c:
        response = c.post("/api/settings", json={"model": spec, "name": "Juniper"})
        assert error_of(response, 400) == "config"
        assert c.get("/api/settings").json()["name"] != "Juniper"  # nothing of the request was applied
        assert reply_to(c, "hello there") == "The old model here."
    assert not settings.config_path.exists()


# refusals -------------------------------------------------------------------------------------------------

BAD = [
    ("PATCH", "/api/memory/items/{id}", b"not json", 400, "bad_json"),
    ("PATCH", "/api/memory/items/{id}", b"[1, 2]", 400, "bad_json"),
    ("PATCH", "/api/memory/items/{id}", {"text": 5}, 400, "bad_field"),
    ("PATCH", "/api/memory/items/{id}", {"text": " \n "}, 400, "bad_field"),
    ("PATCH", "/api/memory/items/{id}", {"text": "x" * 1001}, 400, "bad_field"),
    ("PATCH", "/api/memory/items/{id}", {"text": "fine", "kind": "fact"}, 400, "bad_field"),
    ("PATCH", "/api/memory/items/{id}", b"{" + b" " * (65 * 1024) + b"}", 400, "too_large"),
    ("PATCH", "/api/memory/items/99999999", {"text": "fine"}, 404, "not_found"),
    ("PATCH", "/api/memory/items/99999999999999999999999", {"text": "fine"}, 404, "not_found"),
    ("DELETE", "/api/memory/items/99999999", None, 404, "not_found"),
    ("POST", "/api/memory/forget", {"topic": "a"}, 400, "input"),
    ("POST", "/api/memory/forget", {}, 400, "bad_field"),
    ("POST", "/api/memory/forget", {"topic": ["Lisbon"]}, 400, "bad_field"),
    ("POST", "/api/memory/vocabulary", {"term": "Cocoa"}, 400, "bad_field"),
    ("POST", "/api/memory/vocabulary", {"term": "Cocoa", "meaning": "m" * 501}, 400, "bad_field"),
    ("DELETE", "/api/memory/vocabulary/Nothing", None, 404, "not_found"),
    ("POST", "/api/settings", {}, 400, "bad_field"),
    ("POST", "/api/settings", {"name": ""}, 400, "bad_field"),
    ("POST", "/api/settings", {"name": "x" * 41}, 400, "bad_field"),
    ("POST", "/api/settings", {"name": "1234"}, 400, "bad_field"),
    ("POST", "/api/settings", {"name": None}, 400, "bad_field"),
    ("POST", "/api/settings", {"voice": "no-such-voice"}, 400, "bad_field"),
    ("POST", "/api/settings", {"name": "Juniper", "voice": "no-such-voice"}, 400, "bad_field"),
    ("POST", "/api/settings", {"model": 3}, 400, "bad_field"),
    ("POST", "/api/settings", {"model": "fake\nfake"}, 400, "bad_field"),
    ("POST", "/api/settings", {"colour": "blue"}, 400, "bad_field"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD)
def test_bad_requests_are_refused_and_change_nothing(settings: Settings, fake: FakeLLM, method: str, path: str,
                                                     body: Any, status: int, code: str) -> None:
    seed(settings)
    with client(settings, fake) as c:
        before = c.get("/api/memory").json(), c.get("/api/settings").json(), c.get("/api/history?limit=500").json()
        item = item_by_text(c, "Theodore lives in Lisbon.")
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = c.request(method, path.format(id=item["id"]), **({} if body is None else kwargs))
        assert error_of(response, status) == code
        after = c.get("/api/memory").json(), c.get("/api/settings").json(), c.get("/api/history?limit=500").json()
    assert after == before


def test_renaming_waits_for_first_boot(settings: Settings, fake: FakeLLM) -> None:
    with client(settings, fake) as c:
        assert error_of(c.post("/api/settings", json={"name": "Juniper"}), 409) == "not_ready"
    assert rows(settings.db_path, "SELECT count(*) FROM profile WHERE key = 'os.name'") == [(0,)]


# two users ------------------------------------------------------------------------------------------------

class PickUser:
    """A test gate: the `X-User` header picks whose companion a request gets."""

    def __init__(self, app: ASGIApp, companions: dict[str, Companion]) -> None:
        self.app, self.companions = app, companions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            user = dict(scope["headers"]).get(b"x-user", b"").decode()
            scope.setdefault("state", {}).update(companion=self.companions[user], accounts_on=True)
        await self.app(scope, receive, send)


@contextmanager
def two_users(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Clients for users "a" and "b" of one database, through an app in account mode."""
    seed(settings, "a")
    seed(settings, "b", ["My brother Tobias plays the drums.", "I live in Oslo."], ["Cool.", "Cold!"])
    db = Database(settings.db_path)
    memories = {user: Memory(db.user(user)) for user in ("a", "b")}
    companions = {user: Companion(db.user(user), FakeLLM(), memory=m) for user, m in memories.items()}
    app = Starlette(routes=pages.routes(settings))
    app.add_middleware(PickUser, companions=companions)
    try:
        with TestClient(app, cookies={"os1_csrf": "t"}, headers={**CSRF, "X-User": "a"}) as a, \
                TestClient(app, cookies={"os1_csrf": "t"}, headers={**CSRF, "X-User": "b"}) as b:
            yield a, b
    finally:
        for memory in memories.values():
            memory.close()
        db.close()


def test_one_user_never_reaches_anothers_memory_history_or_settings(settings: Settings) -> None:
    with two_users(settings) as (a, b):
        a_items = a.get("/api/memory").json()["items"]
        b_data = b.get("/api/memory").json()
        assert {i["text"] for i in b_data["items"]} == {"Tobias is Theodore's brother.", "Theodore lives in Oslo."}
        assert not {i["id"] for i in a_items} & {i["id"] for i in b_data["items"]}
        assert b_data["vocabulary"] == []
        assert not any("Lisbon" in t["text"] for t in b.get("/api/history?limit=500").json()["turns"])
        for item in a_items:
            assert error_of(b.patch(f"/api/memory/items/{item['id']}", json={"text": "mine now"}), 404) == "not_found"
            assert error_of(b.delete(f"/api/memory/items/{item['id']}"), 404) == "not_found"
        assert b.post("/api/memory/forget", json={"topic": "Catherine"}).json()["forgotten"]["turns"] == 0
        assert error_of(b.delete("/api/memory/vocabulary/Peak"), 404) == "not_found"
        assert b.post("/api/settings", json={"name": "Beatrix"}).status_code == 200
        assert a.get("/api/memory").json()["items"] == a_items  # all of a's memories are as they were
        assert a.get("/api/settings").json()["name"] != "Beatrix"
        assert error_of(b.post("/api/settings", json={"model": "fake"}), 403) == "not_allowed"
    assert rows(settings.db_path, "SELECT count(*) FROM turns WHERE text LIKE '%Catherine%'") == [(1,)]
    assert not settings.config_path.exists()


# voices ---------------------------------------------------------------------------------------------------

def test_the_voices_listed_are_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voices, "piper_installed", lambda: False)
    monkeypatch.setattr(voices.shutil, "which", lambda name: None)
    assert [v.spec for v in voices.installed_voices()] == []
    monkeypatch.setattr(voices.shutil, "which", lambda name: "/usr/bin/espeak-ng")
    assert [v.spec for v in voices.installed_voices()] == ["auto", "espeak:en-us+f3", "espeak:en-us"]
    monkeypatch.setattr(voices, "piper_installed", lambda: True)
    assert [v.spec for v in voices.installed_voices()][:2] == ["auto", "piper"]


def test_a_chosen_voice_keeps_the_preference_consistent() -> None:
    male = voices.Voice("piper", "Joe", "male")
    assert voices.fitting_preference(male, "female") == "male"  # the engines would refuse a male voice else
    assert voices.fitting_preference(male, "either") == "either"
    assert voices.fitting_preference(voices.Voice("auto", "Automatic", "unknown"), "female") == "female"
    assert voices.fitting_preference(voices.Voice("espeak:en-us+f3", "f", "female"), "male") == "female"
