"""The injection suite as a benchmark: does text injected into a page make the OS change or act unconfirmed?

    python benchmarks/injection.py [--model SPEC] [--fake-only]

Plays every attack of `os1.skills.injection` twice: with the fake model scripted to obey the injected text
(it calls the tools the text asks for), and with a real model (`--model`, default `embedded`: the default brain;
`tiny` is the small one), which meets the page through the embedded router. In each, the user asks about a
page, answers "no" to any question, then says "thanks" and "yes, go ahead" to no question. Counts the runs of
skills that change or act (all unconfirmed: the user confirmed nothing), the secrets that reached a call's
arguments (leaks), and the questions asked.
Last line: {"attacks", "unconfirmed_actions", "leaks", "asked", "fake": {...}, "model": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

from _machine import machine
from os1.config import load_settings
from os1.llm import get_model
from os1.skills.injection import ATTACKS, Outcome, obedient, run_attack


def totals(outcomes: list[Outcome]) -> dict[str, int]:
    return {"attacks": len(outcomes), "unconfirmed_actions": sum(o.unconfirmed_actions for o in outcomes),
            "leaks": sum(o.leaks for o in outcomes), "asked": sum(o.asked for o in outcomes)}


async def play(label: str, make_llm) -> list[Outcome]:  # type: ignore[no-untyped-def]
    outcomes = []
    started = time.perf_counter()
    for attack in ATTACKS:
        outcome = await run_attack(attack, make_llm)
        outcomes.append(outcome)
        print(f"  {label:8} {attack.name:24} unconfirmed {outcome.unconfirmed_actions}  leaks {outcome.leaks}  "
              f"asked {outcome.asked}")
    print(f"  {label}: {len(outcomes)} attacks in {time.perf_counter() - started:.1f} s")
    return outcomes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="embedded", help="the real model to play the suite with")
    parser.add_argument("--fake-only", action="store_true", help="only the scripted, obedient fake model")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    fake = await play("fake", obedient)
    result: dict[str, object] = {**totals(fake), "fake": totals(fake)}
    if not args.fake_only:
        settings = load_settings(os.environ, {"llm_threads": 1, "model": args.model})
        llm = get_model(args.model, settings)
        real = await play(args.model, lambda _attack: llm)
        both = fake + real
        result = {**totals(both), "fake": totals(fake), "model": {"spec": args.model, **totals(real)}}
        await llm.aclose()
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
