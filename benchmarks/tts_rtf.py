"""Real-time factor of each text-to-speech engine, and its time to first audio with the phrase chunker.

    .venv/bin/python benchmarks/tts_rtf.py [--engines piper,espeak,espeak:en-us+f3] [--threads 1]

RTF is synthesis time / audio duration over ten companion-style sentences, after one warm-up call (load time
is reported apart). Time to first audio is how long `TTS.stream` takes to yield its first chunk (a 2-3-word
phrase). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine
from os1.speech.hooks import SpeechOptions
from os1.speech.registry import get_tts

SENTENCES = [
    "Good morning! Did you sleep well?",
    "I was thinking about what you said yesterday, and I think you were right.",
    "Your sister called while you were out; she wants to know about Sunday.",
    "It's going to rain this afternoon, so take an umbrella.",
    "That sounds like a wonderful idea.",
    "I found three emails from your manager about the quarterly report.",
    "Would you like me to read them to you now, or later this evening?",
    "I'm sorry, I didn't quite catch that.",
    "The train to the city leaves at a quarter past eight.",
    "Let's talk about something else for a while.",
]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # engines get one thread each through their options too
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="piper,espeak,espeak:en-us+f3", help="comma-separated TTS specs")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per engine")
    args = parser.parse_args()
    print(f"# TTS real-time factor: {len(SENTENCES)} sentences, {args.threads} thread(s)")
    print(f"# {machine()}")
    rtf: dict[str, float] = {}
    first: dict[str, float] = {}
    for spec in [s.strip() for s in args.engines.split(",") if s.strip()]:
        start = time.perf_counter()
        engine = get_tts(spec, SpeechOptions(threads=args.threads))
        loaded = time.perf_counter() - start
        engine.synthesize("Warming up.")
        spent = audio = 0.0
        for sentence in SENTENCES:
            start = time.perf_counter()
            clip = engine.synthesize(sentence)
            spent += time.perf_counter() - start
            audio += clip.duration
        firsts = []
        for sentence in SENTENCES:
            start = time.perf_counter()
            next(iter(engine.stream(sentence)))
            firsts.append((time.perf_counter() - start) * 1000)
        rtf[spec], first[spec] = round(spent / audio, 4), round(statistics.median(firsts), 1)
        print(f"{spec:20} load {loaded:5.2f} s  synthesis {spent:5.2f} s for {audio:5.1f} s of audio  "
              f"RTF {rtf[spec]:.4f} ({1 / rtf[spec]:.0f}x real time)  first audio p50 {first[spec]:.0f} ms "
              f"(max {max(firsts):.0f})  [{engine.gender}, {engine.sample_rate} Hz]")
    print(json.dumps({"rtf": rtf, "first_audio_ms_p50": first}))


if __name__ == "__main__":
    main()
