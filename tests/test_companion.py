"""The companion with a scripted model: first boot, durable turns, streaming, interruption, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta

import pytest

from os1.companion import SPOKEN_WORDS, Companion, enough_for_speech
from os1.errors import InputError
from os1.events import ContextShown, ErrorEvent, Notice, Prompt, Renamed, ReplyDelta, ReplyDone, TurnStored
from os1.llm.base import LLM, Message
from os1.memory.api import Memory
from os1.memory.store import now
from os1.testing import FakeLLM

ONBOARDING = ["Theodore", "social", "we talk on Sundays", "female"]


async def collect(companion: Companion, text: str) -> list:
    return [event async for event in companion.say(text)]


async def onboarded(store, llm: LLM) -> Companion:
    companion = Companion(store, llm)
    companion.start_session()
    for answer in ONBOARDING:
        await collect(companion, answer)
    return companion


async def test_first_boot_asks_then_names_itself_and_greets(store, fake) -> None:
    companion = Companion(store, fake)
    opening = companion.opening()
    assert all(isinstance(e, Prompt) for e in opening)
    assert "Welcome to OS1" in opening[0].text and "call you" in opening[-1].text
    events = []
    for answer in ONBOARDING:
        events += await collect(companion, answer)
    renamed = [e for e in events if isinstance(e, Renamed)]
    assert len(renamed) == 1 and companion.name == renamed[0].name
    done = [e for e in events if isinstance(e, ReplyDone)]
    assert "Theodore" in done[0].text and companion.name in done[0].text
    assert store.get("user.voice") == "female"
    assert fake.calls == []  # first boot needs no model
    assert store.recent_turns()[-1].text == done[0].text


async def test_a_bad_answer_is_asked_again(store, fake) -> None:
    companion = Companion(store, fake)
    await collect(companion, "Theodore")
    events = await collect(companion, "   ")
    assert isinstance(events[0], Prompt) and "didn't catch" in events[0].text
    assert companion.onboarding().next_question().key == "user.social"  # type: ignore[union-attr]


async def test_second_start_says_welcome_back(store, fake) -> None:
    await onboarded(store, fake)
    again = Companion(store, fake)
    (line,) = again.opening()
    assert isinstance(line, ReplyDelta) and line.text == "Welcome back, Theodore."
    (later,) = again.opening(at=now() + timedelta(days=3))
    assert later.text == "Welcome back, Theodore. It's been 3 days."  # type: ignore[union-attr]


class Inspecting(FakeLLM):
    """Checks, from inside the model call, that the user's turn is already stored."""

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store
        self.seen: list[str] = []

    async def stream(self, messages: Sequence[Message], **kw: object) -> AsyncGenerator[str, None]:
        self.seen = [t.text for t in self.store.recent_turns()]
        async for delta in super().stream(messages):
            yield delta


async def test_the_user_turn_is_durable_before_the_reply_starts(store) -> None:
    llm = Inspecting(store)
    companion = await onboarded(store, llm)
    events = await collect(companion, "I found the divorce papers")
    assert "I found the divorce papers" in llm.seen
    assert isinstance(events[0], TurnStored)
    reply = "".join(e.text for e in events if isinstance(e, ReplyDelta))
    done = events[-1]
    assert isinstance(done, ReplyDone) and done.status == "complete" and done.text == reply
    assert store.recent_turns()[-1].text == reply


async def test_context_carries_persona_user_history_and_recalled_memories(store, fake) -> None:
    async def recall(query: str) -> list[str]:
        return ["Amy is Theodore's old friend"]

    companion = await onboarded(store, fake)
    companion.recall = recall
    await collect(companion, "first message")
    await collect(companion, "second message")
    messages = fake.calls[-1]
    assert companion.name in messages[0].content and "Theodore" in messages[0].content
    assert any(m.content == "first message" for m in messages)
    assert "Amy is Theodore's old friend" in messages[-2].content
    assert messages[-1] == Message("user", "second message")


async def test_cancelling_mid_reply_stores_the_partial_reply_as_interrupted(store) -> None:
    slow = FakeLLM(["one two three four five six seven eight nine ten"], delay=0.05)
    companion = await onboarded(store, slow)

    async def talk() -> None:
        async for _ in companion.say("tell me a story"):
            pass

    task = asyncio.ensure_future(talk())
    await asyncio.sleep(0.18)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = store.recent_turns()[-1]
    assert last.role == "assistant" and last.status == "interrupted"
    assert last.text.startswith("one two") and "ten" not in last.text
    assert slow.cancelled == 1


async def test_closing_the_stream_early_also_interrupts(store) -> None:
    companion = await onboarded(store, FakeLLM(["a b c d e f"], delay=0.01))
    stream = companion.say("hi")
    async for event in stream:
        if isinstance(event, ReplyDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert store.recent_turns()[-1].status == "interrupted"


async def test_a_failing_model_gives_one_error_and_keeps_the_user_turn(store) -> None:
    companion = await onboarded(store, FakeLLM(fail="unavailable"))
    before = store.count_turns()
    events = await collect(companion, "are you there?")
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and errors[0].code == "model.unavailable"
    assert store.count_turns() == before + 1
    assert store.recent_turns()[-1].text == "are you there?"


class _Burst(LLM):
    """Sends its words at once (as a remote model's buffered chunks come), then maybe fails."""

    name = "burst"
    context_tokens = 2048

    def __init__(self, fail_after: bool = False) -> None:
        self.fail_after = fail_after

    async def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
                     temperature: float = 0.7) -> AsyncGenerator[str, None]:
        for word in ["One", " two", " three."]:
            yield word
        if self.fail_after:
            from os1.errors import ModelUnavailable
            raise ModelUnavailable("gone mid-reply")


async def test_a_burst_of_pieces_is_one_delta_and_an_error_after_them_keeps_them(store) -> None:
    companion = await onboarded(store, _Burst())
    deltas = [e.text for e in await collect(companion, "count for me") if isinstance(e, ReplyDelta)]
    assert deltas == ["One two three."]
    companion.llm = _Burst(fail_after=True)
    events = await collect(companion, "and again")
    assert [e.text for e in events if isinstance(e, ReplyDelta)] == ["One two three."]
    assert [e.code for e in events if isinstance(e, ErrorEvent)] == ["model.unavailable"]
    last = store.recent_turns(1)[0]
    assert (last.text, last.status) == ("One two three.", "failed")


async def test_a_huge_paste_is_trimmed_for_the_model_but_stored_whole(store, fake) -> None:
    companion = await onboarded(store, fake)
    paste = "lorem ipsum " * 8_334
    events = await collect(companion, paste)
    assert any(isinstance(e, Notice) and "long" in e.text for e in events)
    assert len(fake.calls[-1][-1].content) < len(paste.strip())
    assert store.recent_turns()[-2].text == paste.strip()


async def test_empty_input_is_an_input_error_and_stores_nothing(store, fake) -> None:
    companion = await onboarded(store, fake)
    before = store.count_turns()
    with pytest.raises(InputError):
        await collect(companion, " \n\t ")
    assert store.count_turns() == before


async def test_control_characters_and_lone_surrogates_are_stored_safely(store, fake) -> None:
    companion = await onboarded(store, fake)
    await collect(companion, "bad \x00 bytes \udcff here")
    assert store.recent_turns()[-2].text == "bad  bytes ? here"


async def test_the_user_can_rename_the_os_and_undo_it(store, fake) -> None:
    from os1.skills.executor import Executor, installed_router

    companion = await onboarded(store, fake)
    first = companion.name
    companion.skills = Executor(installed_router())
    events = await collect(companion, "I'll call you Juniper.")
    assert any(isinstance(e, Renamed) and e.name == "Juniper" for e in events)
    assert companion.name == "Juniper" and fake.calls == []
    assert "Juniper" in companion.rename("Juniper")
    await collect(companion, "Can I call you later?")  # not a name: the model answers
    assert companion.name == "Juniper" and len(fake.calls) == 1
    events = await collect(companion, "undo that")
    assert companion.name == first and any(isinstance(e, Renamed) and e.name == first for e in events)


async def test_show_context_gives_exactly_what_the_model_read(store, fake) -> None:
    companion = await onboarded(store, fake)
    events = [e async for e in companion.say("How was your day?", show_context=True)]
    shown = [e for e in events if isinstance(e, ContextShown)]
    assert len(shown) == 1
    assert list(shown[0].messages) == list(fake.calls[-1])
    assert shown[0].messages[0].role == "system" and shown[0].messages[-1].content == "How was your day?"
    assert events.index(shown[0]) < next(i for i, e in enumerate(events) if isinstance(e, ReplyDelta))
    plain = [e async for e in companion.say("And tomorrow?")]
    assert not any(isinstance(e, ContextShown) for e in plain)


LONG_STORY = " ".join(f"This is sentence number {i} of a story that goes on and on." for i in range(1, 16))


async def test_a_spoken_reply_ends_at_a_sentence_once_it_is_long_enough(store) -> None:
    fake = FakeLLM([LONG_STORY], delay=0.005)
    companion = await onboarded(store, fake)
    events = [e async for e in companion.say("Tell me a story", spoken=True)]
    done = next(e for e in events if isinstance(e, ReplyDone))
    words = done.text.split()
    assert done.status == "complete" and done.text.endswith(".")
    assert SPOKEN_WORDS <= len(words) < SPOKEN_WORDS + 15, len(words)
    assert fake.cancelled == 1  # the model was stopped, not left to run to its cap
    assert store.recent_turns(1)[0].text == done.text


async def test_a_typed_reply_is_not_cut_at_a_sentence(store) -> None:
    fake = FakeLLM([LONG_STORY])
    companion = await onboarded(store, fake)
    done = next(e for e in [e async for e in companion.say("Tell me a story")] if isinstance(e, ReplyDone))
    assert done.text == LONG_STORY


def test_enough_for_speech_needs_both_length_and_a_sentence_end() -> None:
    assert not enough_for_speech("Short. And sweet.")
    long = " ".join(["word"] * SPOKEN_WORDS)
    assert not enough_for_speech(long)
    assert enough_for_speech(long + ".") and enough_for_speech(long + '!"') and enough_for_speech(long + "? ")
    assert not enough_for_speech(long + " e.g.")


async def test_preview_context_is_what_the_model_would_read_and_stores_nothing(store, fake) -> None:
    companion = await onboarded(store, fake)
    [e async for e in companion.say("My sister Ana lives in Porto.")]
    before = len(store.recent_turns(100))
    preview = await companion.preview_context("Where does Ana live?")
    assert len(store.recent_turns(100)) == before and len(fake.calls) == 1
    events = [e async for e in companion.say("Where does Ana live?", show_context=True)]
    shown = next(e for e in events if isinstance(e, ContextShown))
    def without_clock(messages) -> list[tuple[str, str]]:  # the note's first line is the time, to the minute
        return [(m.role, m.content.split("\n", 1)[-1] if m is messages[-2] else m.content) for m in messages]

    assert without_clock(preview) == without_clock(shown.messages)
    assert any("Ana lives in Porto" in m.content for m in preview)


@pytest.mark.parametrize("with_memory", [False, True])
async def test_what_the_user_said_and_the_finished_reply_are_synced_to_disk(store, db, with_memory: bool) -> None:
    """Durable means synced (`synchronous = FULL` at the commit); the reply's empty placeholder needs no sync of
    its own, since the finished reply's commit syncs the log with it."""
    companion = await onboarded(store, FakeLLM(replies=["Papers can carry a lot of weight."]))
    if with_memory:
        companion.memory = Memory(store)
    commits: list[tuple[str, str]] = []
    """(the sync mode at the commit, the turns it wrote)"""
    mode, written, in_transaction = "FULL", [], False

    def trace(sql: str) -> None:
        nonlocal mode, written, in_transaction
        if sql.startswith("PRAGMA synchronous"):
            mode = sql.split("=")[1].strip()
        elif sql.startswith("BEGIN"):
            written, in_transaction = [], True
        elif sql == "COMMIT":
            commits.append((mode, " ".join(written)))
            in_transaction = False
        elif sql.startswith(("INSERT INTO turns", "UPDATE turns SET text")):
            written.append(sql)
            if not in_transaction:  # a statement on its own commits on its own
                commits.append((mode, sql))

    db._conn.set_trace_callback(trace)
    try:
        events = await collect(companion, "I found the divorce papers")
    finally:
        db._conn.set_trace_callback(None)
    assert isinstance(events[-1], ReplyDone) and events[-1].status == "complete"
    synced = [what for how, what in commits if how == "FULL"]
    assert any("I found the divorce papers" in what for what in synced)
    assert any("Papers can carry a lot of weight." in what and "'complete'" in what for what in synced)
    assert any(how == "NORMAL" and "'streaming'" in what for how, what in commits)
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again


async def test_after_a_typed_reply_the_model_reads_the_finished_exchange(store) -> None:
    """The next reply then reads only its new line and memory note (a local model keeps what it has read)."""

    class Reading(FakeLLM):
        def __init__(self) -> None:
            super().__init__(["Divorce papers can be heavy."])
            self.read: list[list[Message]] = []

        async def prepare(self, messages: Sequence[Message]) -> None:
            self.read.append(list(messages))

    llm = Reading()
    companion = await onboarded(store, llm)
    llm.read.clear()
    await collect(companion, "I found the divorce papers")
    await asyncio.sleep(0)  # the reading is a task of its own: the reply is not kept waiting for it
    assert companion._reading is not None
    await companion._reading
    assert [m.content for m in llm.read[-1][-2:]] == ["I found the divorce papers", "Divorce papers can be heavy."]
    assert all(m.role != "user" or "…" not in m.content for m in llm.read[-1])  # not the placeholder line
    llm.read.clear()
    [_ async for _ in companion.say("Tell me more", spoken=True)]
    await asyncio.sleep(0)
    assert not llm.read  # a voice reads ahead itself
    remote = await onboarded(store, FakeLLM())  # a model with nothing to read ahead is not asked to
    [_ async for _ in remote.say("Hello")]
    assert remote._reading is None


async def test_reading_ahead_outlives_a_closed_store_quietly(settings) -> None:
    """A script (or a server) may close the database right after the last reply: the reading that follows a
    reply must not touch it then (it crashed as 'Task exception was never retrieved')."""
    from os1.memory import Database

    class Reading(FakeLLM):
        async def prepare(self, messages: Sequence[Message]) -> None:
            await asyncio.sleep(0.01)

    db = Database(settings.db_path)
    companion = await onboarded(db.user("ada"), Reading())
    await collect(companion, "I found the divorce papers")
    db.close()
    assert companion._reading is not None
    await asyncio.wait([companion._reading])
    assert companion._reading.exception() is None


async def test_turn_stored_says_what_was_stored(store, fake) -> None:
    companion = await onboarded(store, fake)
    stored = [e for e in await collect(companion, "  My day was long.  ") if isinstance(e, TurnStored)]
    assert stored == [TurnStored(store.recent_turns(2)[0].id, "My day was long.")]
