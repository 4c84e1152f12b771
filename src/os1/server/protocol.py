"""The WebSocket protocol, version 1: typed, frozen events each way, as JSON objects with `v` and `type`.

Parsing is strict: a frame that is not JSON, too large, binary, of an unknown type or with a missing or
mistyped field raises `ProtocolError`, whose code goes back to the client in an `error` event (the socket stays
open). `docs/protocol.md` describes every event.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from os1.errors import InputError
from os1.events import (
    CompanionEvent,
    ErrorEvent,
    Notice,
    Prompt,
    Renamed,
    ReplyDelta,
    ReplyDone,
    ReplyStarted,
    TurnStored,
)

VERSION = 1
"""The protocol version every event carries as `v`."""
MAX_MESSAGE_BYTES = 64 * 1024
"""The largest client frame accepted (its UTF-8 bytes)."""


class ProtocolError(InputError):
    """A client frame the protocol does not allow; `code` is the one sent back (`bad_json`, `unknown_type`…)."""

    code = "protocol"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Client → server.

@dataclass(frozen=True, slots=True)
class Hello:
    """The client is ready: the server answers `ready`, then the opening lines."""


@dataclass(frozen=True, slots=True)
class Ping:
    """Keep-alive: the server answers `pong`."""


@dataclass(frozen=True, slots=True)
class Say:
    """One line from the user."""

    text: str
    """What the user said or typed."""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the reply in progress (its words so far are kept as `interrupted`)."""


ClientEvent = Hello | Ping | Say | Cancel

# Server → client (besides the companion's own events, which mirror `os1.events`).

@dataclass(frozen=True, slots=True)
class Ready:
    """The session is open."""

    name: str
    """The OS's name ('' before first boot ends)."""
    user_name: str
    """What the OS calls the user ('' before first boot ends)."""
    version: str
    """OS1's version."""


@dataclass(frozen=True, slots=True)
class Pong:
    """The answer to `ping`."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Something went wrong; the session goes on."""

    code: str
    """A stable code: `bad_json`, `rate_limited`, `model.unavailable`…"""
    message: str
    """One friendly line."""


ServerEvent = Ready | Pong | Failure | CompanionEvent


class RateLimit:
    """At most `limit` client frames in any `per` seconds (a sliding window); pure, the clock is passed in."""

    def __init__(self, limit: int = 20, per: float = 1.0) -> None:
        self.limit = limit
        self.per = per
        self._times: deque[float] = deque()

    def allow(self, at: float) -> bool:
        """Whether a frame arriving at `at` (monotonic seconds) may be handled; a refused one does not count."""
        while self._times and at - self._times[0] >= self.per:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(at)
        return True

_SERVER_TYPES: dict[type, str] = {
    Ready: "ready", Pong: "pong", Failure: "error", ErrorEvent: "error", Prompt: "prompt",
    TurnStored: "turn_stored", ReplyStarted: "reply_started", ReplyDelta: "delta", ReplyDone: "reply_done",
    Notice: "notice", Renamed: "renamed",
}


def encode(event: ServerEvent) -> str:
    """The JSON text of a server event: `{"v": 1, "type": …, fields…}`."""
    return json.dumps({"v": VERSION, "type": _SERVER_TYPES[type(event)], **asdict(event)}, ensure_ascii=False)


def decode(frame: str | bytes | None) -> ClientEvent:
    """A client event from one WebSocket frame, or `ProtocolError`."""
    if not isinstance(frame, str):
        raise ProtocolError("binary_not_supported", "Binary frames are not supported yet; send JSON text.")
    if len(frame) > MAX_MESSAGE_BYTES or len(frame.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"A message may be at most {MAX_MESSAGE_BYTES // 1024} KiB.")
    try:
        data = json.loads(frame)
    except ValueError as exc:
        raise ProtocolError("bad_json", "The message is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "A message must be a JSON object.")
    if data.get("v", VERSION) != VERSION:
        raise ProtocolError("bad_version", f"This server speaks protocol version {VERSION}.")
    kind = data.get("type")
    if kind == "say":
        return Say(_text(data))
    if kind in ("hello", "ping", "cancel"):
        extra = set(data) - {"v", "type"}
        if extra:
            raise ProtocolError("bad_field", f"'{kind}' takes no fields (got {', '.join(sorted(extra))}).")
        return Hello() if kind == "hello" else Ping() if kind == "ping" else Cancel()
    raise ProtocolError("unknown_type", f"Unknown message type {kind!r}.")


def _text(data: dict[str, Any]) -> str:
    extra = set(data) - {"v", "type", "text"}
    if extra:
        raise ProtocolError("bad_field", f"'say' has no field {', '.join(sorted(extra))}.")
    text = data.get("text")
    if not isinstance(text, str):
        raise ProtocolError("bad_field", "'say' needs a string 'text'.")
    return text

