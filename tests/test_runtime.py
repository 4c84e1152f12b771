"""Python's runtime while serving: old objects frozen out of the collector's way, cycles among them still
reclaimed by the hourly full collection, and every setting the process's again afterwards."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from os1.server import runtime


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()


def test_what_lives_is_frozen_and_a_cycle_among_it_waits_for_the_full_collection() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(b)
    assert runtime.freeze_step(last_full=0.0, full_every=3600, now=60.0) == 0.0  # a minute on: freeze only
    assert gc.get_freeze_count() > 0
    del a, b  # garbage now, but frozen: ordinary collections leave it
    gc.collect()
    assert alive() is not None
    assert runtime.freeze_step(last_full=0.0, full_every=3600, now=3599.0) == 0.0
    assert alive() is not None
    assert runtime.freeze_step(last_full=0.0, full_every=3600, now=3600.0) == 3600.0  # the hour: all of it
    assert alive() is None
    assert gc.get_freeze_count() > 0  # and what lives is frozen again


async def test_serving_sets_the_runtime_and_restores_it() -> None:
    before = gc.get_threshold(), sys.getswitchinterval()
    async with runtime.serving_runtime(every=3600):
        assert gc.get_threshold() == runtime.THRESHOLDS
        assert sys.getswitchinterval() == pytest.approx(runtime.SWITCH_INTERVAL_S)
        gc.freeze()
    assert (gc.get_threshold(), sys.getswitchinterval()) == before and gc.get_freeze_count() == 0
