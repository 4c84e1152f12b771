"""Does the companion use what it knows? A scripted life lived through the API `os1 chat` uses, then probes.

    .venv/bin/python benchmarks/companion.py [--model SPEC] [--life LIFE.json] [--threads 1] [--show]
    .venv/bin/python benchmarks/companion.py --spoken   # the probes answered as the voice answers them

The life (default: benchmarks/data/life.json) is first boot's answers, then dated sessions of the user's lines,
each said through `Companion.say` at its session's time, memory's background work finished between sessions
(as a pause between conversations would). Then each probe is asked, the day after; its reply scores a hit when
every `expect` group has one of its words in the reply and no `stale` word is there; its context scores a hit
when the messages the model read (`ContextShown`, without the question itself) hold every group. `invented`
counts replies naming a person or place (a capitalised word inside a sentence) that the user never said and
that is not the OS's or the user's name. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine
from os1.companion import Companion
from os1.config import Settings
from os1.events import ContextShown, ErrorEvent, ReplyDone
from os1.local import open_companion

LIFE = Path(__file__).parent / "data" / "life.json"
COMMON = frozenset("""
i i'm i'd i'll i've hi hello hey oh ok okay yes no well so and but or the a an it its that this there here what
when where who why how you your yours my me we our us they their he she his her him monday tuesday wednesday
thursday friday saturday sunday january february march april may june july august september october november
december today tomorrow yesterday mr mrs ms dr sorry thanks thank please let maybe sure great good
""".split())
"""Capitalised words that name nobody."""


@dataclass
class Probe:
    """One question and how its reply and context scored."""

    ask: str
    expect: list[list[str]]
    stale: list[str]
    reply: str = ""
    context: str = ""
    invented: tuple[str, ...] = ()

    def reply_hit(self) -> bool:
        return _has_all(self.reply, self.expect) and not any(_has(self.reply, word) for word in self.stale)

    def context_hit(self) -> bool:
        return _has_all(self.context, self.expect)


def _has(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", text.lower()) is not None


def _has_all(text: str, groups: list[list[str]]) -> bool:
    return all(any(_has(text, word) for word in group) for group in groups)


def names_in(text: str) -> list[str]:
    """Capitalised words inside sentences (not the first word of one): the people and places a reply names."""
    found = []
    for sentence in re.split(r"(?<=[.!?:;\n])\s+|\n", text):
        words = re.findall(r"[A-Za-z][\w'’-]*", sentence)
        for word in words[1:]:
            bare = re.sub(r"['’]s$", "", word)
            if bare[:1].isupper() and bare.lower() not in COMMON and not bare.isupper():
                found.append(bare)
    return found


def invented(reply: str, known: set[str]) -> tuple[str, ...]:
    """The names in `reply` that the conversation never had."""
    return tuple(dict.fromkeys(n for n in names_in(reply) if n.lower() not in known))


async def say(companion: Companion, text: str, at: datetime, *, show: bool,
              spoken: bool = False) -> tuple[str, str]:
    """One line said at `at`: the reply as stored, and the context the model read (without the line itself).
    `spoken`: answered as a voice answers (a short reply, begun by the quick model when the brain is large)."""
    reply, context = "", ""
    async for event in companion.say(text, at=at, show_context=True, spoken=spoken):
        if isinstance(event, ContextShown):
            context = "\n".join(m.content for m in event.messages[:-1])
        elif isinstance(event, ReplyDone):
            reply = event.text
        elif isinstance(event, ErrorEvent):
            reply = f"(error: {event.message})"
    if show:
        print(f"  you: {text}\n  os:  {reply}")
    return reply, context


async def live(life: dict[str, Any], settings: Settings, show: bool,
               spoken: bool = False) -> tuple[list[Probe], dict[str, float]]:
    """Live the life, then ask the probes; the probes' scores and the time it took."""
    started = time.perf_counter()
    probes = [Probe(p["ask"], p["expect"], p.get("stale", [])) for p in life["probes"]]
    with open_companion(settings) as companion:
        first = datetime.fromisoformat(life["sessions"][0]["at"])
        companion.start_session(first)
        for answer in life["onboarding"]:
            async for _ in companion.say(answer, at=first):
                pass
        known = {w.lower() for line in life["onboarding"] for w in re.findall(r"[\w'’-]+", line)}
        known |= {companion.name.lower(), companion.user_name.lower()}
        replies: list[float] = []
        for session in life["sessions"]:
            at = datetime.fromisoformat(session["at"])
            companion.start_session(at)
            if show:
                print(f"— {at:%a %d %b %Y %H:%M}")
            for line in session["lines"]:
                known |= {re.sub(r"['’]s$", "", w).lower() for w in re.findall(r"[\w'’-]+", line)}
                t0 = time.perf_counter()
                await say(companion, line, at, show=show)
                replies.append(time.perf_counter() - t0)
            if companion.memory is not None:
                await companion.memory.flush()
        at = datetime.fromisoformat(life["probes_at"])
        companion.start_session(at)
        if show:
            print(f"— probes, {at:%a %d %b %Y %H:%M}")
        for probe in probes:
            t0 = time.perf_counter()
            probe.reply, probe.context = await say(companion, probe.ask, at, show=show, spoken=spoken)
            replies.append(time.perf_counter() - t0)
            probe.invented = invented(probe.reply, known)
    seconds = time.perf_counter() - started
    return probes, {"seconds": seconds, "reply_s_median": sorted(replies)[len(replies) // 2]}


def table(model: str, probes: list[Probe]) -> str:
    rows = [f"model {model}", f"{'probe':<46} {'reply':>5} {'context':>7}  invented"]
    for p in probes:
        rows.append(f"{p.ask[:46]:<46} {'hit' if p.reply_hit() else '-':>5} {'hit' if p.context_hit() else '-':>7}  "
                    f"{', '.join(p.invented)}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded", help="a model spec, as `os1 --model` takes")
    parser.add_argument("--life", type=Path, default=LIFE, help="a life in the format of benchmarks/data/life.json")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads for a local model")
    parser.add_argument("--show", action="store_true", help="print the whole conversation")
    parser.add_argument("--spoken", action="store_true",
                        help="ask the probes as a voice does: short replies, a large brain's first words by "
                             "`--voice-opener`")
    parser.add_argument("--voice-opener", default=Settings.voice_opener, help="with --spoken (`none`: the brain alone)")
    args = parser.parse_args()
    life = json.loads(args.life.read_text(encoding="utf-8"))
    print(f"machine: {machine()}")
    print(f"life: {args.life} ({len(life['sessions'])} sessions, {len(life['probes'])} probes)")
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="os1-companion-")), model=args.model,
                        llm_threads=args.threads, voice_opener=args.voice_opener)
    probes, timing = asyncio.run(live(life, settings, args.show, args.spoken))
    print(table(args.model, probes))
    result = {"model": args.model + (f" spoken, first words by {args.voice_opener}" if args.spoken else ""),
              "reply_hits": sum(p.reply_hit() for p in probes),
              "context_hits": sum(p.context_hit() for p in probes), "probes": len(probes),
              "invented": sum(bool(p.invented) for p in probes), "seconds": round(timing["seconds"], 1),
              "reply_s_median": round(timing["reply_s_median"], 2)}
    print(f"reply hits {result['reply_hits']}/{len(probes)}, context hits {result['context_hits']}/{len(probes)}, "
          f"replies inventing names {result['invented']}; {timing['seconds']:.0f} s in all")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
