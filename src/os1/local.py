"""Opening users' companions: one at a time for the terminal and the voice loop, many at once for the server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from rich.console import Console

from os1.companion import Companion
from os1.config import Settings
from os1.errors import ModelUnavailable
from os1.llm.base import LLM
from os1.memory.api import Memory, Workers
from os1.memory.embeddings import MiniLMEmbedder
from os1.memory.llm_extract import LLMExtractor
from os1.memory.store import Database, UserStore
from os1.skills.executor import Executor
from os1.skills.mcp import skills_router

LOCAL_USER = "local"
"""The one user of local single-user mode."""
Opener = Callable[[Settings, str], AbstractContextManager[Companion]]
"""Opens one user's companion for as long as the context lasts."""


@contextmanager
def open_companion(settings: Settings, user: str = LOCAL_USER, console: Console | None = None) -> Iterator[Companion]:
    """Open the user's store, model and memory, give their companion, and close everything afterwards."""
    from os1.llm import open_model

    db = Database(settings.db_path)
    memory: Memory | None = None
    try:
        store = db.user(user)
        llm = open_model(settings.model, settings)
        memory = open_memory(store, console, llm)
        router = skills_router(settings, _warner(console))
        yield Companion(store, llm, max_reply_tokens=settings.max_reply_tokens, temperature=settings.temperature,
                        memory=memory, voice_llm=voice_llm(llm, settings), skills=Executor(router))
    finally:
        if memory is not None:
            memory.close()
        db.close()


@contextmanager
def shared_opener(settings: Settings, console: Console | None = None, db: Database | None = None, *,
                  embed: bool = True) -> Iterator[Opener]:
    """An opener for the many users of one server: they share one database connection (`db`, else one of
    its own), one model, one sentence embedder (none with `embed` False: memory by keywords only) and
    memory's threads; each user has their own store, memory and companion."""
    from os1.llm import open_model

    own = db is None
    db = db or Database(settings.db_path, group_sync=True)
    workers = Workers()
    try:
        llm = open_model(settings.model, settings)
        embedder = default_embedder(console) if embed else None
        extractor = model_extractor(llm)
        voice = voice_llm(llm, settings)
        router = skills_router(settings, _warner(console))  # the MCP servers' tools are listed once, here

        @contextmanager
        def opener(settings: Settings, user: str) -> Iterator[Companion]:
            store = db.user(user)
            memory = Memory(store, embedder=embedder, extractor=extractor, workers=workers)
            try:
                yield Companion(store, llm, max_reply_tokens=settings.max_reply_tokens,
                                temperature=settings.temperature, memory=memory, voice_llm=voice,
                                skills=Executor(router))
            finally:
                memory.close()

        yield opener
    finally:
        workers.close()
        if own:
            db.close()


def _warner(console: Console | None) -> Callable[[str], None] | None:
    """Where a skill's start-up warning (an MCP server that cannot start) is shown: `console`, else stderr."""
    if console is None:
        return None
    return lambda message: console.print(f"({message})", style="dim", markup=False)


def voice_llm(llm: LLM, settings: Settings) -> LLM | None:
    """What writes spoken replies: `settings.voice_opener` saying the first words and `llm` the rest, when `llm`
    is a large local model (`llm/relay.py`; the opener is loaded when first needed), else None (`llm` itself)."""
    from os1.llm import open_model
    from os1.llm.relay import voice_model

    if settings.voice_opener in ("", "none") or settings.voice_opener == llm.name:
        return None
    return voice_model(llm, lambda: open_model(settings.voice_opener, settings))


RULES_ONLY = ("embedded", "fake")
"""Models too small (or too scripted) to extract memories: the deterministic rules do it alone."""


def open_memory(store: UserStore, console: Console | None = None, llm: LLM | None = None) -> Memory:
    """The user's memory with the default embedder (full-text only, with a notice, if it is missing), and the
    conversation's model as an extra extractor when it is a capable one."""
    return Memory(store, embedder=default_embedder(console), extractor=model_extractor(llm))


def default_embedder(console: Console | None = None) -> MiniLMEmbedder | None:
    """The bundled sentence embedder, or None (memory then works by keywords; `console` is told why)."""
    try:
        return MiniLMEmbedder(threads=1)
    except ModelUnavailable as exc:
        if console is not None:
            console.print(f"(Memory works by keywords only: {exc.message} {exc.hint})", style="dim", markup=False)
        return None


def model_extractor(llm: LLM | None) -> LLMExtractor | None:
    """The conversation's model as an extra memory extractor, when it is capable enough to be one."""
    return LLMExtractor(llm) if llm is not None and llm.name.split(":")[0] not in RULES_ONLY else None
