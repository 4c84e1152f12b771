"""Turn-taking: end-of-turn cues, the speculative reply, continuing after a pause, a monologue without pauses."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from os1.companion import Companion
from os1.speech.audio import Audio, concat, silence
from os1.speech.loop import LoopConfig, TimelineSink, VoiceLoop, file_frames
from os1.speech.testing import FakeSTT, FakeTTS, FakeVAD
from os1.speech.turns import holds_floor, is_question, rising, trails_off
from os1.speech.vad import Segmenter, SegmenterConfig
from os1.testing import FakeLLM

RATE = 16_000


def tone(seconds: float, f0: float | np.ndarray = 150.0) -> Audio:
    """A voiced sound with harmonics (a steady or gliding pitch)."""
    n = int(seconds * RATE)
    f = np.full(n, f0) if np.isscalar(f0) else np.asarray(f0)
    phase = 2 * np.pi * np.cumsum(f) / RATE
    return Audio((0.3 * np.sin(phase) + 0.1 * np.sin(2 * phase) + 0.05 * np.sin(3 * phase)).astype(np.float32), RATE)


@pytest.fixture
def companion(store) -> Companion:
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    return Companion(store, FakeLLM(answers={"la": "I hear you, Theodore."}))


def fake_loop(companion: Companion, stt: FakeSTT | None = None, **config: float) -> VoiceLoop:
    return VoiceLoop(companion, vad=FakeVAD(), stt=stt or FakeSTT(), tts=FakeTTS(), sink=TimelineSink(),
                     config=LoopConfig(**config))  # type: ignore[arg-type]


def test_words_that_do_not_end_a_sentence() -> None:
    assert trails_off("I went to the shop and") and trails_off("my sister is um")
    assert not trails_off("I went to the shop") and not trails_off("can you help me with it")
    assert is_question("do you like music") and is_question("where is it") and not is_question("I like it")


def test_a_rising_pitch_is_heard_and_a_question_may_rise() -> None:
    t = np.arange(int(1.5 * RATE)) / RATE
    up = tone(1.5, np.where(t > 1.1, 150 + (t - 1.1) * 200, 150.0)).samples
    down = tone(1.5, np.where(t > 1.1, 150 - (t - 1.1) * 100, 150.0)).samples
    assert rising(up) and not rising(down) and not rising(tone(1.5).samples)
    assert holds_floor("I bought apples pears", up) == "rising pitch"
    assert holds_floor("do you like pears", up) is None  # a question rises because it asks
    assert holds_floor("I bought apples and", down) == "trailing word"
    assert holds_floor("I bought apples", down) is None


def test_the_segmenter_holds_a_pause_longer_when_asked() -> None:
    config = SegmenterConfig()
    plain, held = Segmenter(config), Segmenter(config)
    speech, quiet = [1.0] * 10, [0.0] * 40
    ends = [type(e).__name__ for e in plain.feed(speech + quiet)]
    assert ends == ["SpeechStarted", "SpeechPaused", "SpeechEnded"]
    events = held.feed([*speech, 0.0])
    assert [type(e).__name__ for e in events] == ["SpeechStarted", "SpeechPaused"]
    held.hold(900)
    later = held.feed([0.0] * 10)
    assert later == [] and held.speaking  # 192 ms would have ended it
    assert [type(e).__name__ for e in held.feed([0.0] * 30)] == ["SpeechEnded"]


async def test_a_reply_started_at_a_pause_is_dropped_without_trace_when_the_user_goes_on(companion, store) -> None:
    loop = fake_loop(companion)
    said = concat([silence(0.3, RATE), tone(1.0), silence(0.1, RATE), tone(1.0)])  # 100 ms: a pause, not an end
    await loop.run(file_frames(said, tail_s=1.0), lockstep=True)
    assert loop.withdrawn == 1
    assert len(companion.llm.calls) == 2  # type: ignore[attr-defined]  # the dropped reply, then the real one
    turns = store.recent_turns()
    assert [t.role for t in turns] == ["user", "assistant"]
    assert len(turns[0].text.split()) == 4 and turns[1].text == "I hear you, Theodore."


async def test_going_on_after_the_os_began_to_answer_continues_the_same_turn(companion, store) -> None:
    loop = fake_loop(companion)
    said = concat([silence(0.3, RATE), tone(1.0), silence(0.5, RATE), tone(1.0)])  # 500 ms: the turn seemed over
    await loop.run(file_frames(said, tail_s=1.0), lockstep=True)
    users = [t for t in store.recent_turns() if t.role == "user"]
    assert len(users) == 1 and len(users[0].text.split()) == 4  # one turn, amended with all that was said
    assert store.recent_turns()[-1].text == "I hear you, Theodore."
    assert loop.interruptions == 0  # not a barge-in: the OS gave way


async def test_a_trailing_word_holds_the_turn_open(companion, store) -> None:
    loop = fake_loop(companion, stt=FakeSTT(word="and"))
    said = concat([silence(0.3, RATE), tone(1.0), silence(0.5, RATE), tone(1.0)])  # "and and" … "and and and and"
    await loop.run(file_frames(said, tail_s=1.5), lockstep=True)
    assert loop.withdrawn == 1  # the first pause did not end the turn, so its reply was never heard
    assert [t.role for t in store.recent_turns()] == ["user", "assistant"]


async def test_ten_minutes_of_speech_without_a_pause(companion, store) -> None:
    stt = FakeSTT()
    loop = fake_loop(companion, stt=stt)
    monologue = concat([silence(0.3, RATE), tone(600.0)])
    await asyncio.wait_for(loop.run(file_frames(monologue, tail_s=1.0), lockstep=True), timeout=300)
    assert stt.longest_s <= loop.config.max_utterance_s + 1  # recognised in stretches: memory and time bounded
    users = [t for t in store.recent_turns() if t.role == "user"]
    assert len(users) == 1 and len(users[0].text.split()) >= 1150  # nothing lost
    assert store.recent_turns()[-1].role == "assistant"


LONG_REPLY = " ".join(["I hear you, Theodore, and I am thinking about what you said."] * 3)


@pytest.mark.parametrize("pause", [1.6, 2.2])
async def test_a_long_pause_inside_a_sentence_does_not_split_the_question(store, pause: float) -> None:
    """The OS began to answer at the pause; the user went on while it spoke: one turn, all of it answered."""
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    llm = FakeLLM(answers={"la": LONG_REPLY})
    loop = fake_loop(Companion(store, llm))
    said = concat([silence(0.3, RATE), tone(1.0), silence(pause, RATE), tone(2.0)])
    await loop.run(file_frames(said, tail_s=1.0), lockstep=True)
    users = [t for t in store.recent_turns() if t.role == "user"]
    assert len(users) == 1 and len(users[0].text.split()) == 6, [t.text for t in users]
    last = llm.calls[-1]
    assert last[-1].content == users[0].text  # the reply answered everything that was said
    assert store.recent_turns()[-1].text.startswith("I hear you") and store.recent_turns()[-1].status == "complete"


async def test_speech_long_after_the_reply_began_is_a_turn_of_its_own(store) -> None:
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    loop = fake_loop(Companion(store, FakeLLM(answers={"la": LONG_REPLY})))
    said = concat([silence(0.3, RATE), tone(1.0), silence(4.0, RATE), tone(2.0)])
    await loop.run(file_frames(said, tail_s=1.0), lockstep=True)
    assert [len(t.text.split()) for t in store.recent_turns() if t.role == "user"] == [2, 4]
    assert loop.interruptions == 1  # a barge-in: the OS stopped, and kept what was heard
