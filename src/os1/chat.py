"""`os1 chat`: the streaming text conversation in a terminal, or over a pipe."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from datetime import datetime
from typing import BinaryIO

from rich.console import Console

from os1.companion import Companion
from os1.errors import InputError
from os1.events import CompanionEvent, ContextShown, ErrorEvent, Notice, Prompt, Renamed, ReplyDelta, ReplyDone
from os1.llm.registry import UnavailableModel

HELP = "Commands: /name NEW_NAME renames me, /help shows this, /quit (or Ctrl-D) leaves."
_EOF = object()
ECHO_CHARS = 300
"""A piped line longer than this is echoed shortened."""


def decode_line(raw: bytes) -> tuple[str, bool]:
    """A line of input as text, and whether invalid UTF-8 had to be replaced."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


class LineReader:
    """Reads stdin on a daemon thread so a blocked read never holds up Ctrl-C or shutdown.

    A real file descriptor is read with `os.read`, not through `sys.stdin.buffer`: a daemon thread blocked inside
    the buffered reader holds its lock, and the interpreter aborts at exit when it cannot take that lock back
    ("Fatal Python error: _enter_buffered_busy"). A raw read holds no lock of Python's.
    """

    def __init__(self, stream: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        self._queue: asyncio.Queue[bytes | object] = asyncio.Queue()
        self._stream = stream
        self._loop = loop
        self._wanted = threading.Semaphore(0)
        self._pending = b""
        try:
            self._fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None
        threading.Thread(target=self._run, daemon=True, name="os1-stdin").start()

    def _line(self) -> bytes:
        """The next line with its newline ('' at end of input)."""
        if self._fd is None:
            return self._stream.readline()
        while b"\n" not in self._pending:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                line, self._pending = self._pending, b""
                return line
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line + b"\n"

    def _run(self) -> None:
        while True:
            self._wanted.acquire()
            try:
                raw = self._line()
            except (OSError, ValueError):
                raw = b""
            if self._loop.is_closed():
                return
            self._loop.call_soon_threadsafe(self._queue.put_nowait, raw if raw else _EOF)
            if not raw:
                return

    async def readline(self) -> bytes | None:
        """The next line without its newline, or None at end of input."""
        self._wanted.release()
        raw = await self._queue.get()
        return None if raw is _EOF else bytes(raw).rstrip(b"\r\n")  # type: ignore[arg-type]


class ChatUI:
    """Renders companion events with Rich; the model's text is never parsed as markup."""

    def __init__(self, console: Console, companion: Companion) -> None:
        self.console = console
        self.companion = companion
        self._speaking = False

    def _speaker(self) -> None:
        if not self._speaking:
            self.console.print(f"{self.companion.name or 'OS1'}: ", style="bold magenta", end="")
            self._speaking = True

    def show(self, event: CompanionEvent) -> None:
        """Draw one event."""
        if isinstance(event, ReplyDelta):
            self._speaker()
            self.console.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, ReplyDone):
            self.end_line(interrupted=event.status == "interrupted")
        elif isinstance(event, Prompt):
            self.end_line()
            self.console.print(event.text, style="cyan", markup=False, highlight=False)
        elif isinstance(event, Notice):
            self.end_line()
            self.console.print(f"({event.text})", style="dim", markup=False, highlight=False)
        elif isinstance(event, ErrorEvent):
            self.end_line()
            self.console.print(event.message, style="bold red", markup=False, highlight=False)
        elif isinstance(event, Renamed):
            self.end_line()
        elif isinstance(event, ContextShown):
            self.end_line()
            self.show_context(event)

    def show_context(self, event: ContextShown) -> None:
        """Exactly what the model is given, message by message, set apart from the conversation."""
        self.console.print(f"── the model reads {len(event.messages)} messages ──", style="dim", markup=False)
        for message in event.messages:
            self.console.print(f"[{message.role}]", style="bold dim", markup=False, highlight=False)
            self.console.print(message.content, style="dim", markup=False, highlight=False, soft_wrap=True)
        self.console.print("── end of context ──", style="dim", markup=False)

    def end_line(self, *, interrupted: bool = False) -> None:
        """Finish the OS's line, if one is open; say so when a reply was stopped."""
        if self._speaking:
            self.console.print(" [interrupted]" if interrupted else "", style="dim", markup=False)
            self._speaking = False
        elif interrupted:
            self.console.print("(stopped before the reply began)", style="dim", markup=False)


async def run_chat(companion: Companion, console: Console, stdin: BinaryIO | None = None, *,
                   show_context: bool = False, at: datetime | None = None) -> int:
    """Talk until end of input, /quit, or Ctrl-C at the prompt; Ctrl-C during a reply stops the reply.
    `show_context`: print the messages the model is given before each of its replies. `at`: the time every
    turn of this session is stored with (scripted lives and imports; None: now)."""
    loop = asyncio.get_running_loop()
    reader = LineReader(stdin or sys.stdin.buffer, loop)
    ui = ChatUI(console, companion)
    interactive = console.is_terminal
    companion.start_session(at)
    for event in companion.opening(at):
        ui.show(event)
    ui.end_line()
    if isinstance(companion.llm, UnavailableModel):  # say so now, not only at the first reply
        ui.show(ErrorEvent(companion.llm.error.code, companion.llm.error.friendly()))
    elif interactive:  # the model reads the persona and history while the user writes the first line
        companion.warm_up()
    current: asyncio.Task[None] | None = None
    quitting = asyncio.Event()
    at_prompt = False

    async def ring(notice: Notice) -> None:
        """A timer or an alarm going off while the user is here, printed above a fresh prompt."""
        if at_prompt:
            console.print()
        ui.show(notice)
        if at_prompt:
            console.print("You: ", style="bold green", end="")

    unlisten = companion.listen(ring) if interactive else None

    def on_sigint() -> None:
        if current is not None and not current.done():
            current.cancel()
        else:
            quitting.set()

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        while not quitting.is_set():
            if interactive:
                console.print("You: ", style="bold green", end="")
                at_prompt = True
            line_task = asyncio.ensure_future(reader.readline())
            quit_task = asyncio.ensure_future(quitting.wait())
            await asyncio.wait({line_task, quit_task}, return_when=asyncio.FIRST_COMPLETED)
            quit_task.cancel()
            if not line_task.done():
                line_task.cancel()
                break
            raw = line_task.result()
            if raw is None:
                break
            at_prompt = False
            text, replaced = decode_line(raw)
            if not interactive:
                shown = text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + f"… ({len(text):,} characters)"
                console.print(f"You: {shown}", style="green", markup=False, highlight=False)
            if replaced:
                ui.show(Notice("Part of that line was not valid UTF-8 text; unreadable bytes became �."))
            if not text.strip():
                continue
            command = text.strip()
            if command in ("/quit", "/exit"):
                break
            if command == "/help":
                ui.show(Notice(HELP))
                continue
            if command.startswith("/name"):
                try:
                    ui.show(ReplyDelta(companion.rename(command[5:])))
                except InputError as exc:
                    ui.show(Notice(exc.message))
                ui.end_line()
                continue
            current = asyncio.ensure_future(_converse(companion, ui, text, show_context, at))
            try:
                await current
            except asyncio.CancelledError:
                if not current.cancelled():
                    raise
                ui.end_line(interrupted=True)
            current = None
    finally:
        if unlisten is not None:
            unlisten()
        loop.remove_signal_handler(signal.SIGINT)
        ui.end_line()
        if interactive and at_prompt:
            console.print()  # Ctrl-C or Ctrl-D left the cursor after "You: "
    if companion.memory is not None:
        await companion.memory.flush()  # derive memories from this session before leaving
    return 0


async def _converse(companion: Companion, ui: ChatUI, text: str, show_context: bool, at: datetime | None) -> None:
    try:
        async for event in companion.say(text, at=at, show_context=show_context):
            ui.show(event)
    except InputError as exc:
        ui.show(Notice(exc.message))
