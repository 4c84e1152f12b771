"""The two-lane inbox (`os1.inbox`): data in order behind its bound, system items first, nothing dropped."""

from __future__ import annotations

import asyncio

import pytest

from os1.inbox import Inbox


async def test_system_items_overtake_waiting_data_and_data_keeps_its_order() -> None:
    inbox: Inbox[str] = Inbox(3)
    for item in ("audio 1", "audio 2", "audio 3"):
        await inbox.put(item)
    inbox.put_system("stop")
    inbox.put_system("say: timer done")
    assert [await inbox.get() for _ in range(5)] == ["stop", "say: timer done", "audio 1", "audio 2", "audio 3"]
    assert inbox.empty()


async def test_a_full_inbox_makes_the_writer_wait_not_drop() -> None:
    inbox: Inbox[int] = Inbox(2)
    await inbox.put(1)
    await inbox.put(2)
    with pytest.raises(asyncio.QueueFull):
        inbox.put_nowait(3)
    writer = asyncio.create_task(inbox.put(3))
    await asyncio.sleep(0.01)
    assert not writer.done() and len(inbox) == 2
    inbox.put_system(0)  # never refused, even now
    assert await inbox.get() == 0 and not writer.done()
    assert await inbox.get() == 1
    await asyncio.wait_for(writer, 1)
    assert [await inbox.get(), await inbox.get()] == [2, 3]


async def test_a_reader_waits_for_the_next_item() -> None:
    inbox: Inbox[str] = Inbox(1)
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0.01)
    assert not reader.done()
    inbox.put_system("close")
    assert await asyncio.wait_for(reader, 1) == "close"
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()
    with pytest.raises(ValueError):
        Inbox(0)
