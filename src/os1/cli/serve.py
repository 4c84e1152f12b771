"""`os1 serve`: the web companion and the OpenAI-compatible API on this machine; `os1 key`: the API's key."""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import webbrowser
from typing import TYPE_CHECKING, Any

from rich.console import Console

from os1.config import Settings
from os1.errors import ConfigError

if TYPE_CHECKING:
    import uvicorn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
WS_MAX_BYTES = 1024 * 1024
"""Frames up to this size get the protocol's own `too_large` error (its limit is 64 KiB); larger ones close the
socket with 1009 before they are read into memory."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `serve` and `key` subcommands."""
    serve = sub.add_parser("serve", help="the web companion and an OpenAI-compatible API, on this machine")
    serve.add_argument("--host", default=argparse.SUPPRESS, help=f"address to listen on (default {DEFAULT_HOST}; "
                                                           "loopback only until accounts exist: os1 user add)")
    serve.add_argument("--port", type=int, default=argparse.SUPPRESS, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--no-browser", action="store_true", default=argparse.SUPPRESS,
                       help="do not open the page in a browser")
    serve.add_argument("--explicit-time", action="store_true",
                       help="let the socket's 'say' (field 'at') and /v1 (field 'os1_at') give the time a line was "
                            "said: for imports and tests, never for everyday use")
    key = sub.add_parser("key", help="make the key of the OpenAI-compatible API (`os1 serve`); it is shown once")
    key.add_argument("--new", action="store_true", help="make a new key; the old one stops working")


def check_host(host: str, accounts: bool) -> None:
    """Refuse an address other people could reach unless everyone must sign in (accounts exist)."""
    from os1.server.app import is_loopback

    if not accounts and not is_loopback(host):
        raise ConfigError(f"Refusing to listen on {host}: it can be reached from other machines, and there are no "
                          "accounts, so anyone there could read your conversations.",
                          hint=f"Make accounts first (os1 user add NAME), or use a loopback address such as "
                               f"{DEFAULT_HOST} (the default).")


def should_open_browser(args: argparse.Namespace, env: dict[str, str]) -> bool:
    """Open the page unless asked not to, on CI, or with no display to show it on."""
    if args.no_browser or env.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or os.name != "posix"


def serve(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Serve until Ctrl-C: the local user's companion, or with accounts each signed-in user's."""
    if not 0 < args.port < 65536:
        raise ConfigError(f"The port must be between 1 and 65535, not {args.port}.")
    try:
        import uvicorn

        from os1.server.app import create_app, has_accounts
    except ImportError as exc:
        raise ConfigError("The server is not installed.", hint="pip install 'os1[server]'") from exc
    accounts = has_accounts(settings)
    check_host(args.host, accounts)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/"
    who = "each account signs in" if accounts else "no sign-in: this machine only, until an account is made"
    console.print(f"OS1 is at {url} ({who}; OpenAI-compatible API at {url}v1, key: `os1 key`). Ctrl-C stops it.",
                  markup=False)
    if should_open_browser(args, dict(os.environ)):
        threading.Timer(1.0, _open, (url,)).start()
    # the app checks the database itself: it switches to sign-in as soon as an account is made beside it
    app = create_app(settings, user=args.user, explicit_time=getattr(args, "explicit_time", False))
    uvicorn.Server(uvicorn_config(app, args.host, args.port)).run()
    return 0


def uvicorn_config(app: Any, host: str, port: int, *, read_timeout: float | None = None) -> uvicorn.Config:
    """How `os1 serve` runs the app: quiet logs, the WebSocket frame limit, and read timeouts (`read_timeout`
    replaces both of them, for tests)."""
    import uvicorn

    from os1.server.timeouts import read_timeouts

    protocol = read_timeouts() if read_timeout is None else read_timeouts(read_timeout, read_timeout)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", ws_max_size=WS_MAX_BYTES, http=protocol)


def _open(url: str) -> None:
    with contextlib.suppress(Exception):  # no browser is not a failure: the address is printed
        webbrowser.open(url)


def key(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Make the user's API key and print it, the only time it is shown: on first use, or with `--new` (the old
    one stops working). With a key already made, say so (its hint and date) and how to make a new one."""
    from os1.memory import Database
    from os1.memory.timeparse import describe
    from os1.server.auth import key_info, make_key

    db = Database(settings.db_path)
    try:
        user_id = db.user(args.user).user_id
        info = key_info(db, user_id)
        if info is not None and not args.new:
            made = f", made {describe(info.created)}" if info.created else ""
            console.print(f"You have a key ({info.hint}…{made}). It was shown once, when it was made; OS1 keeps "
                          "only its hash. To make a new one (the old one stops working): os1 key --new",
                          markup=False, soft_wrap=True)
            return 0
        console.print(make_key(db, user_id), markup=False, soft_wrap=True)
        Console(stderr=True).print("Your key for the OpenAI-compatible API (os1 serve, at /v1). It is shown only "
                                   "now: keep it somewhere safe.", markup=False)
    finally:
        db.close()
    return 0
