"""Who a request or WebSocket belongs to, and whether it may change anything.

The gate runs before every route. It finds the user (local mode: the local user; account mode: the signed-in
account of the `os1_session` cookie; for `/v1` the owner of the bearer key, in account mode only a user who has
an account), holds that user's companion for the length of the request or socket and puts it in the
connection's state (`companion_of`). It refuses:
- a page, `/api` call or socket without a valid sign-in in account mode (a page is sent to `/login`, an API
  call gets 401, a socket is accepted and closed with 4401, so the page can tell it from a bad origin's 1008);
- a POST, PUT, PATCH or DELETE (other than `/v1`, authenticated by its key, and `/login`, which checks its
  form's token itself) whose `X-CSRF-Token` header is not the browser's CSRF token. The token is the
  `os1_csrf` cookie, readable by the page's own scripts only; once signed in it must also be the sign-in's own.

The mode is the database's, checked on each request (`Mode`): a server started in local mode switches to
account mode for good as soon as an account exists (`os1 user add` beside it). An open socket asks
`still_admitted` on each frame, and `Watch` checks every open socket at once every few seconds: one is closed
with 4401 once its sign-in has ended (signed out, a new password, the account removed) or its local mode has.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import secrets
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from os1.companion import Companion
from os1.errors import StorageError
from os1.server.accounts import Accounts, SignIn, UserRef, digest
from os1.server.auth import bearer_key, key_owner
from os1.server.users import Companions, UserGone

SESSION_COOKIE = "os1_session"
CSRF_COOKIE = "os1_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC = ("/login", "/static/", "/healthz")
"""Paths anyone may reach (prefixes)."""
UNAUTHORIZED = 4401
"""The close code of a socket opened without a sign-in, or whose sign-in has ended."""
BAD_ORIGIN = 1008
"""The close code of a socket opened by a page of another origin (or, in local mode, another host)."""


class Mode:
    """Local or account mode, as the database says now. Account mode is for good: once an account has existed,
    removing every account does not make a running server serve anyone without a sign-in."""

    def __init__(self, accounts: Accounts, *, forced: bool = False) -> None:
        self.accounts = accounts
        self._on = forced

    def accounts_on(self) -> bool:
        """Whether everyone must sign in (one cheap query while in local mode)."""
        if not self._on and self.accounts.exist():
            self._on = True
        return self._on


class Watch:
    """Every open socket's admission, checked for all of them at once (`sweep`, every `every` seconds by `run`):
    a few queries however many sockets are open, where a timer per socket would wake thousands of them."""

    def __init__(self, accounts: Accounts, mode: Mode, *, every: float) -> None:
        self.accounts, self.mode, self.every = accounts, mode, every
        self._sockets: dict[int, tuple[tuple[str, int] | None, Callable[[], None]]] = {}
        """A socket's number → its sign-in (token hash, user id; None: local mode) and what ends it."""
        self._numbers = itertools.count()

    def watch(self, conn: HTTPConnection, end: Callable[[], None]) -> int:
        """Watch a socket: `end` is called once when it is no longer admitted. Its number, to `forget` it."""
        token = cookies_of(conn.scope).get(SESSION_COOKIE, "")
        number = next(self._numbers)
        self._sockets[number] = ((digest(token), user_id_of(conn)) if accounts_on(conn) else None, end)
        return number

    def forget(self, number: int) -> None:
        self._sockets.pop(number, None)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                self.sweep()
            except StorageError:  # the database was busy a moment: the next sweep asks again
                continue

    def sweep(self) -> None:
        """End the sockets whose sign-in has ended, and the local ones once accounts exist."""
        local_over = any(who is None for who, _ in self._sockets.values()) and self.mode.accounts_on()
        live = self.accounts.live_sign_ins({who[0] for who, _ in self._sockets.values() if who is not None})
        for number, (who, end) in list(self._sockets.items()):
            if local_over if who is None else who not in live:
                self.forget(number)
                end()


def companion_of(conn: HTTPConnection) -> Companion:
    """The companion of the user a request or WebSocket belongs to (local mode: the local user's)."""
    companion: Companion = conn.state.companion
    return companion


def user_of(conn: HTTPConnection) -> str:
    """The name of the user a request or WebSocket belongs to."""
    return str(conn.state.user)


def user_id_of(conn: HTTPConnection) -> int:
    """The id of the user a request or WebSocket belongs to."""
    return int(conn.state.user_id)


def accounts_on(conn: HTTPConnection) -> bool:
    """Whether the connection was admitted in account mode."""
    return bool(conn.state.accounts_on)


def still_admitted(conn: HTTPConnection) -> bool:
    """Whether a connection admitted earlier (a socket) would still be: its sign-in has not ended, or, admitted
    in local mode, there are still no accounts."""
    state = conn.app.state
    if not accounts_on(conn):
        return not state.mode.accounts_on()
    accounts: Accounts = state.accounts
    sign_in = accounts.signed_in(cookies_of(conn.scope).get(SESSION_COOKIE, ""))
    return sign_in is not None and sign_in.user_id == user_id_of(conn)


def cookie_header(name: str, value: str, *, max_age: int | None, http_only: bool, secure: bool) -> str:
    """One `Set-Cookie` value: Path=/, SameSite=Lax (sent when the user follows a link to the page, never with
    another site's form or script), HttpOnly and Secure as asked."""
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def cookies_of(scope: Scope) -> dict[str, str]:
    """The request's cookies; a malformed pair is skipped, not the whole header (a browser keeps sending it)."""
    cookies: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    return cookies


class Gate:
    """Finds each connection's user and holds their companion; checks sign-in and CSRF (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        accounts: Accounts = state.accounts
        multi = mode_of(scope)
        path: str = scope["path"]
        cookies = cookies_of(scope)
        sign_in = accounts.signed_in(cookies.get(SESSION_COOKIE, "")) if multi else None
        csrf = sign_in.csrf if sign_in is not None else cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        secure = scope.get("scheme") in ("https", "wss")
        if cookies.get(CSRF_COOKIE) != csrf and scope["type"] == "http":
            send = _with_cookie(send, cookie_header(CSRF_COOKIE, csrf, max_age=None, http_only=False, secure=secure))

        method = scope.get("method", "GET")
        if scope["type"] == "http" and method in UNSAFE and not path.startswith(("/v1/", "/login")):
            given = _header(scope, CSRF_HEADER)
            if not (given and cookies.get(CSRF_COOKIE) and hmac.compare_digest(given.encode(), csrf.encode())):
                await _refuse(scope, receive, send, 403, "csrf",
                              "This change did not come from OS1's own page (its CSRF token is missing or wrong).")
                return

        user = _user(scope, accounts, multi, sign_in)
        scope.setdefault("state", {})
        scope["state"].update(user=user.name if user else "", user_id=user.user_id if user else 0,
                              sign_in=sign_in, csrf=csrf, accounts_on=multi)
        if user is None:
            if path.startswith(("/v1/", *PUBLIC)):
                await self.app(scope, receive, send)
            else:
                await _not_signed_in(scope, receive, send)
            return
        companions: Companions = state.companions
        try:
            scope["state"]["companion"] = companions.acquire(user.user_id, user.name)
        except UserGone:
            await _not_signed_in(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            companions.release(user.user_id)


def mode_of(scope: Scope) -> bool:
    """Whether the connection is in account mode (asked once per connection: `HostGuard` asks first)."""
    if "os1.accounts_on" not in scope:
        scope["os1.accounts_on"] = scope["app"].state.mode.accounts_on()
    return bool(scope["os1.accounts_on"])


def _user(scope: Scope, accounts: Accounts, multi: bool, sign_in: SignIn | None) -> UserRef | None:
    """Who the connection is: the key's owner on `/v1`, else the local user or the signed-in account."""
    if scope["path"].startswith("/v1/"):
        owner = key_owner(accounts.db, bearer_key(_header(scope, "authorization")), account=multi)
        if owner is not None and not multi and owner.name != scope["app"].state.local_user:
            return None  # local mode serves the local user only
        return owner
    if not multi:
        return UserRef(accounts.db.user(scope["app"].state.local_user).user_id, scope["app"].state.local_user)
    return UserRef(sign_in.user_id, sign_in.user) if sign_in is not None else None


async def _not_signed_in(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await close_socket(receive, send, UNAUTHORIZED)
    elif scope["path"].startswith("/api/") or scope.get("method", "GET") != "GET":
        await _refuse(scope, receive, send, 401, "sign_in", "Please sign in.")
    else:
        await RedirectResponse("/login", status_code=303)(scope, receive, send)


async def close_socket(receive: Receive, send: Send, code: int) -> None:
    """Accept a WebSocket, then close it with `code`: refused at the handshake, a browser sees only a failure
    (HTTP 403), while a close code tells the page why."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


def _header(scope: Scope, name: str) -> str:
    raw = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == raw:
            return str(value.decode("latin-1"))
    return ""


def _with_cookie(send: Send, cookie: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).append("set-cookie", cookie)
        await send(message)

    return sending


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    response: Response = JSONResponse(body, status_code=status)
    await response(scope, receive, send)
