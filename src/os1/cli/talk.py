"""`os1 talk`: a spoken conversation, live through the microphone and speaker, or from recordings
(`os1 talk --in question.wav [--in more.wav] --out answer.wav`)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from os1.companion import Companion
from os1.errors import ConfigError
from os1.events import CompanionEvent, Notice, ReplyDone, TurnStored, UserSpoke
from os1.speech.hooks import SpeechOptions
from os1.speech.tts import check_preference

if TYPE_CHECKING:
    from os1.speech.loop import Sink, TurnLatency, VoiceLoop


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `talk` subcommand."""
    talk = sub.add_parser("talk", help="a spoken conversation: live (microphone and speaker) or from recordings")
    talk.add_argument("--in", dest="inputs", action="append", type=Path,
                      help="a recording (WAV, FLAC; any rate) of one or more turns; repeat for more. "
                           "Without --in, talk live")
    talk.add_argument("--out", type=Path, help="with --in: where to write the OS's side, as WAV")
    talk.add_argument("--device", help="live: the audio device, an index or part of its name, or IN,OUT")
    talk.add_argument("--list-devices", action="store_true", help="list the audio devices and exit")
    talk.add_argument("--stt", default="pocketsphinx", help="speech recogniser (pocketsphinx, whisper…)")
    talk.add_argument("--tts", default="auto", help="voice (auto, piper, espeak[:VOICE]…)")


async def run(companion: Companion, args: argparse.Namespace, console: Console) -> int:
    """Talk live, or play recordings to the OS and write what it said."""
    if args.list_devices:
        return list_devices(console)
    if args.out is not None and not args.inputs:
        raise ConfigError("--out needs --in: it records the OS's answers to recordings.",
                          hint="Without --in and --out, `os1 talk` talks live through the microphone and speaker.")
    if args.inputs and args.out is None:
        raise ConfigError("--in needs --out: where to write the OS's side, as WAV.",
                          hint="For example: os1 talk --in question.wav --out answer.wav")
    if args.inputs:
        return await run_files(companion, args, console)
    return await run_live(companion, args, console)


def list_devices(console: Console) -> int:
    """Print the audio devices (`<` the default input, `>` the default output)."""
    from os1.speech.devices import device_table

    lines = device_table()
    for line in lines or ["No audio devices found."]:
        console.print(line, markup=False)
    return 0


def voice_loop(companion: Companion, args: argparse.Namespace, console: Console, sink: Sink) -> VoiceLoop:
    """The voice loop with the user's engines and voice, printing what is said and how long it took."""
    from os1.speech.loop import VoiceLoop
    from os1.speech.registry import get_stt, get_tts, get_vad

    vocabulary = {term: None for term in companion.memory.vocabulary()} if companion.memory else {}
    options = SpeechOptions(voice=check_preference(companion.store.get("user.voice") or "either"),
                            vocabulary=vocabulary)
    return VoiceLoop(companion, vad=get_vad("silero", options), stt=get_stt(args.stt, options),
                     tts=get_tts(args.tts, options), sink=sink, on_latency=_timed(console),
                     on_event=_said(companion, console))


def _said(companion: Companion, console: Console) -> Callable[[CompanionEvent | UserSpoke], None]:
    def said(event: CompanionEvent | UserSpoke) -> None:
        if isinstance(event, TurnStored):
            console.print(f"You: {event.text}", style="green", markup=False, highlight=False)
        elif isinstance(event, ReplyDone) and event.status == "interrupted":  # the user cut in: what they heard
            console.print(f"(cut short; kept: “{event.text}”)", style="dim", markup=False, highlight=False)
        elif isinstance(event, ReplyDone):
            console.print(f"{companion.name or 'OS1'}: {event.text}", style="magenta", markup=False, highlight=False)

    return said


def _timed(console: Console) -> Callable[[TurnLatency], None]:
    def timed(mark: TurnLatency) -> None:
        console.print(f"(after the last word: end of turn {1000 * (mark.speech_end - mark.stopped):.0f} ms, "
                      f"transcript {1000 * (mark.transcript - mark.stopped):.0f} ms, "
                      f"first token {1000 * (mark.first_token - mark.stopped):.0f} ms, "
                      f"first audio {mark.to_first_audio_ms:.0f} ms)", style="dim", markup=False)

    return timed


async def run_files(companion: Companion, args: argparse.Namespace, console: Console) -> int:
    """Play each recording to the OS in turn, then write everything it said to `--out`."""
    from os1.speech.audio import load, write_wav
    from os1.speech.loop import TimelineSink, file_frames

    recordings = [load(path) for path in args.inputs]  # a bad file fails here, before anything is said
    sink = TimelineSink()
    loop = voice_loop(companion, args, console, sink)
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


async def run_live(companion: Companion, args: argparse.Namespace, console: Console) -> int:
    """Listen to the microphone and answer through the speaker until Ctrl-C."""
    from os1.speech.devices import MicFrames, SpeakerSink, parse_device

    mic_device, speaker_device = parse_device(args.device)
    mic = MicFrames(mic_device)  # no device: a clear error now, before the speech models load
    with SpeakerSink(speaker_device) as sink:
        loop = voice_loop(companion, args, console, sink)
        companion.start_session()
        companion.warm_up()  # the model reads the persona and history before the user's first words
        console.print(f"Listening on {mic.format.name}, speaking on {sink.format.name}. Ctrl-C ends.",
                      style="dim", markup=False)
        frames = mic.__aiter__()

        async def ring(notice: Notice) -> None:  # a timer or alarm going off: printed and said
            console.print(notice.text, style="bold", markup=False, highlight=False)
            await loop.announce(notice.text)

        unlisten = companion.listen(ring)
        try:
            await _until_interrupted(loop.run(frames))
        finally:
            unlisten()
            await frames.aclose()
        if loop.replying():
            await loop.interrupt()  # keep only the words that were heard
    if mic.dropped:
        console.print(f"({mic.dropped} microphone blocks were dropped: the machine fell behind.)", style="dim",
                      markup=False)
    if companion.memory is not None:
        await companion.memory.flush()
    return 0


async def _until_interrupted(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or Ctrl-C cancels it."""
    task = asyncio.ensure_future(work)
    events = asyncio.get_running_loop()
    events.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        events.remove_signal_handler(signal.SIGINT)
