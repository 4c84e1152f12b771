"""The OpenAI-compatible API, served for real by uvicorn and called with the official `openai` client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from os1.config import Settings
from os1.memory import Database
from os1.server.app import create_app
from os1.server.auth import make_key
from os1.server.openai_api import MAX_BODY_BYTES
from os1.testing import FakeLLM
from tests.db_helpers import rows, turns
from tests.server_helpers import ANSWERS, opener_for, serving


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, str, FakeLLM]]:
    """The app under uvicorn on a free loopback port: (base URL, API key, model)."""
    db = Database(settings.db_path)
    try:
        key = make_key(db, db.user("local").user_id)
    finally:
        db.close()
    llm = FakeLLM(delay=0.002)  # streams word by word, as a model does
    with serving(create_app(settings, opener=opener_for(llm))) as url:
        yield url, key, llm


def onboarded(client: openai.OpenAI) -> None:
    for answer in ANSWERS:
        reply = client.chat.completions.create(model="os1", messages=[{"role": "user", "content": answer}])
    assert "I'm " in (reply.choices[0].message.content or "")


def test_completions_whole_and_streamed(server: tuple[str, str, FakeLLM], settings: Settings) -> None:
    url, key, _ = server
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    assert [m.id for m in client.models.list()] == ["os1"]
    first = client.chat.completions.create(model="os1", messages=[{"role": "user", "content": "Hi"}])
    assert "?" in (first.choices[0].message.content or "")  # the intro and the first question, not an answer
    onboarded(client)
    reply = client.chat.completions.create(model="os1", messages=[
        {"role": "system", "content": "ignored"}, {"role": "user", "content": "earlier, ignored"},
        {"role": "assistant", "content": "ignored too"}, {"role": "user", "content": "I love the sea"}])
    assert reply.choices[0].message.content == "You said: I love the sea"
    assert reply.choices[0].finish_reason == "stop" and reply.model == "os1"
    stream = client.chat.completions.create(model="os1", stream=True,
                                            messages=[{"role": "user", "content": "Sing to me softly"}])
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream]
    assert len([p for p in pieces if p]) >= 3 and "".join(pieces) == "You said: Sing to me softly"
    stored = turns(settings.db_path)
    assert ("user", "I love the sea", "complete") in stored and ("user", "earlier, ignored", "complete") not in stored
    assert stored[-2:] == [("user", "Sing to me softly", "complete"),
                           ("assistant", "You said: Sing to me softly", "complete")]


def test_a_wrong_or_missing_key_is_refused(server: tuple[str, str, FakeLLM]) -> None:
    url, _, _ = server
    client = openai.OpenAI(base_url=url + "/v1", api_key="os1-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="os1", messages=[{"role": "user", "content": "Hi"}])
    assert err.value.status_code == 401 and err.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    assert httpx.get(url + "/v1/models").status_code == 401


def test_bad_bodies_get_400_in_openai_shape(server: tuple[str, str, FakeLLM], settings: Settings) -> None:
    url, key, _ = server
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    for body in (b"{not json", b"[]", b'{"messages": []}', b'{"messages": [{"role": "system", "content": "x"}]}',
                 b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}', b"x" * (MAX_BODY_BYTES + 1),
                 b"[" * 50_000, b'{"messages": ' + b"[" * 50_000):
        response = httpx.post(url + "/v1/chat/completions", content=body, headers=headers)
        assert response.status_code == 400, body[:40]
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and error["message"]
    assert turns(settings.db_path) == []


def test_usage_counts_what_the_model_read_and_what_it_answered(server: tuple[str, str, FakeLLM]) -> None:
    url, key, llm = server
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    intro = client.chat.completions.create(model="os1", messages=[{"role": "user", "content": "Hi"}])
    text = intro.choices[0].message.content or ""
    assert intro.usage is not None
    assert (intro.usage.prompt_tokens, intro.usage.completion_tokens) == (llm.count_tokens("Hi"),
                                                                          llm.count_tokens(text))
    onboarded(client)
    reply = client.chat.completions.create(model="os1", messages=[{"role": "user", "content": "I love the sea"}])
    read = llm.calls[-1]
    assert reply.usage is not None and len(read) >= 2
    assert reply.usage.prompt_tokens == sum(llm.count_tokens(m.content) for m in read)
    assert reply.usage.completion_tokens == llm.count_tokens("You said: I love the sea") > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    stream = client.chat.completions.create(model="os1", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Sing to me softly"}])
    chunks = list(stream)
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert usage.prompt_tokens == sum(llm.count_tokens(m.content) for m in llm.calls[-1])
    assert usage.completion_tokens == llm.count_tokens("You said: Sing to me softly")
    assert all(c.usage is None for c in chunks[:-1])


def test_an_explicit_time_only_where_the_server_allows_it(settings: Settings) -> None:
    """`os1_at` stores the turn at that time, for imports and tests; an ordinary server refuses it."""
    db = Database(settings.db_path)
    try:
        store = db.user("local")
        key = make_key(db, store.user_id)
        for name, answer in zip(("user.name", "user.social", "user.mother", "user.voice"), ANSWERS, strict=True):
            store.set(name, answer)  # first boot is over
        store.set("os.name", "Samantha")
    finally:
        db.close()
    for allowed in (False, True):
        with serving(create_app(settings, opener=opener_for(FakeLLM()), explicit_time=allowed)) as url:
            client = openai.OpenAI(base_url=url + "/v1", api_key=key)
            body = {"os1_at": "2026-03-01T19:30:00+01:00"}
            message = [{"role": "user", "content": f"a line sent with a time, allowed={allowed}"}]
            if not allowed:
                with pytest.raises(openai.BadRequestError, match="explicit-time"):
                    client.chat.completions.create(model="os1", messages=message, extra_body=body)
                continue
            client.chat.completions.create(model="os1", messages=message, extra_body=body)
            with pytest.raises(openai.BadRequestError, match="ISO 8601"):
                client.chat.completions.create(model="os1", messages=message, extra_body={"os1_at": "yesterday"})
    stamps = rows(settings.db_path, "SELECT created_at, text FROM turns WHERE text LIKE 'a line sent%'")
    assert stamps == [("2026-03-01T19:30:00+01:00", "a line sent with a time, allowed=True")]
