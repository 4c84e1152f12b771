"""Signing in and out of the multi-user server, and `/api/me`.

The sign-in page is a plain form (it works without scripts). Its CSRF token is the browser's `os1_csrf`
cookie, put in a hidden field and compared on POST (the gate leaves `/login` to this module). A sign-in
sets `os1_session` (HttpOnly, SameSite=Lax, 30 days; only its hash is stored) and a new CSRF token. Five
failed passwords for a name within 15 minutes make it wait; argon2 runs in a thread, two at a time.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import re
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from os1.server.accounts import SIGN_IN_DAYS, Accounts
from os1.server.gate import CSRF_COOKIE, SESSION_COOKIE, cookie_header, cookies_of

TEMPLATE = Path(__file__).parent / "templates" / "login.html"
MAX_FORM_BYTES = 4096
FAILURES, FAILURE_WINDOW_S = 5, 15 * 60
HEADERS = {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class Throttle:
    """Failed sign-ins per name in a sliding window (pure; the clock is passed in)."""

    def __init__(self, limit: int = FAILURES, window: float = FAILURE_WINDOW_S) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}

    def wait(self, name: str, at: float) -> float:
        """Seconds before `name` may try again (0 when it may now)."""
        times = self._failures.get(name)
        if not times:
            return 0.0
        while times and at - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[name]
            return 0.0
        return self.window - (at - times[0]) if len(times) >= self.limit else 0.0

    def failed(self, name: str, at: float) -> None:
        self._failures.setdefault(name, deque()).append(at)

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)


def routes() -> list[Route]:
    """The sign-in routes."""
    throttle = Throttle()
    verifying = asyncio.Semaphore(2)

    async def page(request: Request) -> Response:
        if request.app.state.accounts is None:  # local mode has nobody to sign in
            return RedirectResponse("/", status_code=303)
        if request.state.sign_in is not None:
            return RedirectResponse("/", status_code=303)
        return _form(request.state.csrf)

    async def submit(request: Request) -> Response:
        accounts: Accounts | None = request.app.state.accounts
        if accounts is None:
            return RedirectResponse("/", status_code=303)
        body = await _read(request)
        if body is None:
            return _form(request.state.csrf, "That form was too large.", status=413)
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=8).items()}
        name, password = form.get("name", "").strip().lower(), form.get("password", "")
        cookie = cookies_of(request.scope).get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(form.get("csrf", "").encode(), cookie.encode()):
            return _form(request.state.csrf, "The page had expired; please try again.", name, status=403)
        wait = throttle.wait(name, time.monotonic())
        if wait > 0:
            return _form(request.state.csrf, f"Too many tries. Wait {int(wait // 60) + 1} minutes.", name,
                         status=429)
        async with verifying:
            ok = await asyncio.to_thread(accounts.verify, name, password)
        if not ok:
            throttle.failed(name, time.monotonic())
            return _form(request.state.csrf, "That name and password do not match.", name, status=401)
        throttle.succeeded(name)
        token, sign_in = accounts.sign_in(name)
        secure = request.url.scheme == "https"
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, token, max_age=SIGN_IN_DAYS * 86400,
                                                            http_only=True, secure=secure))
        response.headers.append("set-cookie", cookie_header(CSRF_COOKIE, sign_in.csrf, max_age=None,
                                                            http_only=False, secure=secure))
        return response

    async def sign_out(request: Request) -> Response:
        accounts: Accounts | None = request.app.state.accounts
        if accounts is not None:
            accounts.sign_out(cookies_of(request.scope).get(SESSION_COOKIE, ""))
        response = JSONResponse({"signed_out": True})
        response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, "", max_age=0, http_only=True,
                                                            secure=request.url.scheme == "https"))
        return response

    async def me(request: Request) -> Response:
        return JSONResponse({"user": request.state.user, "accounts": request.app.state.accounts is not None})

    return [Route("/login", page, methods=["GET"]), Route("/login", submit, methods=["POST"]),
            Route("/logout", sign_out, methods=["POST"]), Route("/api/me", me)]


def _form(csrf: str, message: str = "", name: str = "", *, status: int = 200) -> HTMLResponse:
    values = {"csrf": csrf, "name": name, "message": message}
    text = re.sub(r"\{(csrf|name|message)\}", lambda m: html.escape(values[m.group(1)], quote=True),
                  TEMPLATE.read_text(encoding="utf-8"))
    return HTMLResponse(text, status_code=status, headers=HEADERS)


async def _read(request: Request) -> str | None:
    """The form body, or None when it is larger than `MAX_FORM_BYTES`."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_FORM_BYTES:
            return None
    return data.decode("utf-8", "replace")
