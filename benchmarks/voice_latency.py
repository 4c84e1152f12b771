"""End of user speech → first reply audio, through the whole voice loop with the embedded stack.

    .venv/bin/python benchmarks/voice_latency.py [--turns 20]
    .venv/bin/python benchmarks/voice_latency.py --model tiny   # or qwen-0.5b, qwen-1.5b, any spec
    .venv/bin/python benchmarks/voice_latency.py --voice-opener none   # a large brain's own first words
    .venv/bin/python benchmarks/voice_latency.py --started-before   # OS1 ran before: the persona's reading saved

The user's turns are synthesised here with Piper (en_US-joe-medium, noise off) and fed to the loop in real
time, as a microphone would (each 32 ms frame once its last sample is "recorded"): Silero VAD, PocketSphinx,
the companion with the model `--model` names (the default brain unless told) and memory, the phrase chunker and
Piper. The memory holds twelve turns from earlier sessions; the session opens with 2.5 s of the OS's greeting,
and each turn starts 0.3 s after the last reply has been heard out. "End of speech" is the last sample of the
user's voice in the clip (its 10 ms envelope within 40 dB of the peak), so the figures include the VAD noticing
the silence and the wait for the end-of-turn decision. `gap_after_first_phrase_ms` is the silence between the
first phrase's end and the second's start (0 when the second was ready in time): with a quick model saying a
large brain's first words, what the brain still had to read shows there. With `--started-before` OS1 has run
on this home once before (a returning user's usual case): that start's model read the persona and saved its
reading (`llm/kvstate.py`), and this one loads it. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine, percentile
from _returning import returning_user
from os1.companion import Companion
from os1.config import Settings
from os1.llm import get_model
from os1.llm.builtin import close_local
from os1.llm.relay import Relay
from os1.local import voice_llm
from os1.memory.store import UserStore
from os1.speech.audio import Audio, concat, resample, silence
from os1.speech.loop import LoopConfig, TimelineSink, VoiceLoop, file_frames
from os1.speech.stt import PocketSphinxSTT
from os1.speech.tts import PiperTTS
from os1.speech.vad import SegmenterConfig, SileroVAD

TURNS = [
    "Hi, how are you today?", "I had a long day at work.", "My friend Amy is coming over tonight.",
    "What should we cook for dinner?", "I think I will make pasta.", "Do you like music?",
    "I have been learning the piano.", "It is raining outside again.", "I feel a little tired.",
    "Tell me something nice.", "I miss my mother sometimes.", "We used to walk by the lake.",
    "Do you remember what I said about Amy?", "I want to write a letter.", "Can you help me with it?",
    "It is for my sister.", "She lives in Boston now.", "I should go to bed early.",
    "Thank you for listening.", "Good night.",
]


PAST = [  # earlier sessions, so recall has something to find and the context carries memories
    "My friend Amy works at a design studio downtown.", "Amy and I went hiking near the lake last spring.",
    "My mother lives in Portland and we talk on Sundays.", "My sister Lucy moved to Boston for her new job.",
    "I started piano lessons with a teacher called Paul.", "I love cooking pasta with fresh basil.",
    "I have been sleeping badly because of work stress.", "My favourite music is old jazz records.",
    "I write letters to people I care about.", "Work has been busy with the new building project.",
    "We used to walk by the lake every evening when I was a kid.", "I feel calmer when it rains.",
]


def voice_end(audio: Audio) -> float:
    """Seconds from the start of `audio` to the end of its last voiced 10 ms (within 40 dB of the peak)."""
    x = np.asarray(resample(audio, 16_000).samples, dtype=np.float64)
    hop = 160
    level = np.sqrt(np.mean(x[: len(x) // hop * hop].reshape(-1, hop) ** 2, axis=1)) + 1e-12
    voiced = np.flatnonzero(20 * np.log10(level / level.max()) > -40)
    return float((voiced[-1] + 1) * hop / 16_000) if len(voiced) else 0.0


async def start_before(store: UserStore, settings: Settings, spec: str) -> None:
    """An earlier start of OS1 on this home: its model reads the persona (and saves the reading), then the
    process's local models are closed, so the measured start opens them afresh."""
    llm = get_model(spec, settings)
    await llm.prepare(await Companion(store, llm).preview_context("Hello."))
    close_local()


async def measure(turns: int, segmenter: SegmenterConfig, spec: str = "embedded",
                  opener: str = Settings.voice_opener, started_before: bool = False) -> dict[str, object]:
    home = Path(tempfile.mkdtemp())
    settings = Settings(home=home, model=spec, llm_threads=1, max_reply_tokens=48, voice_opener=opener)
    db, store, memory = await returning_user(settings, {
        "user.name": "Theodore", "user.social": "social", "user.mother": "we talk on Sundays", "user.voice": "male",
        "os.name": "Samantha"}, PAST)
    if started_before:
        await start_before(store, settings, spec)
    llm = get_model(spec, settings)
    voice = voice_llm(llm, settings)  # as `os1 talk` and the server have it
    companion = Companion(store, llm, max_reply_tokens=48, memory=memory, voice_llm=voice)
    companion.start_session()
    companion.warm_up()  # as `os1 talk` does: the model reads ahead during the greeting
    user_voice = PiperTTS(threads=1, noise_scale=0.0, noise_w_scale=0.0)
    sink = TimelineSink()
    config = LoopConfig(segmenter=segmenter)
    loop = VoiceLoop(companion, vad=SileroVAD(), stt=PocketSphinxSTT(), tts=PiperTTS(threads=1), sink=sink,
                     config=config)
    texts = (TURNS * (turns // len(TURNS) + 1))[:turns]
    rows: list[dict[str, float]] = []
    greeting = 2.5  # the session opens with the OS's greeting, while the model reads its persona
    for text in texts:
        # the user hears the last reply out (the loop runs on meanwhile), then speaks after a breath
        wait = max(greeting, sink.remaining() + 0.3)
        await loop.run(file_frames(silence(wait, 16_000), tail_s=0.0, realtime=True))
        greeting = 0.0
        said = concat([silence(0.2, 22_050), user_voice.synthesize(text)])
        start = time.monotonic() + 0.05
        before = len(loop.latencies)
        await loop.run(file_frames(said, tail_s=1.2, realtime=True, start=start), lockstep=True)
        if len(loop.latencies) == before:
            print(f"  (no reply)  {text}")
            continue
        mark, stopped = loop.latencies[-1], start + voice_end(said)
        rows.append({"vad_silence_ms": 1000 * (mark.stopped - stopped),
                     "transcript_ms": 1000 * (mark.transcript - stopped),
                     "first_token_ms": 1000 * (mark.first_token - stopped),
                     "end_of_turn_ms": 1000 * (mark.speech_end - stopped),
                     "first_audio_ms": 1000 * (mark.first_audio - stopped),
                     "gap_after_first_phrase_ms": 1000 * mark.gap})
        print(f"{rows[-1]['first_audio_ms']:6.0f} ms  {text}  → heard as “{mark.text}”"
              + (f"  (then {1000 * mark.gap:.0f} ms of silence)" if mark.gap else ""))
    total = [r["first_audio_ms"] for r in rows]
    memory.close()
    db.close()
    first_words = settings.voice_opener if isinstance(voice, Relay) else spec
    return {"model": spec, "first_words": first_words, "started_before": started_before, "turns": len(rows),
            "p50_ms": round(percentile(total, 50)),
            "p95_ms": round(percentile(total, 95)),
            "withdrawn": loop.withdrawn,
            "stages": {name: {"p50": round(percentile([r[name] for r in rows], 50)),
                              "p95": round(percentile([r[name] for r in rows], 95))} for name in rows[0]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--model", default="embedded", help="a model spec, as `os1 --model` takes")
    parser.add_argument("--voice-opener", default=Settings.voice_opener,
                        help="the quick model for a large brain's first words (`none`: the brain speaks alone)")
    parser.add_argument("--started-before", action="store_true",
                        help="OS1 ran on this home before, so a local model loads its saved reading of the persona")
    parser.add_argument("--end-ms", type=float, default=None, help="silence that ends a turn (default: the loop's)")
    parser.add_argument("--pause-ms", type=float, default=None, help="silence that starts the reply speculatively")
    args = parser.parse_args()
    default = SegmenterConfig()
    segmenter = SegmenterConfig(end_ms=args.end_ms or default.end_ms, pause_ms=args.pause_ms or default.pause_ms)
    print(f"machine: {machine()}")
    print(f"turn-taking: speculative reply after {segmenter.pause_ms:.0f} ms of silence, "
          f"committed after {segmenter.end_ms:.0f} ms")
    print(f"model: {args.model}, first words by {args.voice_opener} when it is a large local model")
    print("user turns: synthesised with Piper en_US-joe-medium, fed in real time")
    print(json.dumps(asyncio.run(measure(max(1, args.turns), segmenter, args.model, args.voice_opener,
                                             args.started_before))))


if __name__ == "__main__":
    main()
