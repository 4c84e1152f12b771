"""Time to the first token of a reply (p50/p95) and tokens per second, in a conversation under way.

    .venv/bin/python benchmarks/first_token.py [--model SPEC] [--prompts 24] [--threads 1] [--max-tokens 64] [--pause 3]
    .venv/bin/python benchmarks/first_token.py --model qwen-1.5b --prompts 12 --typing 4   # lines typed, as on the page

Each prompt is a turn of one conversation through `Companion.say`, as `os1 chat` runs it: the persona, the
recent turns, the memory note recalled for the line (the memory holds twelve turns of earlier sessions), then the
line. The clock runs from `say` to the first reply text, so it includes recall and the model reading what is new
in its context. Between turns the user reads the reply and types the next line (`--pause`, 3 s; the model reads
the finished exchange meanwhile, as it does in `os1 chat`). With `--typing CPS` the user then types the line at
CPS characters a second, and each word ended (a space) is a draft, as the page sends it (`TypingAhead`, as the
page's socket uses it: the reply is prepared for the words typed so far; the last word, sent with Enter at
once, is read only after). The first turn (the model reads its whole persona) is reported apart. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine, percentile
from _returning import returning_user
from os1.companion import Companion
from os1.config import Settings
from os1.events import ReplyDelta, ReplyDone
from os1.llm import get_model
from os1.typing_ahead import TypingAhead

PROMPTS = [
    "Hi! How are you?", "I had a rough day at work.", "What should I cook tonight?",
    "Do you ever get lonely?", "Tell me something that made you curious today.",
    "My friend Amy is visiting this weekend.", "I can't sleep.", "What do you think about letters?",
    "Can you help me write a birthday note for my mother?", "I'm thinking about moving to a new city.",
    "What's your favourite time of day?", "I went for a run at Peak this morning.",
    "Do you remember what I told you about my job?", "I feel like nobody listens to me.",
    "What would you do if you had a body?", "Say something funny.", "I'm nervous about tomorrow.",
    "How do you choose what to say?", "I finished the book I was reading.", "Good night.",
    "I think I'm falling for someone.", "Why do people get divorced?", "What music do you like?",
    "Thanks for listening.",
]
PROFILE = {"os.name": "Samantha", "user.name": "Theodore", "user.social": "social",
           "user.mother": "we talk on Sundays", "user.voice": "female"}  # past first boot
PAST = [
    "My friend Amy works at a design studio downtown.", "Amy and I went hiking near the lake last spring.",
    "My mother lives in Portland and we talk on Sundays.", "My sister Lucy moved to Boston for her new job.",
    "I started piano lessons with a teacher called Paul.", "I love cooking pasta with fresh basil.",
    "I have been sleeping badly because of work stress.", "My favourite music is old jazz records.",
    "I write letters to people I care about.", "Work has been busy with the new building project.",
    "I run at Peak on Tuesday mornings.", "I feel calmer when it rains.",
]


async def type_line(typing: TypingAhead, line: str, cps: float) -> None:
    """Type `line` at `cps` characters a second; each word ended is a draft."""
    for end, char in enumerate(line, 1):
        await asyncio.sleep(1 / cps)
        if char == " ":
            typing.update(line[:end])


async def measure(spec: str, prompts: list[str], threads: int, max_tokens: int,
                  pause: float = 3.0, typing_cps: float = 0.0) -> dict[str, float | str]:
    settings = Settings(home=Path(tempfile.mkdtemp()), model=spec, llm_threads=threads)
    started = time.perf_counter()
    model = get_model(spec, settings)
    load_s = time.perf_counter() - started
    db, store, memory = await returning_user(settings, PROFILE, PAST)
    companion = Companion(store, model, max_reply_tokens=max_tokens, memory=memory)
    companion.start_session()
    typing = TypingAhead(companion)
    ttfts: list[float] = []
    rates: list[float] = []
    cold = 0.0
    for i, prompt in enumerate(prompts):
        if i:
            await asyncio.sleep(pause)  # the user reads the reply, then types
        if i and typing_cps:
            await type_line(typing, prompt, typing_cps)
        t0 = time.perf_counter()
        prepared = await typing.take(prompt)
        first = end = 0.0
        tokens = 0
        async for event in companion.say(prompt, prepared=prepared):
            if isinstance(event, ReplyDelta) and not first:
                first = time.perf_counter()
            elif isinstance(event, ReplyDone):
                end = time.perf_counter()
                tokens = model.count_tokens(event.text)
        if not first:
            print(f"  (no model reply) {prompt}")
            continue
        if i == 0:
            cold = first - t0
            continue
        ttfts.append((first - t0) * 1000)
        if tokens > 1 and end > first:
            rates.append((tokens - 1) / (end - first))
    memory.close()
    db.close()
    print(f"model load {load_s * 1000:.0f} ms; first turn (the whole persona read) {cold * 1000:.0f} ms")
    print(f"{len(ttfts)} turns: first token p50 {percentile(ttfts, 50):.0f} ms, p95 {percentile(ttfts, 95):.0f} ms; "
          f"tokens/s median {statistics.median(rates):.1f}")
    return {"model": spec, "ttft_p50_ms": round(percentile(ttfts, 50), 1),
            "ttft_p95_ms": round(percentile(ttfts, 95), 1), "tokens_per_s": round(statistics.median(rates), 1),
            "first_turn_ms": round(cold * 1000), "load_ms": round(load_s * 1000), "pause_s": pause,
            "typing_cps": typing_cps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded", help="a model spec, as `os1 --model` takes")
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between a reply and the next line")
    parser.add_argument("--typing", type=float, default=0.0, metavar="CPS",
                        help="type each line at CPS characters a second, each word a draft (0: lines arrive whole)")
    args = parser.parse_args()
    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[: max(2, args.prompts)]
    print(f"machine: {machine()}")
    print(f"model: {args.model}, threads {args.threads}, max_tokens {args.max_tokens}, {args.pause:g} s between turns"
          + (f", lines typed at {args.typing:g} characters/s" if args.typing else ""))
    print(json.dumps(asyncio.run(measure(args.model, prompts, args.threads, args.max_tokens, args.pause,
                                         args.typing))))


if __name__ == "__main__":
    main()
