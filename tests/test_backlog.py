"""The shared backlog of background memory work: a few users' work at a time, in order, one entry per user."""

from __future__ import annotations

import asyncio

import pytest

from os1.memory import Database
from os1.memory import backlog as backlog_module
from os1.memory.api import Memory, Workers
from os1.memory.backlog import Backlog


async def test_work_runs_a_few_at_a_time_in_the_order_asked() -> None:
    backlog = Backlog(slots=2)
    started: list[str] = []
    release = {name: asyncio.Event() for name in "abcd"}

    def starter(name: str):
        async def work() -> None:
            started.append(name)
            await release[name].wait()
        return lambda: asyncio.get_running_loop().create_task(work())

    for name in "abcd":
        backlog.add(name, starter(name))
    backlog.add("c", starter("c"))  # already waiting: keeps its place, not a second entry
    await asyncio.sleep(0)
    assert started == ["a", "b"] and backlog.waiting() == 2
    release["b"].set()
    await asyncio.sleep(0.01)
    assert started == ["a", "b", "c"]
    assert backlog.discard("d") and not backlog.discard("d")
    for event in release.values():
        event.set()
    await asyncio.sleep(0.01)
    assert started == ["a", "b", "c"] and backlog.waiting() == 0


def test_a_backlog_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        Backlog(slots=0)


async def test_many_users_share_two_workers_and_each_flush_finishes_its_own(db: Database) -> None:
    workers = Workers()
    running: list[int] = []
    most = 0

    async def extractor(turn):  # the model's extraction: counts the users working at once
        nonlocal most
        running.append(turn.id)
        most = max(most, len(running))
        await asyncio.sleep(0.005)
        running.remove(turn.id)
        return []

    memories = [Memory(db.user(f"user{i}"), extractor=extractor, workers=workers) for i in range(12)]
    try:
        for i, memory in enumerate(memories):
            memory.remember(f"I planted {i} tulips in the garden today.", speaker=f"User{i}")
        assert workers.backlog.waiting() == 10  # two started, ten wait as entries, not tasks
        last = memories[-1]
        await last.flush()  # jumps the queue: its own work is done on return
        assert not last.tables.pending_turns(10)
        for memory in memories:
            await memory.flush()
        assert most in (2, 3)  # two slots, and the flush that started its own work at once
        assert workers.backlog.waiting() == 0
        for memory in memories:
            assert set(memory.tables.pending_turns(10)) == set()
            assert memory._worker is None  # finished work holds nothing
    finally:
        for memory in memories:
            memory.close()
        workers.close()


async def test_a_closed_memory_leaves_the_queue(db: Database) -> None:
    workers = Workers()
    workers.backlog.slots = 1
    first, second = (Memory(db.user(name), workers=workers) for name in ("ada", "bob"))
    first.remember("One.", speaker="Ada")
    second.remember("Two.", speaker="Bob")
    assert workers.backlog.waiting() == 1
    second.close()
    assert workers.backlog.waiting() == 0
    await first.flush()
    first.close()
    workers.close()


def test_background_work_yields_to_replies(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 0.0}
    pauses: list[float] = []

    class Clock:  # the backlog's view of time: work takes 20 ms, pauses are recorded
        monotonic = staticmethod(lambda: clock["now"])
        sleep = staticmethod(pauses.append)

    monkeypatch.setattr(backlog_module, "time", Clock)
    backlog = Backlog(share=0.25)

    def work(text: str) -> str:
        clock["now"] += 0.02
        return text.upper()

    assert backlog.paced(work, "alone") == "ALONE" and pauses == []  # no reply in progress: no pause
    backlog.replying = 1  # a reply is being made somewhere: the work takes a quarter of the time
    assert backlog.paced(work, "beside") == "BESIDE"
    assert pauses == [pytest.approx(0.06)]
    with pytest.raises(ValueError, match="share"):
        Backlog(share=0)


async def test_a_reply_counts_while_it_is_made(db: Database) -> None:
    workers = Workers()
    memory = Memory(db.user("ada"), workers=workers)
    async with memory.replying():
        assert workers.backlog.replying == 1
    assert workers.backlog.replying == 0
    memory.close()
    workers.close()
