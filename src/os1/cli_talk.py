"""`os1 talk --in question.wav [--in more.wav] --out answer.wav`: a spoken conversation from recordings."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from os1.companion import Companion
from os1.events import CompanionEvent, ReplyDone, TurnStored
from os1.speech.hooks import SpeechOptions
from os1.speech.tts import check_preference


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `talk` subcommand."""
    talk = sub.add_parser("talk", help="a spoken conversation from recordings (--in … --out …)")
    talk.add_argument("--in", dest="inputs", action="append", type=Path, required=True,
                      help="a recording (WAV, FLAC; any rate) of one or more turns; repeat for more")
    talk.add_argument("--out", type=Path, required=True, help="where to write the OS's side, as WAV")
    talk.add_argument("--stt", default="pocketsphinx", help="speech recogniser (pocketsphinx, whisper…)")
    talk.add_argument("--tts", default="auto", help="voice (auto, piper, espeak[:VOICE]…)")


async def run(companion: Companion, args: argparse.Namespace, console: Console) -> int:
    """Play each recording to the OS in turn, then write everything it said to `--out`."""
    from os1.speech.audio import load, write_wav
    from os1.speech.loop import TimelineSink, TurnLatency, VoiceLoop, file_frames
    from os1.speech.registry import get_stt, get_tts, get_vad

    vocabulary = {term: None for term in companion.memory.vocabulary()} if companion.memory else {}
    options = SpeechOptions(voice=check_preference(companion.store.get("user.voice") or "either"),
                            vocabulary=vocabulary)
    recordings = [load(path) for path in args.inputs]  # a bad file fails here, before anything is said

    def said(event: CompanionEvent) -> None:
        if isinstance(event, TurnStored):
            text = companion.store.turns_by_id([event.turn_id])[event.turn_id].text
            console.print(f"You: {text}", style="green", markup=False, highlight=False)
        elif isinstance(event, ReplyDone):
            console.print(f"{companion.name or 'OS1'}: {event.text}", style="magenta", markup=False, highlight=False)

    def timed(mark: TurnLatency) -> None:
        console.print(f"(after the last word: end of turn {1000 * (mark.speech_end - mark.stopped):.0f} ms, "
                      f"transcript {1000 * (mark.transcript - mark.stopped):.0f} ms, "
                      f"first token {1000 * (mark.first_token - mark.stopped):.0f} ms, "
                      f"first audio {mark.to_first_audio_ms:.0f} ms)", style="dim", markup=False)

    sink = TimelineSink()
    loop = VoiceLoop(companion, vad=get_vad("silero", options), stt=get_stt(args.stt, options),
                     tts=get_tts(args.tts, options), sink=sink, on_latency=timed, on_event=said)
    companion.start_session()
    for recording in recordings:
        await loop.run(file_frames(recording), lockstep=True)
    if not loop.latencies:
        console.print("(No speech was heard in the recordings.)", style="dim", markup=False)
    out = sink.render()
    write_wav(args.out, out)
    console.print(f"Wrote {out.duration:.1f} s of audio to {args.out}.", markup=False)
    if companion.memory is not None:
        await companion.memory.flush()
    return 0
