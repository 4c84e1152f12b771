"""Who a request or WebSocket belongs to, and whether it may change anything.

The gate runs before every route. It finds the user (local mode: the local user; account mode: the signed-in
account of the `os1_session` cookie, or for `/v1` the owner of the bearer key), holds that user's companion
for the length of the request or socket and puts it in the connection's state (`companion_of`). It refuses:
- a page, `/api` call or socket without a valid sign-in in account mode (a page is sent to `/login`, an API
  call gets 401, a socket is closed with 4401);
- a POST, PUT, PATCH or DELETE (other than `/v1`, authenticated by its key, and `/login`, which checks its
  form's token itself) whose `X-CSRF-Token` header is not the browser's CSRF token. The token is the
  `os1_csrf` cookie, readable by the page's own scripts only; once signed in it must also be the sign-in's own.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from os1.companion import Companion
from os1.server.accounts import Accounts, SignIn
from os1.server.auth import bearer_key
from os1.server.users import Companions

SESSION_COOKIE = "os1_session"
CSRF_COOKIE = "os1_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC = ("/login", "/static/", "/healthz")
"""Paths anyone may reach (prefixes)."""
UNAUTHORIZED = 4401
"""The close code of a socket opened without a sign-in."""


def companion_of(conn: HTTPConnection) -> Companion:
    """The companion of the user a request or WebSocket belongs to (local mode: the local user's)."""
    companion: Companion = conn.state.companion
    return companion


def user_of(conn: HTTPConnection) -> str:
    """The name of the user a request or WebSocket belongs to."""
    return str(conn.state.user)


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
        companions: Companions = state.companions
        accounts: Accounts | None = state.accounts  # None: local single-user mode
        path: str = scope["path"]
        cookies = cookies_of(scope)
        sign_in: SignIn | None = None
        if accounts is not None:
            sign_in = accounts.signed_in(cookies.get(SESSION_COOKIE, ""))
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

        user: str | None
        if accounts is None:
            user = str(state.local_user)
        elif path.startswith("/v1/"):
            user = accounts.user_of_key(bearer_key(_header(scope, "authorization")))
        else:
            user = sign_in.user if sign_in is not None else None
        if user is None and not path.startswith(("/v1/", *PUBLIC)):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": UNAUTHORIZED})
            elif path.startswith("/api/") or method != "GET":
                await _refuse(scope, receive, send, 401, "sign_in", "Please sign in.")
            else:
                await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return
        scope.setdefault("state", {})
        scope["state"]["user"] = user or ""
        scope["state"]["sign_in"] = sign_in
        scope["state"]["csrf"] = csrf
        if user is None:
            await self.app(scope, receive, send)
            return
        scope["state"]["companion"] = companions.acquire(user)
        try:
            await self.app(scope, receive, send)
        finally:
            companions.release(user)


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
