"""Signing in and out of the multi-user server, and `/api/me`.

The sign-in page is a plain form (it works without scripts). Its CSRF token is the browser's `os1_csrf`
cookie, put in a hidden field and compared on POST (the gate leaves `/login` to this module). A sign-in
sets `os1_session` (HttpOnly, SameSite=Lax, 30 days; only its hash is stored) and a new CSRF token. Wrong
passwords slow the one who types them (`Throttle`): per name from one client address and per address, each
try after the first few waits twice as long as the last, up to five minutes; the owner signing in from
anywhere else never waits for a guesser. argon2 runs in a thread, two at a time. A form that cannot be used
(too large, too many fields, cut short) is refused with a 4xx and the form again.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import math
import re
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from os1.errors import RequestRefused
from os1.server.accounts import SIGN_IN_DAYS, Accounts
from os1.server.gate import CSRF_COOKIE, SESSION_COOKIE, accounts_on, cookie_header, cookies_of

TEMPLATE = Path(__file__).parent / "templates" / "login.html"
MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 8
HEADERS = {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class Throttle:
    """Wrong passwords, counted per (name, client address) and per address, each with a growing delay (pure; the
    clock is passed in). After `free` failures a key waits `first_delay` seconds, then twice as long after each
    further failure, at most `max_delay`; a key forgotten `forget_after` seconds after its last failure. An
    address gets more free tries (`client_free`: it may be many people behind one router). At most
    `max_entries` keys are kept: the least recently failed go first, so someone who keeps guessing stays."""

    def __init__(self, *, free: int = 5, client_free: int = 20, first_delay: float = 1.0, max_delay: float = 300.0,
                 forget_after: float = 3600.0, max_entries: int = 10_000) -> None:
        self.free, self.client_free = free, client_free
        self.first_delay, self.max_delay, self.forget_after = first_delay, max_delay, forget_after
        self.max_entries = max_entries
        self._failures: OrderedDict[tuple[str, ...], tuple[int, float]] = OrderedDict()
        """(name, client) or (client,) → (failures, time of the last one)."""

    def __len__(self) -> int:
        return len(self._failures)

    def wait(self, name: str, client: str, at: float) -> float:
        """Seconds before `client` may try `name`'s password again (0: now)."""
        return max(self._wait((name[:64], client), self.free, at), self._wait((client,), self.client_free, at))

    def failed(self, name: str, client: str, at: float) -> None:
        """A wrong password for `name` from `client`, at `at`."""
        for key in ((name[:64], client), (client,)):
            count, _ = self._live(key, at)
            self._failures[key] = (count + 1, at)
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_entries:
            self._failures.popitem(last=False)

    def succeeded(self, name: str, client: str) -> None:
        """The right password: that name from that address starts afresh (the address's own count stays, so a
        guesser cannot clear it by signing in to an account of their own)."""
        self._failures.pop((name[:64], client), None)

    def _wait(self, key: tuple[str, ...], free: int, at: float) -> float:
        count, last = self._live(key, at)
        if count < free:
            return 0.0
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(count - free, 64))
        return max(0.0, last + delay - at)

    def _live(self, key: tuple[str, ...], at: float) -> tuple[int, float]:
        """A key's failures, forgetting them once `forget_after` has passed."""
        found = self._failures.get(key)
        if found is None:
            return 0, at
        if at - found[1] >= self.forget_after:
            del self._failures[key]
            return 0, at
        return found


def routes(throttle: Throttle | None = None) -> list[Route]:
    """The sign-in routes; `throttle` slows wrong passwords (by default `Throttle()`)."""
    throttle = throttle or Throttle()
    verifying = asyncio.Semaphore(2)

    async def page(request: Request) -> Response:
        if not accounts_on(request):  # local mode has nobody to sign in
            return RedirectResponse("/", status_code=303)
        if request.state.sign_in is not None:
            return RedirectResponse("/", status_code=303)
        return _form(request.state.csrf)

    async def submit(request: Request) -> Response:
        if not accounts_on(request):
            return RedirectResponse("/", status_code=303)
        accounts: Accounts = request.app.state.accounts
        try:
            form = await _read(request)
        except FormProblem as problem:
            return _form(request.state.csrf, problem.message, status=problem.status)
        name, password = form.get("name", "").strip().lower(), form.get("password", "")
        cookie = cookies_of(request.scope).get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(form.get("csrf", "").encode(), cookie.encode()):
            return _form(request.state.csrf, "The page had expired; please try again.", name, status=403)
        client = request.client.host if request.client else ""
        wait = throttle.wait(name, client, time.monotonic())
        if wait > 0:
            return _form(request.state.csrf, f"Too many tries. Wait {_seconds(wait)} before the next.", name,
                         status=429)
        async with verifying:
            ok = await asyncio.to_thread(accounts.verify, name, password)
        if not ok:
            throttle.failed(name, client, time.monotonic())
            return _form(request.state.csrf, "That name and password do not match.", name, status=401)
        throttle.succeeded(name, client)
        token, sign_in = accounts.sign_in(name)
        secure = request.url.scheme == "https"
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, token, max_age=SIGN_IN_DAYS * 86400,
                                                            http_only=True, secure=secure))
        response.headers.append("set-cookie", cookie_header(CSRF_COOKIE, sign_in.csrf, max_age=None,
                                                            http_only=False, secure=secure))
        return response

    async def sign_out(request: Request) -> Response:
        if accounts_on(request):
            request.app.state.accounts.sign_out(cookies_of(request.scope).get(SESSION_COOKIE, ""))
        response = JSONResponse({"signed_out": True})
        response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, "", max_age=0, http_only=True,
                                                            secure=request.url.scheme == "https"))
        return response

    async def me(request: Request) -> Response:
        return JSONResponse({"user": request.state.user, "accounts": accounts_on(request)})

    return [Route("/login", page, methods=["GET"]), Route("/login", submit, methods=["POST"]),
            Route("/logout", sign_out, methods=["POST"]), Route("/api/me", me)]


def _form(csrf: str, message: str = "", name: str = "", *, status: int = 200) -> HTMLResponse:
    values = {"csrf": csrf, "name": name, "message": message}
    text = re.sub(r"\{(csrf|name|message)\}", lambda m: html.escape(values[m.group(1)], quote=True),
                  TEMPLATE.read_text(encoding="utf-8"))
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _seconds(wait: float) -> str:
    seconds = math.ceil(wait)
    return f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


class FormProblem(RequestRefused):
    """A sign-in form that cannot be used; answered with `status` and the form again."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)


async def _read(request: Request) -> dict[str, str]:
    """The form's fields; `FormProblem` when it is larger than `MAX_FORM_BYTES`, has more than
    `MAX_FORM_FIELDS` fields, or was cut short by the client."""
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_FORM_BYTES:
                raise FormProblem(413, "That form was too large.")
    except ClientDisconnect as exc:
        raise FormProblem(400, "The form was cut short.") from exc  # nobody is left to read this
    try:
        fields = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise FormProblem(400, "That form had too many fields.") from exc
    return {k: v[0] for k, v in fields.items()}
