"""Timers and alarms (skills/when.py, skills/timers.py, Companion.rings): times in words, durable timers that
go off once on whatever surface is open, late ones after a restart, and the page's socket showing them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from os1.companion import Companion
from os1.config import Settings
from os1.errors import InputError
from os1.events import Notice
from os1.memory.store import Database
from os1.server.app import create_app
from os1.skills.executor import Executor, installed_router
from os1.skills.when import clock_time, duration, when

from .test_companion import collect, onboarded
from .test_server import onboard, until

NOW = datetime(2026, 12, 3, 15, 5, tzinfo=UTC)


@pytest.mark.parametrize(("said", "expected"), [
    ("ten minutes", NOW + timedelta(minutes=10)), ("an hour and a half", NOW + timedelta(minutes=90)),
    ("half an hour", NOW + timedelta(minutes=30)), ("in 2 hours", NOW + timedelta(hours=2)),
    ("90 seconds", NOW + timedelta(seconds=90)), ("twenty five minutes", NOW + timedelta(minutes=25)),
    ("7 pm", NOW.replace(hour=19, minute=0)), ("seven thirty am", NOW.replace(hour=7, minute=30) + timedelta(days=1)),
    ("7", NOW.replace(hour=19, minute=0)), ("noon", NOW.replace(hour=12, minute=0) + timedelta(days=1)),
    ("tomorrow at 8", NOW.replace(hour=8, minute=0) + timedelta(days=1)),
    ("half past seven", NOW.replace(hour=19, minute=30)),
    ("midnight", NOW.replace(hour=0, minute=0) + timedelta(days=1)),
])
def test_times_in_words(said: str, expected: datetime) -> None:
    assert when(said, NOW) == expected


@pytest.mark.parametrize(("said", "why"), [("minus five minutes", "already past"), ("in 300 years", "too far"),
                                           ("three hundred years", "too far"), ("banana", "couldn't tell")])
def test_impossible_times_are_refused_with_a_reason(said: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        when(said, NOW)
    assert duration("no time at all") is None and clock_time("25:00", NOW) is None


async def test_timers_and_alarms_through_the_companion(store, fake) -> None:
    companion = await onboarded(store, fake)
    companion.skills = Executor(installed_router())
    assert (await collect(companion, "set a timer for ten minutes"))[-1].text == "Timer set for 10 minutes."
    reply = (await collect(companion, "wake me up at 7:30 am"))[-1].text
    assert reply.startswith("Alarm set for 7:30 am")
    shown = (await collect(companion, "what alarms do i have?"))[-1].text
    assert "a timer for 10 minutes, 10 minutes left" in shown and "alarm at 7:30 am" in shown
    assert (await collect(companion, "cancel my alarm"))[-1].text.startswith("Cancelled an alarm at 7:30 am")
    assert (await collect(companion, "undo that"))[-1].text == "Okay, it's set again."
    assert len(store.timers()) == 2
    assert "already past" in (await collect(companion, "set a timer for minus five minutes"))[-1].text
    assert "30 days" in (await collect(companion, "set a timer for 300 years"))[-1].text
    assert len(store.timers()) == 2


async def test_a_timer_goes_off_once_however_many_listen_and_a_late_one_says_so(store, fake) -> None:
    companion = await onboarded(store, fake)
    companion.skills = Executor(installed_router())
    store.add_timer("alarm", datetime.now(UTC) - timedelta(hours=2), "", datetime.now(UTC) - timedelta(hours=3))
    first, second = companion.rings(), companion.rings()
    late = await asyncio.wait_for(anext(first), 5)
    assert isinstance(late, Notice) and "your alarm" in late.text and "I wasn't running then" in late.text
    await collect(companion, "set a timer for 1 second")
    ring = await asyncio.wait_for(anext(first), 5)
    assert ring.text == "Your timer for 1 second is done."
    with pytest.raises(StopAsyncIteration):  # the other heard nothing: both were rung, and none is pending
        await asyncio.wait_for(anext(second), 5)
    assert store.timers() == []
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(first), 5)


async def test_every_open_surface_hears_it_and_no_task_waits_without_timers(store, fake) -> None:
    companion = await onboarded(store, fake)
    companion.skills = Executor(installed_router())
    heard: list[tuple[str, str]] = []

    def surface(name: str) -> Any:
        async def deliver(notice: Notice) -> None:
            heard.append((name, notice.text))
        return deliver

    stops = [companion.listen(surface("page")), companion.listen(surface("terminal"))]
    assert companion._ringer is None  # nothing pending: nothing runs
    await collect(companion, "set a timer for 1 second")
    assert companion._ringer is not None
    await asyncio.wait_for(companion._ringer, 5)
    assert heard == [("page", "Your timer for 1 second is done."), ("terminal", "Your timer for 1 second is done.")]
    for stop in stops:
        stop()


def skilled_opener(llm: Any) -> Any:
    """Opens the user's companion around `llm` with OS1's skills (for `create_app(opener=…)`)."""
    @contextmanager
    def opener(settings: Settings, user: str) -> Iterator[Companion]:
        db = Database(settings.db_path)
        try:
            yield Companion(db.user(user), llm, skills=Executor(installed_router()))
        finally:
            db.close()

    return opener


def test_a_timer_survives_a_restart_and_rings_on_the_page(settings: Settings, fake) -> None:
    opener = skilled_opener(fake)
    with TestClient(create_app(settings, opener=opener), base_url="http://127.0.0.1") as c, \
            c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        ws.send_json({"type": "say", "text": "set a timer for 2 seconds"})
        assert until(ws, "reply_done")[-1]["text"] == "Timer set for 2 seconds."
    db = Database(settings.db_path)  # the server is gone: the timer is still there
    assert len(db.user("local").timers()) == 1
    db.close()
    with TestClient(create_app(settings, opener=opener), base_url="http://127.0.0.1") as c, \
            c.websocket_connect("ws://127.0.0.1/ws") as ws:
        ws.send_json({"v": 1, "type": "hello"})
        assert until(ws, "notice")[-1]["text"].startswith("Your timer for 2 seconds is done.")


def test_a_timer_is_said_aloud_while_the_voice_listens(settings: Settings, fake) -> None:
    from os1.speech.testing import FakeTTS

    from .test_server_voice import Heard, fakes, start_voice
    from .test_server_voice import until as until_heard

    tts = FakeTTS()

    opener = skilled_opener(fake)
    with TestClient(create_app(settings, opener=opener, speech=fakes(tts)), base_url="http://127.0.0.1") as c, \
            c.websocket_connect("ws://127.0.0.1/ws") as ws:
        onboard(ws)
        start_voice(ws)
        ws.send_json({"type": "say", "text": "set a timer for 1 second"})
        heard = Heard()
        until_heard(ws, "reply_done", heard)
        spoken_before, audio_before = list(tts.spoken), len(heard.audio)
        notice = until_heard(ws, "notice", heard)
        assert notice["text"].startswith("Your timer for 1 second is done.")
        until_heard(ws, "voice_state", heard, lambda e: e["state"] == "speaking")
        assert any(line.startswith("Your timer") for line in tts.spoken[len(spoken_before):])
        assert len(heard.audio) > audio_before  # the page got the words to play
        ws.send_json({"type": "audio_end"})
