"""End of user speech → first reply audio, through the whole voice loop with the embedded stack.

    .venv/bin/python benchmarks/voice_latency.py [--turns 20]

The user's turns are synthesised here with Piper (en_US-joe-medium, noise off) and fed to the loop in real
time, as a microphone would: Silero VAD, PocketSphinx, the companion with the embedded SmolLM2 (and memory),
the phrase chunker and Piper. "End of speech" is the user's last word (the first silent frame); the figures
include the wait for the end-of-turn decision. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine, percentile
from os1.companion import Companion
from os1.config import Settings
from os1.llm import get_model
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder
from os1.speech.audio import concat, silence
from os1.speech.loop import TimelineSink, VoiceLoop, file_frames
from os1.speech.stt import PocketSphinxSTT
from os1.speech.tts import PiperTTS
from os1.speech.vad import SileroVAD

TURNS = [
    "Hi, how are you today?", "I had a long day at work.", "My friend Amy is coming over tonight.",
    "What should we cook for dinner?", "I think I will make pasta.", "Do you like music?",
    "I have been learning the piano.", "It is raining outside again.", "I feel a little tired.",
    "Tell me something nice.", "I miss my mother sometimes.", "We used to walk by the lake.",
    "Do you remember what I said about Amy?", "I want to write a letter.", "Can you help me with it?",
    "It is for my sister.", "She lives in Boston now.", "I should go to bed early.",
    "Thank you for listening.", "Good night.",
]


async def measure(turns: int) -> dict[str, object]:
    home = Path(tempfile.mkdtemp())
    settings = Settings(home=home, llm_threads=1, max_reply_tokens=48)
    db = Database(settings.db_path)
    store = db.user("bench")
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "we talk on Sundays",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    memory = Memory(store, embedder=MiniLMEmbedder(threads=1))
    companion = Companion(store, get_model("embedded", settings), max_reply_tokens=48, memory=memory)
    companion.start_session()
    user_voice = PiperTTS(threads=1, noise_scale=0.0, noise_w_scale=0.0)
    sink = TimelineSink()
    loop = VoiceLoop(companion, vad=SileroVAD(), stt=PocketSphinxSTT(), tts=PiperTTS(threads=1), sink=sink)
    texts = (TURNS * (turns // len(TURNS) + 1))[:turns]
    for text in texts:
        said = user_voice.synthesize(text)
        await loop.run(file_frames(concat([silence(0.3, said.sample_rate), said]), tail_s=1.0, realtime=True),
                       lockstep=True)
        await memory.flush()
    marks = loop.latencies
    total = [m.to_first_audio_ms for m in marks]
    stages = {
        "end_of_turn_ms": [1000 * (m.speech_end - m.stopped) for m in marks],
        "transcript_ms": [1000 * (m.transcript - m.stopped) for m in marks],
        "first_token_ms": [1000 * (m.first_token - m.stopped) for m in marks],
        "first_audio_ms": total,
    }
    for mark in marks:
        print(f"{mark.to_first_audio_ms:6.0f} ms  {mark.text}")
    memory.close()
    db.close()
    return {"turns": len(marks), "p50_ms": round(percentile(total, 50)), "p95_ms": round(percentile(total, 95)),
            "stages": {name: {"p50": round(percentile(v, 50)), "p95": round(percentile(v, 95))}
                       for name, v in stages.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("user turns: synthesised with Piper en_US-joe-medium, fed in real time")
    print(json.dumps(asyncio.run(measure(max(1, args.turns)))))


if __name__ == "__main__":
    main()
