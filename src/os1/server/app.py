"""The web server: the page, its static files, the WebSocket protocol and the OpenAI-compatible API.

Local single-user mode (no accounts in the database): every session talks to the local user's companion (the
terminal chat's user and memory), on a loopback address only, with no sign-in. Account mode: each signed-in
user talks to their own companion (`gate.py`, `users.py`), on any address. A server started in local mode
switches to account mode when the first account is made beside it (its local sockets are closed with 4401).
Each session's reply runs in its own task, so a slow model never holds up another session's frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from os1 import __version__
from os1.config import Settings
from os1.local import LOCAL_USER, Opener, shared_opener
from os1.memory import Database
from os1.server import login, openai_api, pages
from os1.server.accounts import Accounts
from os1.server.gate import (
    BAD_ORIGIN,
    UNAUTHORIZED,
    Gate,
    Mode,
    Watch,
    close_socket,
    companion_of,
    mode_of,
    still_admitted,
    user_id_of,
)
from os1.server.protocol import ClientGone, RateLimit
from os1.server.runtime import serving_runtime
from os1.server.session import Session
from os1.server.static_files import PAGE_HEADERS, STATIC, STATIC_HEADERS
from os1.server.users import Companions

if TYPE_CHECKING:
    from os1.server.voice import SpeechFactory

RECHECK_S = 3.0
"""How often the open sockets are checked to be still admitted (their sign-in, or local mode); each frame is
checked too."""


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


class HostGuard:
    """Refuses WebSockets opened by a page from another origin (browsers let any page open one), and in local
    mode requests whose `Host` is not a loopback name (a DNS-rebinding page cannot reach the companion). A
    refused socket is accepted and closed with 1008."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            origin = headers.get("origin")
            bad_origin = origin is not None and scope["type"] == "websocket" and (
                urlsplit(origin).netloc.lower() != host.lower())
            if bad_origin or (not mode_of(scope) and not is_loopback(_host_of(host))):
                if scope["type"] == "websocket":
                    await close_socket(receive, send, BAD_ORIGIN)
                else:
                    await PlainTextResponse("Forbidden host.", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, user: str = LOCAL_USER, opener: Opener | None = None,
               rate_limit: int = 20, accounts: bool | None = None, keep_idle: int = 256,
               user_frames_per_second: int = 40, user_requests_per_minute: int = 60,
               speech: SpeechFactory | None = None, recheck_seconds: float = RECHECK_S,
               throttle: login.Throttle | None = None, explicit_time: bool = False) -> Starlette:
    """The server. Local mode serves `user`'s companion with no sign-in, until the database has an account;
    account mode (from then on, or from the start with `accounts` True) serves each signed-in user theirs.
    Companions come from `opener` (by default one database, model and embedder shared by all users).
    `rate_limit`: the most frames one WebSocket session may send in a second; `user_frames_per_second` and
    `user_requests_per_minute` (the API) bound each user across all of their sessions; `keep_idle`: how many
    users' companions stay open unused; `speech`: builds a voice session's speech engines (None: the embedded
    Silero, PocketSphinx and Piper); `recheck_seconds`: how often the open sockets' sign-ins are checked;
    `throttle`: how wrong passwords are slowed (by default `login.Throttle()`); `explicit_time`: the socket's
    `say` and `/v1` may give the time a line was said (imports and tests; `os1 serve --explicit-time`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with serving_runtime(), contextlib.AsyncExitStack() as stack:
            db = Database(settings.db_path, group_sync=True)
            stack.callback(db.close)
            # One connection for the accounts and every companion: each connection holds the whole schema
            # (every user's full-text index), and a user's first index made on one would make the other re-read
            # it all (seconds, with thousands of users) on its next statement. Its commits sync in groups: one
            # sync of the log, off the event loop, for all the turns committed meanwhile (`Database.synced`).
            app.state.accounts = Accounts(db)
            app.state.mode = Mode(app.state.accounts, forced=bool(accounts))
            companions = Companions(settings, opener or stack.enter_context(shared_opener(settings, db=db)),
                                    users=app.state.accounts.user, keep_idle=keep_idle,
                                    frames_per_second=user_frames_per_second,
                                    requests_per_minute=user_requests_per_minute)
            app.state.companions, app.state.local_user = companions, user
            app.state.explicit_time = explicit_time
            app.state.watch = Watch(app.state.accounts, app.state.mode, every=recheck_seconds)
            stack.push_async_callback(_stopped, asyncio.create_task(app.state.watch.run()))
            if not app.state.mode.accounts_on():  # the local user's companion is ready before the first page
                local = db.user(user).user_id
                companions.acquire(local, user)
                companions.release(local)
            try:
                yield
            finally:
                await companions.close()

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def static(request: Request) -> Response:
        path = _static_file(request.path_params["path"])
        if path is None:
            return PlainTextResponse("Not found.", status_code=404)
        return FileResponse(path, headers=STATIC_HEADERS)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "version": __version__})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()

        async def send(frame: str | bytes) -> None:
            try:
                if isinstance(frame, bytes):
                    await websocket.send_bytes(frame)
                else:
                    await websocket.send_text(frame)
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                raise ClientGone("The client has gone.") from exc

        limit = websocket.app.state.companions.frame_limit(user_id_of(websocket), RateLimit(rate_limit))
        session = Session(companion_of(websocket), send, rate=limit, speech=speech, explicit_time=explicit_time)
        try:
            async with aclosing(_admitted_frames(websocket)) as frames:
                async for message in frames:
                    await session.receive(message.get("text") if message.get("text") is not None
                                          else message.get("bytes"))
        except (ClientGone, WebSocketDisconnect):
            pass
        finally:
            await session.close()

    routes = [Route("/", page), Route("/static/{path:path}", static), Route("/healthz", healthz),
              WebSocketRoute("/ws", socket), *openai_api.routes(), *login.routes(throttle),
              *pages.routes(settings)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(Gate)
    app.add_middleware(HostGuard)
    return app


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _admitted_frames(websocket: WebSocket) -> AsyncGenerator[Message, None]:
    """The socket's messages until the client leaves, each let through only while the connection is still
    admitted (`still_admitted` on each frame; the server's `Watch` for all sockets every few seconds, which
    cancels the wait for the next frame): once it is not, the socket is closed with 4401 and nothing more is
    read. No task or timer of its own per socket: thousands of idle ones cost only their entry in the watch."""
    task = asyncio.current_task()
    assert task is not None
    waiting, ended = False, False

    def end() -> None:
        nonlocal ended
        ended = True
        if waiting:
            task.cancel()

    watch: Watch = websocket.app.state.watch
    number = watch.watch(websocket, end)
    try:
        while not ended:
            waiting = True
            try:
                message = await websocket.receive()
            except asyncio.CancelledError:
                if not ended:  # the server is stopping
                    raise
                task.uncancel()
                break
            finally:
                waiting = False
            if ended or not still_admitted(websocket):
                break
            if message["type"] == "websocket.disconnect":
                return
            yield message
        with contextlib.suppress(RuntimeError, OSError):
            await websocket.close(UNAUTHORIZED)
    finally:
        watch.forget(number)


def has_accounts(settings: Settings) -> bool:
    """Whether the database at `settings` has accounts (the server then needs sign-in)."""
    if not settings.db_path.exists():
        return False
    db = Database(settings.db_path)
    try:
        return Accounts(db).exist()
    finally:
        db.close()


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
