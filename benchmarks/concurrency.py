"""Many people at once: N concurrent WebSocket sessions, each its own user, against one server process.

    .venv/bin/python benchmarks/concurrency.py        # 8,316 sessions, a line a minute each, 300 s measured
    .venv/bin/python benchmarks/concurrency.py --quick                  # 200 sessions, 15 s: a smoke run
    .venv/bin/python benchmarks/concurrency.py --embedder none          # memory by keywords only

In *Her* the OS talks with 8,316 people at once, each privately. Here each session is its own account. Before
the server starts, N accounts are made in a fresh OS1 home (one argon2 hash, made once, serves every password:
hashing 8,316 of them would take minutes and no password is ever checked), each is signed in
(`Accounts.sign_in`: the cookie's token) and each is past first boot (profile answers and the OS's name stored,
and each has a past conversation a week old, remembered as OS1 remembers (`PAST`: six turns in the full-text
index, with their vectors and the items derived from them), as for anyone who has talked to OS1 before: every
measured turn then embeds its query and scans the user's vectors. Making N users' full-text tables takes time
quadratic in N (8,316: about 9 minutes with the past conversations), so the database made is kept in the temp
folder and copied for the next runs (`--fresh-setup` makes it anew).

The server is what `os1 serve` runs once accounts exist: `create_app(settings, accounts=True)` under uvicorn
(uvloop, httptools, log level warning, the same WebSocket size limit), alone in its own process, with the
default opener (`shared_opener`: one database, one model, one sentence embedder and memory's threads for every
user). Everything is real but the model: the gate resolving each socket's `os1_session` cookie, the protocol,
the SQLite store with every turn synced before it is answered, the memory (the user's turn indexed at once,
recall per turn: full-text search, and with the embedder the query embedded and the vectors scanned; items and
vectors made in the background). The model is a scripted one registered through the plugin hook as any backend
is: the same 16-word reply to everything, streamed word by word with no delay, so a turn's whole time is what
the server adds. Named `fake` as `FakeLLM` is (memory then extracts items by its rules alone, as with the
embedded model `os1 serve` uses by default); not `FakeLLM` itself, which keeps every message list it is given:
over tens of thousands of turns, hundreds of MB of objects that would slow the garbage collector down for a
reason no real model has.

`--embedder` picks memory's sentence embedder: `minilm` (default) is the server's own default, the bundled
all-MiniLM-L6-v2 (the query embedded on a worker thread at each turn, and each turn embedded in the
background with its neighbours as context: several ms of CPU each, paced to a quarter of a core while replies
are being made, so the work left over waits in the database); `none` is the same companions with memory by
keywords only (`shared_opener(embed=False)`, on a database connection of its own beside
the accounts'), what the server adds without it.

The load comes from `--clients` processes (2 cores run server and clients together, so the clients are lean:
uvloop and a small WebSocket client of their own). Each session connects with its cookie and a same-origin
`Origin`, as a browser does, sends `hello` and reads `ready` and the opening (welcome back); connections are
made `--batch` at a time per client (the kernel's accept queue holds 4,096). With every session connected and
idle, memory per idle session = (server RSS now − RSS of the started server with no session) / N. Then each
session says one line at a random moment of a warm-up (`--warmup`, by default as long as `--interval` and at
least 120 s), its first since the server started (opening the user's companion and loading their vectors),
reported apart. Then the measured `--duration`: each
session's turns arrive as a Poisson process with a mean of `--interval` seconds between them (people do not all
talk at once: a line a minute each is a steady conversation, typing and reading between lines), each turn
`say` → wait for `reply_done`, and its latency is the client's time from sending `say` to reading `reply_done`
(the scripted model adds about nothing). Turns started before the window ends are awaited. A turn answered by an
`error` (`busy`, `rate_limited`…), a reply not `complete`, a lost connection or no reply in 60 s is an error.

It prints the machine, the load average before and after (other work on the machine slows the server), the CPU
the server and the clients used, the server's pauses in the window (its event loop late by over 50 ms for a
10 ms timer, garbage collections over 20 ms, syncs of the log to disk over 50 ms: when, and how long), the
background memory work left undone when the turns ended (the embedder falling behind), and ends with one JSON
line:
`{"sessions": N, "p99_ms": …, "kb_per_idle_session": …}`.
`--profile FILE` runs the server under cProfile (slower; its event loop's thread only) and prints its busiest
functions; `--timeline FILE` keeps every measured turn's start and latency.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine, percentile

REPLY = "That sounds like a lot to carry. Tell me more about how it felt for you."
"""The scripted model's answer to everything: 16 words, a natural length for a chat line."""
LINES = [
    "I had a strange day at work today.", "My friend Amy is coming over tonight.", "What should I cook for dinner?",
    "I think I will make pasta with basil.", "Do you like music?", "I have been learning the piano lately.",
    "It is raining outside again.", "I feel a little tired this evening.", "Tell me something nice.",
    "I miss my mother sometimes.", "We used to walk by the lake when I was a kid.", "I want to write a letter.",
    "It is for my sister Lucy in Boston.", "I should go to bed early tonight.", "Thank you for listening to me.",
    "My boss liked the project I finished.", "I went running in the park this morning.",
    "Sometimes the city feels very quiet at night.", "I bought a new book about the ocean.",
    "Do you ever think about what you want?", "Paul called me and we talked for an hour.",
    "I keep thinking about the trip to Portland.", "The coffee at the new place was good.", "Good night.",
]
PAST = [
    ("user", "I started a new job at the design studio last week."),
    ("assistant", "A new job! How are the people there treating you so far?"),
    ("user", "Everyone is kind, but I still get lost in the building."),
    ("assistant", "That passes quickly. What is the work itself like?"),
    ("user", "I draw letters for a big card company, and I love it."),
    ("assistant", "Drawing letters for a living sounds lovely. Tell me about your favourite one so far."),
]
"""Each user's past conversation, a week before the benchmark: a returning user has memories (turns with
their vectors, items), so every measured turn embeds its query and scans vectors, as in real use."""
NAMES = ["Theodore", "Amy", "Catherine", "Paul", "Isabella", "Charles", "Lucy", "Lewman", "Tatiana", "Jocelyn"]
WS_MAX_BYTES = 1024 * 1024  # as `os1 serve` (cli/serve.py, WS_MAX_BYTES)
TURN_TIMEOUT_S = 60.0
SLOW_MS = 250
HELLO_TIMEOUT_S = 120.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def raise_fd_limit() -> int:
    """Raise this process's soft limit of open files to the hard limit (each socket is one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# The server process --------------------------------------------------------------------------------------

def serve(home: Path, port: int, embedder: str, profile: str) -> None:
    """Run the OS1 server as `os1 serve` would with accounts, on loopback, until SIGINT/SIGTERM."""
    raise_fd_limit()
    import uvicorn

    from os1.config import Settings
    from os1.llm.base import LLM, Message
    from os1.local import shared_opener
    from os1.plugins import hookimpl, plugin_manager
    from os1.server.app import create_app

    words = REPLY.split(" ")

    class ScriptedLLM(LLM):
        """The same reply to everything, streamed word by word with no delay. Named `fake` as `FakeLLM` is: a
        scripted model, so memory extracts items with its rules only (`local.RULES_ONLY`), as it does with
        the embedded model `os1 serve` uses by default."""

        name = "fake"

        def __init__(self, context_tokens: int) -> None:
            self.context_tokens = context_tokens

        async def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
                         temperature: float = 0.7) -> AsyncGenerator[str, None]:
            for i, word in enumerate(words[:max_tokens]):
                yield word if i == 0 else " " + word

    class BenchModels:
        @hookimpl
        def register_models(self, register: Any) -> None:
            register("bench", lambda arg, settings: ScriptedLLM(settings.context_tokens),
                     "The concurrency benchmark's scripted model")

    plugin_manager().register(BenchModels())
    settings = Settings(home=home, model="bench")
    with contextlib.ExitStack() as stack:
        opener = stack.enter_context(shared_opener(settings, embed=False)) if embedder == "none" else None
        app = watched(create_app(settings, opener=opener, accounts=True), home / STALLS)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                                log_level="warning", ws_max_size=WS_MAX_BYTES, backlog=16384, lifespan="on")
        server = uvicorn.Server(config)
        if not profile:
            with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT that stops it, once stopped
                server.run()
            return
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            server.run()
        finally:
            profiler.disable()
            profiler.dump_stats(profile)


STALLS = "stalls.jsonl"
LAG_STEP_S = 0.01
LAG_MS = 50.0
GC_MS = 20.0


def watched(app: Any, path: Path) -> Any:
    """The app, with the server's pauses written to `path` as they happen (one JSON line each, times on the
    system's monotonic clock, which the clients share): garbage collections over `GC_MS`, and the event loop
    late by more than `LAG_MS` for a 10 ms timer (whatever held it: a collection, a slow statement, a queue), and
    syncs of the database's log to disk over `LAG_MS` (every turn waits for one)."""
    import gc

    out = path.open("a", buffering=1)
    began: list[float] = []
    fsync = os.fsync

    def timed_fsync(fd: Any) -> None:  # the group sync's thread: a slow disk holds every turn's `turn_stored`
        start = time.monotonic()
        try:
            fsync(fd)
        finally:
            if (ms := (time.monotonic() - start) * 1000) > LAG_MS:
                out.write(json.dumps({"fsync": round(ms, 1), "at": start}) + "\n")

    os.fsync = timed_fsync

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[:] = [time.monotonic()]
        elif began and (ms := (time.monotonic() - began[0]) * 1000) > GC_MS:
            out.write(json.dumps({"gc": info["generation"], "at": began[0], "ms": round(ms, 1)}) + "\n")

    async def watch() -> None:
        while True:
            due = time.monotonic() + LAG_STEP_S
            await asyncio.sleep(LAG_STEP_S)
            if (late := (time.monotonic() - due) * 1000) > LAG_MS:
                out.write(json.dumps({"lag": round(late, 1), "at": due}) + "\n")

    tasks: list[asyncio.Task[None]] = []

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" and not tasks:
            gc.callbacks.append(collected)
            tasks.append(asyncio.get_running_loop().create_task(watch()))
        await app(scope, receive, send)

    return wrapper


def stalls_report(path: Path, start: float, end: float) -> str:
    """What `watched` saw during the measured window."""
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    events = [e for e in events if start <= e["at"] <= end]
    lags = sorted((e for e in events if "lag" in e), key=lambda e: -e["lag"])
    syncs = sorted((e for e in events if "fsync" in e), key=lambda e: -e["fsync"])
    slow_syncs = ", ".join(f"{e['at'] - start:.0f} s: {e['fsync']:.0f} ms"
                           for e in sorted(syncs[:6], key=lambda e: e["at"]))
    collections = Counter(e["gc"] for e in events if "gc" in e)
    longest = {g: max(e["ms"] for e in events if e.get("gc") == g) for g in collections}
    worst = ", ".join(f"{e['at'] - start:.0f} s: {e['lag']:.0f} ms" for e in sorted(lags[:6], key=lambda e: e["at"]))
    return (f"event loop late over {LAG_MS:.0f} ms: {len(lags)} times" + (f" (longest {worst})" if lags else "")
            + "; collections over {:.0f} ms: {}".format(GC_MS, ", ".join(
                f"generation {g}: {n} (longest {longest[g]:.0f} ms)" for g, n in sorted(collections.items()))
                or "none")
            + f"; fsyncs over {LAG_MS:.0f} ms: {len(syncs)}" + (f" (longest {slow_syncs})" if syncs else ""))


# Setting up the users ------------------------------------------------------------------------------------

def same_lines_embedder() -> Any:
    """The bundled MiniLM with each distinct text embedded once: every user's past conversation is the same
    lines (their speakers' names come from a short list), so 8,316 users' vectors cost a few dozen embeddings.
    (An `Embedder` made here: the client processes never import OS1.)"""
    from os1.memory.embeddings import Embedder, MiniLMEmbedder

    model = MiniLMEmbedder(threads=1)
    seen: dict[str, Any] = {}

    class SameLines(Embedder):
        name, dim = model.name, model.dim

        def embed(self, texts: Sequence[str]) -> Any:
            import numpy

            missing = [t for t in dict.fromkeys(texts) if t not in seen]
            for text, vector in zip(missing, model.embed(missing), strict=True):
                seen[text] = vector
            return numpy.stack([seen[t] for t in texts]) if texts else model.embed([])

    return SameLines()


def make_users(home: Path, n: int) -> list[tuple[str, str]]:
    """N accounts in a fresh OS1 home, each signed in, past first boot, and with a past conversation remembered
    as OS1 remembers it (full-text index, vectors, items): [(name, cookie token)]."""
    from datetime import timedelta

    from argon2 import PasswordHasher

    from os1.memory import Database
    from os1.memory.api import Memory, Workers
    from os1.memory.store import now
    from os1.server.accounts import Accounts

    embedder = same_lines_embedder()
    workers = Workers()
    week_ago = now() - timedelta(days=7)

    password_hash = PasswordHasher().hash(secrets.token_urlsafe(16))
    db = Database(home / "os1.db")
    accounts = Accounts(db)
    users: list[tuple[str, str]] = []

    async def remember_past(memory: Memory, user_name: str) -> None:
        session = memory.store.start_session(week_ago)
        for minute, (role, text) in enumerate(PAST):
            memory.remember(text, speaker=user_name if role == "user" else "Samantha", role=role,
                            at=week_ago + timedelta(minutes=minute), session_id=session)
        await memory.flush()
        memory.close()

    db.execute("BEGIN")
    try:
        for i in range(n):
            name = f"user{i:05d}"
            accounts.add(name, "", password_hash=password_hash)
            token, _ = accounts.sign_in(name)
            store = db.user(name)
            user_name = NAMES[i % len(NAMES)]
            for key, value in {"user.name": user_name, "user.social": "social",
                               "user.mother": "we talk on Sundays", "user.voice": "female",
                               "os.name": "Samantha"}.items():
                store.set(key, value)
            asyncio.run(remember_past(Memory(store, embedder=embedder, workers=workers), user_name))
            users.append((name, token))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        workers.close()
        db.close()
    return users


def prepared_users(home: Path, n: int, *, fresh: bool = False) -> tuple[list[tuple[str, str]], bool]:
    """`make_users` in `home`, or a copy of its saved result: making N users' full-text indexes costs time
    quadratic in N (SQLite scans its schema for each new table; 8,316 take minutes), so the database it made
    is kept in the temp folder, keyed by N, this code and the schema version, and copied into each run's home.
    Returns the users and whether the set-up was a copy."""
    import inspect

    from os1.memory.migrations import MIGRATIONS

    key = hashlib.sha1((inspect.getsource(make_users) + repr(NAMES) + repr(PAST) + str(len(MIGRATIONS))).encode())\
        .hexdigest()
    saved = Path(tempfile.gettempdir()) / f"os1-concurrency-{n}-{key[:12]}"
    if not fresh and (saved / "users.json").exists():
        shutil.copyfile(saved / "os1.db", home / "os1.db")
        users = [(str(name), str(token)) for name, token in json.loads((saved / "users.json").read_text())]
        return users, True
    users = make_users(home, n)
    partial = saved.with_name(saved.name + f".{os.getpid()}")
    partial.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(home / "os1.db", partial / "os1.db")  # make_users closed the database: no WAL left
    (partial / "users.json").write_text(json.dumps(users))
    shutil.rmtree(saved, ignore_errors=True)
    partial.rename(saved)
    return users, False


def check_lines() -> None:
    """Every line goes to the model (none is for a skill: a rename, a request to forget, a timer…)."""
    from os1.skills.executor import installed_router

    router = installed_router()
    for line in LINES:
        assert router.match(line) is None, f"{line!r} is for {router.match(line)}"


# The clients ---------------------------------------------------------------------------------------------

def ws_frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame."""
    n = len(payload)
    head = bytes([0x80 | opcode, 0x80 | n]) if n < 126 else bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    mask = os.urandom(4)
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")
    return head + mask + masked


class Socket(asyncio.Protocol):
    """A lean WebSocket client connection: the handshake, unmasked server frames, pings answered."""

    def __init__(self, stats: Counter[str]) -> None:
        self.stats = stats
        self.transport: Any = None
        self.buffer = bytearray()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.accept = b""
        self.want = ""
        self.waiter: asyncio.Future[float] | None = None
        self.stored_at = 0.0
        self.seen: Counter[str] = Counter()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def handshake(self, port: int, token: str) -> None:
        key = base64.b64encode(os.urandom(16))
        self.accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        assert self.transport is not None
        self.transport.write(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%d\r\n"
            b"Cookie: os1_session=%s\r\n\r\n" % (port, key, port, token.encode()))

    def send(self, event: dict[str, Any]) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(ws_frame(0x1, json.dumps(event).encode()))

    def expect(self, kind: str) -> asyncio.Future[float]:
        """A future of the time (perf_counter) the next `kind` event is read."""
        self.want = kind
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.opened.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            del buf[:end + 4]
            if not head.startswith(b"http/1.1 101") or b"sec-websocket-accept: " + self.accept.lower() not in head:
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode("latin-1")))
                assert self.transport is not None
                self.transport.close()
                return
            self.opened.set_result(None)
        while len(buf) >= 2:
            opcode, size, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, at = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + size:
                return
            payload = bytes(buf[at:at + size])
            del buf[:at + size]
            self.frame(opcode, payload)

    def frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x9:  # ping
            self.transport.write(ws_frame(0xA, payload))
            return
        if opcode == 0x8:  # close
            self.stats["closed_by_server"] += 1
            self.transport.write(ws_frame(0x8, payload[:2]))
            self.transport.close()
            return
        if opcode != 0x1:
            self.stats[f"opcode_{opcode}"] += 1
            return
        at = time.perf_counter()
        event = json.loads(payload)
        kind = event.get("type")
        self.seen[kind] += 1
        waiter = self.waiter
        if kind == "turn_stored":
            self.stored_at = at
        elif kind == "error":
            self.stats["error:" + str(event.get("code"))] += 1
            if waiter is not None and not waiter.done():
                waiter.set_exception(RuntimeError(str(event.get("code"))))
            return
        elif kind == "reply_done" and event.get("status") != "complete":
            self.stats["reply_" + str(event.get("status"))] += 1
            if waiter is not None and not waiter.done():
                waiter.set_exception(RuntimeError(str(event.get("status"))))
            return
        if kind == self.want and waiter is not None and not waiter.done():
            waiter.set_result(at)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for future in (self.opened, self.waiter):
            if future is not None and not future.done():
                future.set_exception(ConnectionError("connection lost"))


class Client:
    """One load process: its share of the sessions."""

    def __init__(self, users: list[tuple[str, str]], port: int, pipe: Connection, interval: float, seed: int,
                 batch: int) -> None:
        self.users, self.port, self.pipe, self.interval, self.batch = users, port, pipe, interval, batch
        self.random = random.Random(seed)
        self.stats: Counter[str] = Counter()
        self.done_ms: list[float] = []
        self.stored_ms: list[float] = []
        self.sent_at: list[float] = []
        self.warm_ms: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.batch)
        began = time.monotonic()
        opened = await asyncio.gather(*(self.open(name, token, gate) for name, token in self.users))
        sockets = [s for s in opened if s is not None]
        self.pipe.send(("connected", len(sockets), time.monotonic() - began, dict(self.stats)))
        message = await loop.run_in_executor(None, self.pipe.recv)
        assert message[0] == "go"
        warm, start, end = message[1:]
        await asyncio.gather(*(self.warm_up(s, warm, start) for s in sockets))
        self.pipe.send(("warm", self.warm_ms, dict(self.stats)))
        self.stats.clear()
        cpu = os.times()
        await asyncio.gather(*(self.talk(s, start, end) for s in sockets))
        used = os.times()
        for s in sockets:
            if s.transport is not None:
                s.transport.close()
        self.pipe.send(("done", self.done_ms, self.stored_ms, self.sent_at, dict(self.stats),
                        (used.user - cpu.user) + (used.system - cpu.system)))

    async def open(self, name: str, token: str, gate: asyncio.Semaphore) -> Socket | None:
        loop = asyncio.get_running_loop()
        async with gate:
            try:
                transport, sock = await loop.create_connection(lambda: Socket(self.stats), "127.0.0.1", self.port)
                sock.transport = transport
                sock.handshake(self.port, token)
                await asyncio.wait_for(sock.opened, HELLO_TIMEOUT_S)
                opening = sock.expect("delta")  # ready, then the welcome back
                sock.send({"v": 1, "type": "hello"})
                await asyncio.wait_for(opening, HELLO_TIMEOUT_S)
                if not sock.seen["ready"]:
                    raise ConnectionError("no ready before the opening")
                return sock
            except (TimeoutError, OSError, RuntimeError) as exc:
                self.stats["connect_failed:" + type(exc).__name__ + ":" + str(exc)[:60]] += 1
                return None

    async def warm_up(self, sock: Socket, start: float, end: float) -> None:
        """One turn at a random moment before the measurement: the session's first since the server started."""
        if end > start:
            ms = await self.turn(sock, start + self.random.random() * (end - start))
            if ms is not None:
                self.warm_ms.append(ms[0])

    async def talk(self, sock: Socket, start: float, end: float) -> None:
        """Turns as a Poisson process from `start` until `end`."""
        at = start
        while True:
            at += self.random.expovariate(1.0 / self.interval)
            if at >= end:
                return
            ms = await self.turn(sock, at)
            if ms is not None:
                self.done_ms.append(ms[0])
                self.stored_ms.append(ms[1])
                self.sent_at.append(at)
            at = max(at, time.monotonic())

    async def turn(self, sock: Socket, at: float) -> tuple[float, float] | None:
        """Say a line at `at` (monotonic) and wait for the reply: (ms to reply_done, ms to turn_stored)."""
        wait = at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if sock.closed:
            self.stats["turn_on_closed_socket"] += 1
            return None
        done = sock.expect("reply_done")
        at, sent = time.monotonic(), time.perf_counter()
        sock.send({"v": 1, "type": "say", "text": self.random.choice(LINES)})
        try:
            finished = await asyncio.wait_for(done, TURN_TIMEOUT_S)
        except TimeoutError:
            self.stats["turn_timeout"] += 1
            return None
        except (RuntimeError, ConnectionError) as exc:
            self.stats["turn_failed:" + str(exc)] += 1
            return None
        return 1000 * (finished - sent), 1000 * (sock.stored_at - sent)


def client_main(users: list[tuple[str, str]], port: int, pipe: Connection, interval: float, seed: int,
                batch: int) -> None:
    raise_fd_limit()
    import uvloop

    client = Client(users, port, pipe, interval, seed, batch)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(client.run())


# The run -------------------------------------------------------------------------------------------------

def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pending_turns(home: Path) -> int:
    """Turns whose background memory work (items, vectors) the server has not done yet."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"file:{home / 'os1.db'}?mode=ro", uri=True, timeout=30)) as db:
        return int(db.execute("SELECT count(*) FROM turns WHERE indexed != 1 AND status = 'complete'").fetchone()[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server exited with {server.returncode}.")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                                   timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit("The server did not start.")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)  # it finishes every user's pending memory work first: not needed here
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def print_profile(path: str) -> None:
    import pstats

    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=8316, help="concurrent sessions, one user each")
    parser.add_argument("--interval", type=float, default=60.0, help="mean seconds between a session's turns")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of measured talking")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds in which each session first says one line, not measured "
                             "(default: --interval, at least 120)")
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument("--batch", type=int, default=64, help="connections each client opens at once")
    parser.add_argument("--embedder", choices=["minilm", "none"], default="minilm",
                        help="memory's sentence embedder: the bundled MiniLM (the server's default) or none")
    parser.add_argument("--quick", action="store_true", help="200 sessions, 15 s, a turn every 10 s each")
    parser.add_argument("--timeline", default="", help="write each measured turn's start and latency here (JSON)")
    parser.add_argument("--profile", default="", help="run the server under cProfile, stats to this file")
    parser.add_argument("--seed", type=int, default=8316)
    parser.add_argument("--keep-home", action="store_true", help="keep the run's OS1 home (database, server log)")
    parser.add_argument("--fresh-setup", action="store_true", help="make the users anew, not from a saved set-up")
    parser.add_argument("--serve", default="", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), args.port, args.embedder, args.profile)
        return
    if args.quick:
        args.sessions, args.duration, args.interval = 200, 15.0, 10.0
    if args.warmup is None:
        args.warmup = args.interval if args.quick else max(args.interval, 120.0)
    limit = raise_fd_limit()
    if args.sessions // args.clients + 64 > limit or args.sessions + 256 > limit:
        raise SystemExit(f"Too many sessions for the open-file limit ({limit}).")
    check_lines()
    print(f"machine: {machine()}")
    print(f"load average before: {load()}")
    print(f"{args.sessions} sessions, a turn every {args.interval:g} s each on average "
          f"({args.sessions / args.interval:.1f} turns/s expected), {args.duration:g} s measured, "
          f"{args.clients} client processes, embedder {args.embedder}")

    home = Path(tempfile.mkdtemp(prefix="os1-concurrency-"))
    began = time.monotonic()
    users, reused = prepared_users(home, args.sessions, fresh=args.fresh_setup)
    print(f"setup: {len(users)} accounts signed in, past first boot, in {time.monotonic() - began:.1f} s "
          f"({'copied from a saved set-up' if reused else 'made now'}; {home})")

    port = free_port()
    command = [sys.executable, __file__, "--serve", str(home), "--port", str(port), "--embedder", args.embedder]
    if args.profile:
        command += ["--profile", args.profile]
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, server)
        time.sleep(2.0)
        rss_empty = rss_kb(server.pid)
        print(f"server started: pid {server.pid}, RSS {rss_empty / 1024:.1f} MiB with no session")

        context = mp.get_context("fork")
        pipes: list[Connection] = []
        procs = []
        for k in range(args.clients):
            mine, theirs = context.Pipe()
            proc = context.Process(target=client_main, args=(users[k::args.clients], port, theirs, args.interval,
                                                             args.seed + k, args.batch), daemon=True)
            proc.start()
            pipes.append(mine)
            procs.append(proc)
        began = time.monotonic()
        connected = [pipe.recv() for pipe in pipes]
        ramp = time.monotonic() - began
        sessions = sum(c[1] for c in connected)
        failures = Counter[str]()
        for c in connected:
            failures.update(c[3])
        print(f"connected: {sessions} of {args.sessions} sessions (hello, ready, welcome back) in {ramp:.1f} s "
              f"({sessions / ramp:.0f}/s)" + (f"; failures: {dict(failures)}" if failures else ""))
        time.sleep(3.0)
        rss_idle = rss_kb(server.pid)
        kb_per_session = (rss_idle - rss_empty) / max(sessions, 1)
        print(f"server RSS with {sessions} idle sessions: {rss_idle / 1024:.1f} MiB "
              f"({kb_per_session:.1f} KB per idle session)")

        warm = time.monotonic() + 1.0
        start = warm + args.warmup
        end = start + args.duration
        for pipe in pipes:
            pipe.send(("go", warm, start, end))
        warmed = [pipe.recv() for pipe in pipes]
        cpu_before = cpu_s(server.pid)
        results = [pipe.recv() for pipe in pipes]
        cpu_server = cpu_s(server.pid) - cpu_before
        rss_after = rss_kb(server.pid)
        for proc in procs:
            proc.join(30)
        backlog = pending_turns(home)
        stalls = stalls_report(home / STALLS, start, end)
    finally:
        stop(server)
        log.close()
        if server.returncode not in (0, -signal.SIGINT):
            print((home / "server.log").read_text(errors="replace")[-4000:])
        if not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)

    done = [x for r in results for x in r[1]]
    stored = [x for r in results for x in r[2]]
    first = [x for r in warmed for x in r[1]]
    warm_stats = Counter[str]()
    for r in warmed:
        warm_stats.update(r[2])
    sent_at = [x for r in results for x in r[3]]
    stats = Counter[str]()
    for r in results:
        stats.update(r[4])
    cpu_clients = sum(r[5] for r in results)
    errors = sum(v for k, v in stats.items() if k.startswith(("turn_", "error:", "reply_")))
    window = end - start
    if not done:
        raise SystemExit(f"No turn was answered: {dict(stats)}")
    p = {q: percentile(done, q) for q in (50, 95, 99, 100)}
    if first:
        print(f"warm-up, each session's first turn since the server started ({len(first)} turns in "
              f"{args.warmup:g} s): p50 {percentile(first, 50):.1f} ms, p99 {percentile(first, 99):.1f} ms, "
              f"max {max(first):.1f} ms" + (f"; {dict(warm_stats)}" if warm_stats else ""))
    print(f"turns: {len(done)} answered in {window:.0f} s ({len(done) / window:.1f}/s), {errors} errors"
          + (f" {dict(stats)}" if stats else ""))
    print(f"say → reply_done: p50 {p[50]:.1f} ms, p95 {p[95]:.1f} ms, p99 {p[99]:.1f} ms, max {p[100]:.1f} ms")
    slow = Counter(int(at - start) for at, ms in zip(sent_at, done, strict=True) if ms > SLOW_MS)
    if slow:
        worst = ", ".join(f"{second} s: {count}" for second, count in sorted(slow.most_common(6)))
        print(f"turns over {SLOW_MS} ms: {sum(slow.values())}, in {len(slow)} of the window's seconds; "
              f"the most in (seconds after its start: turns) {worst}")
    if args.timeline:
        Path(args.timeline).write_text(json.dumps({"start": start, "turns": [[round(at - start, 3), round(ms, 1)]
                                                   for at, ms in zip(sent_at, done, strict=True)]}))
    print(f"say → turn_stored: p50 {percentile(stored, 50):.1f} ms, p99 {percentile(stored, 99):.1f} ms")
    print(f"CPU: server {cpu_server:.1f} s ({100 * cpu_server / window:.0f}% of one core, "
          f"{1000 * cpu_server / len(done):.1f} ms per turn), clients {cpu_clients:.1f} s; "
          f"server RSS after the turns {rss_after / 1024:.1f} MiB")
    print(f"pauses in the window: {stalls}")
    print(f"background memory work not done when the turns ended: {backlog} turns")
    print(f"load average after: {load()}")
    if args.profile:
        print_profile(args.profile)
    print(json.dumps({"sessions": sessions, "p99_ms": round(p[99], 1),
                      "kb_per_idle_session": round(kb_per_session, 1)}))


if __name__ == "__main__":
    main()
