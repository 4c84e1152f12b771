"""The voice loop from WAV input to reply audio: turns, barge-in, backchannels, echo, latency marks."""

from __future__ import annotations

import numpy as np
import pytest

from os1.companion import Companion
from os1.events import ReplyDone, UserSpoke
from os1.speech.audio import Audio, concat, resample, rms_dbfs, silence
from os1.speech.loop import RATE, TimelineSink, VoiceLoop, file_frames, is_backchannel, spoken_text
from os1.speech.vad import SileroVAD
from os1.testing import FakeLLM
from tests.speech_helpers import spoken

pytest_plugins = ["tests.speech_fixtures"]
STORY = ("Once upon a time there was a lighthouse keeper who wrote letters to the sea every single night, "
         "and the sea never answered, until one winter morning a bottle came back with a reply inside it.")


@pytest.fixture
def companion(store) -> Companion:
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    # answers by what was said: the loop may start a reply at a pause and drop it when the user goes on
    return Companion(store, FakeLLM(answers={"are you": "I'm doing well, thank you.", "story": STORY,
                                             "hi there": "Hello you.", "question": "Of course."}))


def loop_for(companion: Companion, piper, sphinx) -> tuple[VoiceLoop, TimelineSink]:
    sink = TimelineSink()
    return VoiceLoop(companion, vad=SileroVAD(), stt=sphinx, tts=piper, sink=sink), sink


def test_pure_helpers() -> None:
    chunks = [("Once upon", 1.0), ("a time there was", 2.0)]
    assert spoken_text(chunks, 0.5) == "Once"
    assert spoken_text(chunks, 2.0) == "Once upon a time"
    assert spoken_text(chunks, 9.0) == "Once upon a time there was"
    assert is_backchannel("Mm-hm.") and is_backchannel("yeah") and not is_backchannel("wait a second")


async def test_a_two_turn_spoken_conversation(companion, store, steady_piper, sphinx) -> None:
    loop, sink = loop_for(companion, steady_piper, sphinx)
    first = spoken(steady_piper, "Hello, how are you today?")
    second = spoken(steady_piper, "Tell me a story please.")
    for turn in (first, second):
        await loop.run(file_frames(turn), lockstep=True)
    users = [t.text for t in store.recent_turns() if t.role == "user"]
    assert len(users) == 2 and "are you today" in users[0] and "story" in users[1]
    replies = [t.text for t in store.recent_turns() if t.role == "assistant"]
    assert replies[0] == "I'm doing well, thank you."
    out = sink.render()
    assert out.duration > 5.0 and rms_dbfs(out) > -40  # speech, not silence
    assert len(loop.latencies) >= 2  # a pause that seemed to end a turn may have started a reply, then cut
    for mark in loop.latencies:  # the reply is written from the pause on, and heard once the turn has ended
        assert mark.stopped < mark.transcript <= mark.first_token <= mark.first_audio
        assert mark.stopped < mark.speech_end <= mark.first_audio


async def test_barge_in_stops_playback_and_keeps_only_the_heard_words(companion, store, steady_piper,
                                                                      sphinx) -> None:
    loop, sink = loop_for(companion, steady_piper, sphinx)
    await loop.run(file_frames(spoken(steady_piper, "Hi there."), tail_s=3.0), lockstep=True)  # reply heard out
    ask = spoken(steady_piper, "Tell me a story please.")
    cut_in = spoken(steady_piper, "Wait, stop, I have a question about that.")
    # the story starts as the question's silence ends; the user cuts in 2.5 s later
    stream = concat([ask, silence(0.7, ask.sample_rate), silence(2.5, ask.sample_rate), cut_in])
    published: list[object] = []
    loop.on_event = published.append
    await loop.run(file_frames(stream), lockstep=True)
    assert loop.interruptions == 1
    told = next(t for t in store.recent_turns() if t.text.startswith("Once"))
    assert told.status == "interrupted"
    assert 3 <= len(told.text.split()) < len(STORY.split()) // 2
    # the loop says itself what it kept, and what it answered (no one need read the database back)
    assert ReplyDone(told.text, told.id, "interrupted") in published
    assert any(isinstance(e, UserSpoke) and "story" in e.text for e in published)
    heard = sink.render()
    assert heard.duration < sum(d for _, d in loop._chunks) + 20  # playback stopped, not played out


async def test_a_backchannel_and_the_echo_do_not_interrupt(companion, store, steady_piper, sphinx) -> None:
    loop, sink = loop_for(companion, steady_piper, sphinx)
    await loop.run(file_frames(spoken(steady_piper, "Hi there."), tail_s=3.0), lockstep=True)  # reply heard out
    ask = spoken(steady_piper, "Tell me a story please.")
    await loop.run(file_frames(concat([ask, silence(0.7, ask.sample_rate)]), tail_s=0.0), lockstep=True)
    # what the microphone hears next: the OS's own voice leaking back at -20 dB, and a short "yeah"
    heard = resample(sink.render(), RATE).samples
    start = int(sink.clock * RATE) - 320  # the echo arrives 20 ms after the sound leaves the speaker
    leak = Audio(heard[start: start + 4 * RATE] * 0.1, RATE)
    yeah = resample(spoken(steady_piper, "yeah", pad=0.0), RATE)
    mic = concat([leak, Audio(np.zeros(RATE // 2, dtype=np.float32), RATE), yeah])
    await loop.run(file_frames(mic, tail_s=0.0))
    assert loop.interruptions == 0
    assert sink.playing()


async def test_a_slow_model_leaves_a_gap_after_the_first_phrase_and_it_is_measured(store, steady_piper,
                                                                                  sphinx) -> None:
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    slow = Companion(store, FakeLLM(answers={"story": STORY}, delay=0.25))  # four words a second
    loop, _ = loop_for(slow, steady_piper, sphinx)
    await loop.run(file_frames(spoken(steady_piper, "Tell me a story please.")), lockstep=True)
    mark = loop.latencies[-1]
    assert mark.first_audio > 0 and mark.gap > 0.1  # "Once upon" plays out before the next words are written
