"""Read timeouts for uvicorn, which has only a keep-alive timeout: a client that connects and sends its request
slowly, or not at all, would hold a connection (and its memory) for as long as it liked.

`ReadTimeouts` is uvicorn's httptools protocol with two deadlines, given to uvicorn as `http=`:
- the request line and headers must arrive within `header_timeout` seconds of the connection (or of the first
  byte of the next request on a kept-alive connection), however the bytes trickle in;
- a request body may pause at most `body_timeout` seconds between pieces (unless the server itself stopped
  reading because the app has not taken what came).
When one passes, the connection is closed; an app still reading the body sees the client gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0


class ReadTimeouts(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the headers and an idle limit for the body."""

    header_timeout = HEADER_TIMEOUT_S
    body_timeout = BODY_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_timer is None:  # the next request of a kept-alive connection
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self) -> None:
        self._read_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:  # we stopped reading, not the client
            self._arm(self.body_timeout)
            return
        self.transport.close()


def read_timeouts(header_s: float = HEADER_TIMEOUT_S, body_s: float = BODY_TIMEOUT_S) -> type[ReadTimeouts]:
    """`ReadTimeouts` with other deadlines."""
    return type("ReadTimeouts", (ReadTimeouts,), {"header_timeout": header_s, "body_timeout": body_s})
