"""Who a request or WebSocket belongs to: the gate puts that user's companion in the connection's state."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from os1.companion import Companion


def companion_of(conn: HTTPConnection) -> Companion:
    """The companion of the user a request or WebSocket belongs to (local mode: the local user's)."""
    companion: Companion = conn.state.companion
    return companion


class LocalUser:
    """Local single-user mode: every request and socket belongs to the local user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("state", {})["companion"] = scope["app"].state.companion
        await self.app(scope, receive, send)
