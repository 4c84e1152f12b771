"""Getting ready while the user types: drafts are prepared for, and the line sent uses what was prepared."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest

from os1.companion import Companion
from os1.events import ReplyDone
from os1.llm.base import Message
from os1.memory.api import Memory
from os1.server.protocol import Draft, ProtocolError, decode
from os1.server.session import Session
from os1.testing import FakeLLM
from os1.typing_ahead import TypingAhead
from tests.test_companion import collect, onboarded


class Reading(FakeLLM):
    """Keeps what it is asked to read ahead; each reading takes a moment."""

    def __init__(self, replies: list[str] | None = None) -> None:
        super().__init__(replies or ["Amy sounds like a good friend."])
        self.read: list[list[Message]] = []

    async def prepare(self, messages: Sequence[Message]) -> None:
        self.read.append(list(messages))
        await asyncio.sleep(0.01)


async def settled(typing: TypingAhead) -> None:
    while typing._task is not None and not typing._task.done():
        await asyncio.sleep(0.005)


def test_a_draft_is_a_protocol_event() -> None:
    assert decode(json.dumps({"v": 1, "type": "draft", "text": "I had a"})) == Draft("I had a")
    with pytest.raises(ProtocolError, match="string 'text'"):
        decode(json.dumps({"type": "draft"}))
    with pytest.raises(ProtocolError, match="no field at"):
        decode(json.dumps({"type": "draft", "text": "x", "at": "2026-01-01T00:00:00Z"}))


async def test_the_model_reads_the_draft_and_the_line_sent_uses_it(store) -> None:
    llm = Reading()
    companion = await onboarded(store, llm)
    llm.read.clear()
    typing = TypingAhead(companion)
    typing.update("My friend Amy")
    await settled(typing)
    assert llm.read[-1][-1].role == "user" and llm.read[-1][-1].content.endswith("My friend Amy")
    prepared = await typing.take("My friend Amy is coming over")
    assert prepared is not None and prepared.text == "My friend Amy"  # 3 of 6 words: enough
    events = [e async for e in companion.say("My friend Amy is coming over", prepared=prepared)]
    assert isinstance(events[-1], ReplyDone) and events[-1].text == "Amy sounds like a good friend."
    assert llm.calls[-1][-1].content.endswith("My friend Amy is coming over")


async def test_a_draft_that_is_not_the_start_of_the_line_is_not_used(store) -> None:
    companion = await onboarded(store, Reading())
    typing = TypingAhead(companion)
    typing.update("Where is")
    await settled(typing)
    assert await typing.take("Tell me a story") is None  # retyped
    typing.update("Hi")
    await settled(typing)
    assert await typing.take("Hi, can you tell me what you remember about my sister's wedding?") is None  # 1 of 12
    assert await typing.take("Hi") is None  # drafts start afresh after a line is sent


async def test_drafts_coalesce_and_memories_are_recalled_again_only_when_the_words_double(store) -> None:
    llm = Reading()
    companion = await onboarded(store, llm)
    memory = Memory(store)
    companion.memory = memory
    recalls: list[str] = []
    original = memory.recall

    async def recall(query: str, **kwargs: object) -> list:
        recalls.append(query)
        return await original(query, **kwargs)  # type: ignore[arg-type]

    memory.recall = recall  # type: ignore[method-assign]
    typing = TypingAhead(companion)
    llm.read.clear()
    typing.update("My")
    while not llm.read:  # the first reading has begun
        await asyncio.sleep(0.001)
    for draft in ["My sister", "My sister Ann", "My sister Ann is"]:  # faster than one reading
        typing.update(draft)
    await settled(typing)
    assert recalls == ["My", "My sister Ann is"]  # the newest draft is taken up when the first reading ends
    for draft in ["My sister Ann is getting", "My sister Ann is getting married in June"]:
        typing.update(draft)
        await settled(typing)
    assert recalls[2:] == ["My sister Ann is getting married in June"]  # 5 words < 2×4 kept; 9 recalled
    assert typing.preparations == 4


async def test_a_model_that_cannot_read_ahead_is_not_asked(store) -> None:
    companion = await onboarded(store, FakeLLM())
    typing = TypingAhead(companion)
    typing.update("Hello there")
    assert typing._task is None and await typing.take("Hello there") is None


async def test_during_first_boot_a_draft_prepares_nothing(store) -> None:
    llm = Reading()
    companion = Companion(store, llm)
    companion.start_session()
    typing = TypingAhead(companion)
    typing.update("Theo")
    await settled(typing)
    assert not llm.read and await typing.take("Theodore") is None


async def test_the_session_prepares_drafts_and_answers_the_line_with_them(store) -> None:
    llm = Reading()
    companion = await onboarded(store, llm)
    llm.read.clear()
    sent: list[dict[str, object]] = []

    async def send(frame: str | bytes) -> None:
        assert isinstance(frame, str)
        sent.append(json.loads(frame))

    session = Session(companion, send)
    assert session._typing is None  # made at the first draft: most sessions never send one
    await session.receive(json.dumps({"type": "draft", "text": "I found the divorce"}))
    assert session._typing is not None
    await settled(session._typing)
    assert llm.read and llm.read[-1][-1].content.endswith("I found the divorce")
    assert not sent  # a hint: nothing comes back
    await session.receive(json.dumps({"type": "say", "text": "I found the divorce papers"}))
    assert session._reply is not None
    await session._reply
    assert [e["type"] for e in sent][-1] == "reply_done" and sent[-1]["status"] == "complete"
    for _ in range(12):  # more than five a second are dropped without a word
        await session.receive(json.dumps({"type": "draft", "text": "x" * (_ + 1)}))
    await settled(session._typing)
    assert all(e["type"] != "error" for e in sent)
    session._typing.close()


async def test_a_page_opening_has_the_model_read_the_persona_and_history_at_once(store) -> None:
    """The first reply of a session must not wait for the whole persona to be read (10 s for the 1.5B)."""
    llm = Reading()
    companion = await onboarded(store, llm)
    await collect(companion, "I found the divorce papers")
    assert companion._reading is not None
    await companion._reading
    llm.read.clear()
    sent: list[str] = []

    async def send(frame: str | bytes) -> None:
        sent.append(str(frame))

    session = Session(companion, send)
    await session.receive(json.dumps({"type": "hello"}))
    assert companion._reading is not None
    await companion._reading
    assert llm.read[-1][0].role == "system"
    assert [m.content for m in llm.read[-1][-2:]] == ["I found the divorce papers", "Amy sounds like a good friend."]
    fresh = Companion(store._db.user("nobody"), Reading())  # first boot
    fresh.warm_up()
    assert fresh._reading is None
