"""The web server: the page, its static files, the WebSocket protocol and the OpenAI-compatible API.

Local single-user mode: one process serves the local user's one `Companion` (the same database, user and memory
as the terminal chat) to every session, on a loopback address only. Each session's reply runs in its own task,
so a slow model never holds up another session's frames.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from os1 import __version__
from os1.companion import Companion
from os1.config import Settings
from os1.local import LOCAL_USER, open_companion
from os1.server import openai_api
from os1.server.auth import api_key
from os1.server.gate import LocalUser, companion_of
from os1.server.protocol import RateLimit
from os1.server.session import ClientGone, Session

STATIC = Path(__file__).parent / "static"
"""The page's files (package data)."""
Opener = Callable[[Settings, str], AbstractContextManager[Companion]]
"""Opens a user's companion for the server's lifetime (the CLI's `open_companion`; tests give a lighter one)."""
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine (`localhost`, 127.0.0.0/8, ::1)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(header: str) -> str:
    """The host of a `Host` header (`name:port`, `[v6]:port`)."""
    return urlsplit("//" + header).hostname or ""


class LoopbackOnly:
    """Refuses requests whose `Host` is not a loopback name (a DNS-rebinding page cannot reach the companion)
    and WebSockets opened by a page from another origin (browsers let any page open one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            origin = headers.get("origin")
            bad_origin = origin is not None and scope["type"] == "websocket" and (
                urlsplit(origin).netloc.lower() != host.lower())
            if not is_loopback(_host_of(host)) or bad_origin:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await PlainTextResponse("Forbidden host.", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, user: str = LOCAL_USER, opener: Opener = open_companion,
               rate_limit: int = 20) -> Starlette:
    """The server for `user`'s companion, opened by `opener` when the app starts and closed when it stops.
    `rate_limit`: the most frames a WebSocket session may send in a second."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with opener(settings, user) as companion:
            api_key(companion.store)  # the key exists from the first start (`os1 key` shows it)
            app.state.companion = companion
            try:
                yield
            finally:
                if companion.memory is not None:
                    await companion.memory.flush()

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def static(request: Request) -> Response:
        path = _static_file(request.path_params["path"])
        if path is None:
            return PlainTextResponse("Not found.", status_code=404)
        return FileResponse(path, headers=PAGE_HEADERS)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "version": __version__})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()

        async def send(text: str) -> None:
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                raise ClientGone() from exc

        session = Session(companion_of(websocket), send, rate=RateLimit(rate_limit))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await session.receive(message.get("text") if message.get("text") is not None
                                      else message.get("bytes"))
        except (ClientGone, WebSocketDisconnect):
            pass
        finally:
            await session.close()

    routes = [Route("/", page), Route("/static/{path:path}", static), Route("/healthz", healthz),
              WebSocketRoute("/ws", socket), *openai_api.routes()]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(LocalUser)
    app.add_middleware(LoopbackOnly)
    return app


def _static_file(name: str) -> Path | None:
    """The file `name` inside the static folder, or None (missing, hidden, a folder, or outside it)."""
    root = STATIC.resolve()
    try:
        path = (root / name).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        return None
    return path
