"""Time to first token (p50/p95) and tokens per second of the embedded model, as the companion calls it.

    .venv/bin/python benchmarks/first_token.py [--prompts 24] [--threads 2] [--max-tokens 64]

Each prompt goes after the same persona system prompt, as in a conversation, so the model re-uses the
evaluated prefix. The last line is one JSON object.
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
from os1.config import Settings
from os1.llm import Message, get_model
from os1.persona.prompts import system_prompt

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
           "user.mother": "we talk on Sundays"}


async def measure(prompts: list[str], threads: int, max_tokens: int) -> dict[str, float]:
    settings = Settings(home=Path(tempfile.mkdtemp()), llm_threads=threads)
    started = time.perf_counter()
    model = get_model("embedded", settings)
    load_s = time.perf_counter() - started
    system = system_prompt(PROFILE)
    ttfts: list[float] = []
    rates: list[float] = []
    cold = 0.0
    for i, prompt in enumerate([prompts[0], *prompts]):
        messages = [Message("system", system), Message("user", prompt)]
        t0 = time.perf_counter()
        first = 0.0
        text = []
        async for delta in model.stream(messages, max_tokens=max_tokens, temperature=0.7):
            if not first:
                first = time.perf_counter()
            text.append(delta)
        end = time.perf_counter()
        if i == 0:
            cold = first - t0
            continue
        ttfts.append((first - t0) * 1000)
        tokens = model.count_tokens("".join(text))
        if tokens > 1 and end > first:
            rates.append((tokens - 1) / (end - first))
    print(f"model load {load_s * 1000:.0f} ms; cold first call (whole system prompt) {cold * 1000:.0f} ms")
    print(f"{len(ttfts)} prompts: ttft p50 {percentile(ttfts, 50):.0f} ms, p95 {percentile(ttfts, 95):.0f} ms; "
          f"tokens/s median {statistics.median(rates):.1f}")
    return {"ttft_p50_ms": round(percentile(ttfts, 50), 1), "ttft_p95_ms": round(percentile(ttfts, 95), 1),
            "tokens_per_s": round(statistics.median(rates), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[: max(20, args.prompts)]
    print(f"machine: {machine()}")
    print(f"model: embedded (SmolLM2-135M-Instruct Q4_1), threads {args.threads}, max_tokens {args.max_tokens}")
    print(json.dumps(asyncio.run(measure(prompts, args.threads, args.max_tokens))))


if __name__ == "__main__":
    main()
