"""Python's runtime while a server holds thousands of sessions: the garbage collector, and how soon a thread
gets Python's lock back.

Every open session keeps some 150 objects alive (its ASGI coroutines, socket, companion, memory…): 8,316
sessions are 1.3 million. A collection walks every object of the generations it collects and stops every
session while it does: with Python's thresholds a full one, about a second here, came every minute or so, and
with higher thresholds alone the older generations, which fill with the sessions' objects, still took 0.4–0.5 s
each. So while serving: higher thresholds (young objects mostly die on their own before a collection promotes
them), and once a minute what is alive is frozen (`gc.freeze`): moved out of the collector's way, so each
collection walks only what was made since. Frozen objects that later become garbage in a cycle (a closed
session's) wait for the full collection that runs once an hour (about a second with 8,316 sessions open).

The event loop gives up Python's lock at each database statement (and each row fetched) and takes it back
after; with the search and embedding threads busy it could wait up to the switch interval (5 ms by default)
each time, dozens of times a turn. A shorter interval hands the lock back sooner: 0.1 ms (with 0.5 ms, 8,316
sessions at a turn a minute each left the loop late by over 50 ms 281 times in 300 s and p99 at 0.4–1.6 s;
with 0.1 ms, 24 times and 225 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import AsyncIterator

THRESHOLDS = (50_000, 20, 10)
"""The collector's thresholds while serving (Python's are 700, 10, 10)."""
FREEZE_EVERY_S = 60.0
FULL_EVERY_S = 3600.0
SWITCH_INTERVAL_S = 0.0001


@contextlib.asynccontextmanager
async def serving_runtime(every: float = FREEZE_EVERY_S, full_every: float = FULL_EVERY_S) -> AsyncIterator[None]:
    """`THRESHOLDS`, a freeze every `every` seconds and a full collection every `full_every`, and the shorter
    switch interval, while the context lasts; then everything is unfrozen and the settings are the process's
    again."""
    before = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(*THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    task = asyncio.create_task(_freeze_what_lasts(every, full_every))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.unfreeze()
        gc.set_threshold(*before[0])
        sys.setswitchinterval(before[1])


async def _freeze_what_lasts(every: float, full_every: float) -> None:
    last_full = time.monotonic()
    while True:
        await asyncio.sleep(every)
        last_full = freeze_step(last_full, full_every, time.monotonic())


def freeze_step(last_full: float, full_every: float, now: float) -> float:
    """One minute's step: a full collection of everything, frozen or not, if `full_every` seconds have passed
    since `last_full`; then freeze what is alive. Returns when the last full collection ran."""
    if now - last_full >= full_every:
        gc.unfreeze()
        gc.collect()
        last_full = now
    gc.freeze()
    return last_full
