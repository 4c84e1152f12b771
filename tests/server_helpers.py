"""Serving OS1's web app in tests: a companion opener around a scripted model, and a real uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from os1.companion import Companion
from os1.config import Settings
from os1.memory import Database
from os1.memory.api import Memory
from os1.testing import FakeLLM

ANSWERS = ["Theodore", "social", "we talk on Sundays", "female"]
"""First boot's answers, in order: the user's name, social, their mother, the OS's voice."""


def opener_for(llm: FakeLLM) -> Callable[[Settings, str], AbstractContextManager[Companion]]:
    """Opens the user's companion around `llm`, with memory, flushing quickly (for `create_app(opener=…)`)."""

    @contextmanager
    def opener(settings: Settings, user: str) -> Iterator[Companion]:
        db = Database(settings.db_path)
        memory = Memory(db.user(user))
        try:
            yield Companion(db.user(user), llm, memory=memory, flush_seconds=0.05)
        finally:
            memory.close()
            db.close()

    return opener


@contextmanager
def serving(app: Any, *, start_timeout: float = 30.0) -> Iterator[str]:
    """Runs the ASGI `app` under uvicorn in a background thread on a free 127.0.0.1 port; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert server.started, "uvicorn did not start (see the log above)"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
