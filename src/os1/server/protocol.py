"""The WebSocket protocol, version 1: typed, frozen events each way, as JSON objects with `v` and `type`.

Parsing is strict: a text frame that is not JSON, too large, of an unknown type or with a missing or mistyped
field, and a binary frame that is not whole 16-bit samples, raise `ProtocolError`, whose code goes back to the
client in an `error` event (the socket stays open). Binary frames carry audio: 16 kHz mono s16le PCM up, once
`audio_start` declared it; the OS's speech down, in the format `voice_ready` gives. `docs/protocol.md` describes
every event.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from os1.errors import ClientGone, InputError
from os1.events import (
    CompanionEvent,
    Confirm,
    ContextShown,
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
"""The largest client frame accepted (a text frame's UTF-8 bytes, or a binary frame's bytes: 2 s of audio)."""
AUDIO_RATE = 16_000
"""Samples per second of the microphone stream (the rate of the server's VAD and recogniser)."""
AUDIO_FORMAT = "s16le"
"""Signed 16-bit little-endian PCM, one channel: the microphone stream's samples, and the OS's speech."""
Mode = Literal["hands_free", "push_to_talk"]
MODES: tuple[Mode, ...] = ("hands_free", "push_to_talk")
Presence = Literal["starting", "listening", "user_speaking", "thinking", "speaking", "off"]


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
    at: datetime | None = None
    """When it was said, for imports and tests: taken only by a server started with `--explicit-time`."""


@dataclass(frozen=True, slots=True)
class Draft:
    """What the user has typed so far, not yet sent: the server may get ready to answer it. A hint: nothing is
    stored or sent back."""

    text: str


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the reply in progress (its words so far are kept as `interrupted`)."""


@dataclass(frozen=True, slots=True)
class AudioStart:
    """The microphone stream begins (or changes mode): binary frames of 16 kHz mono s16le PCM follow."""

    mode: Mode = "hands_free"
    """`hands_free`: the server's VAD ends each turn at a pause; `push_to_talk`: only `end_turn` ends it."""


@dataclass(frozen=True, slots=True)
class AudioEnd:
    """The microphone stream ends: a turn in progress is ended and answered, then voice is off."""


@dataclass(frozen=True, slots=True)
class EndTurn:
    """The user has finished speaking (push-to-talk released): end the turn now."""


@dataclass(frozen=True, slots=True)
class Debug:
    """Ask for (or stop) a `context` event before each model reply: the messages the model was given."""

    context: bool
    """True: send `context` events from now on; False: stop."""


@dataclass(frozen=True, slots=True)
class AudioIn:
    """One binary frame of the microphone stream."""

    pcm: bytes
    """16 kHz mono signed 16-bit little-endian samples: an even number of bytes, at most `MAX_MESSAGE_BYTES`."""


ClientEvent = Hello | Ping | Say | Draft | Cancel | AudioStart | AudioEnd | EndTurn | Debug | AudioIn

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


@dataclass(frozen=True, slots=True)
class VoiceReady:
    """Voice is on: the server listens, and its binary frames are the OS's speech in this format."""

    rate: int
    """Samples per second of the speech the server sends (the voice's own rate, e.g. 22050)."""
    format: str = AUDIO_FORMAT
    """Always `s16le`: signed 16-bit little-endian PCM."""
    channels: int = 1
    """Always 1 (mono)."""


@dataclass(frozen=True, slots=True)
class VoiceState:
    """What the voice is doing now, for the page's presence."""

    state: Presence
    """`starting` (the speech engines load), `listening`, `user_speaking`, `thinking`, `speaking`, or `off`."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What the recogniser heard the user say, as stored (type `transcript`)."""

    text: str
    """The user's words."""
    turn_id: int | None
    """The stored user turn (a later `transcript` with the same id replaces it: the user went on), or None for
    an answer to a first-boot question, which is not a turn."""


@dataclass(frozen=True, slots=True)
class AudioStop:
    """Stop playing at once and drop the speech queued (the user cut in)."""


ServerEvent = Ready | Pong | Failure | VoiceReady | VoiceState | Heard | AudioStop | CompanionEvent


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
    Notice: "notice", Renamed: "renamed", VoiceReady: "voice_ready", VoiceState: "voice_state", Heard: "transcript",
    AudioStop: "audio_stop", ContextShown: "context", Confirm: "confirm",
}


Send = Callable[[str | bytes], Awaitable[None]]
"""Sends one text or binary frame to the client; raises `ClientGone` (`os1.errors`) when it has disconnected."""
__all__ = ["ClientGone"]  # with the rest: a session's writer raises it


def encode(event: ServerEvent) -> str:
    """The JSON text of a server event: `{"v": 1, "type": …, fields…}`."""
    fields = asdict(event)
    if isinstance(event, ContextShown):  # what the model read: who said what (a reply's context has no tool calls)
        fields["messages"] = [{"role": m.role, "content": m.content} for m in event.messages]
    return json.dumps({"v": VERSION, "type": _SERVER_TYPES[type(event)], **fields}, ensure_ascii=False)


def decode(frame: str | bytes | None) -> ClientEvent:
    """A client event from one WebSocket frame (a binary frame is `AudioIn`), or `ProtocolError`."""
    if isinstance(frame, bytes):
        return _audio(frame)
    if frame is None:
        raise ProtocolError("bad_message", "A message must be a text or binary frame.")
    if len(frame) > MAX_MESSAGE_BYTES or len(frame.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"A message may be at most {MAX_MESSAGE_BYTES // 1024} KiB.")
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's stack allows
        raise ProtocolError("bad_json", "The message is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "A message must be a JSON object.")
    if data.get("v", VERSION) != VERSION:
        raise ProtocolError("bad_version", f"This server speaks protocol version {VERSION}.")
    kind = data.get("type")
    if kind == "say":
        return Say(_text(data), _moment(data.get("at")))
    if kind == "draft":
        return _draft(data)
    if kind == "audio_start":
        return _audio_start(data)
    if kind == "debug":
        return _debug(data)
    if isinstance(kind, str) and kind in _BARE:
        extra = set(data) - {"v", "type"}
        if extra:
            raise ProtocolError("bad_field", f"'{kind}' takes no fields (got {', '.join(sorted(extra))}).")
        return _BARE[kind]()
    raise ProtocolError("unknown_type", f"Unknown message type {kind!r}.")


_BARE: dict[str, type[Hello | Ping | Cancel | AudioEnd | EndTurn]] = {
    "hello": Hello, "ping": Ping, "cancel": Cancel, "audio_end": AudioEnd, "end_turn": EndTurn}
"""Client events without fields, by type."""


def _audio(frame: bytes) -> AudioIn:
    """A binary frame: whole 16-bit samples, not too many."""
    if len(frame) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"An audio frame may be at most {MAX_MESSAGE_BYTES // 1024} KiB "
                                         "(send 20–100 ms at a time).")
    if not frame or len(frame) % 2:
        raise ProtocolError("bad_audio_frame", f"An audio frame must hold whole 16-bit samples; this one has "
                                               f"{len(frame)} bytes. It was dropped.")
    return AudioIn(frame)


def _audio_start(data: dict[str, Any]) -> AudioStart:
    """`audio_start`: the declared format must be the one the server listens to."""
    _known_fields("audio_start", data, {"v", "type", "rate", "format", "channels", "mode"})
    if "rate" not in data or "format" not in data:
        raise ProtocolError("bad_field", f"'audio_start' needs 'rate' ({AUDIO_RATE}) and 'format' "
                                         f"(\"{AUDIO_FORMAT}\").")
    rate, form, channels = data["rate"], data["format"], data.get("channels", 1)
    if (rate, form, channels) != (AUDIO_RATE, AUDIO_FORMAT, 1) or isinstance(rate, bool) or isinstance(channels, bool):
        raise ProtocolError("bad_audio_format", f"The microphone stream must be {AUDIO_RATE} Hz mono 16-bit "
                                                f"little-endian PCM (rate {AUDIO_RATE}, format \"{AUDIO_FORMAT}\", "
                                                f"channels 1), not rate {rate!r}, format {form!r}, channels "
                                                f"{channels!r}. Resample it on the client.")
    mode = data.get("mode", "hands_free")
    for known in MODES:
        if mode == known:
            return AudioStart(known)
    raise ProtocolError("bad_field", f"'audio_start' mode must be one of {', '.join(MODES)}, not {mode!r}.")


def _known_fields(kind: str, data: dict[str, Any], known: set[str]) -> None:
    """Refuse a field the event `kind` does not have."""
    extra = set(data) - known
    if extra:
        raise ProtocolError("bad_field", f"'{kind}' has no field {', '.join(sorted(extra))}.")


def _debug(data: dict[str, Any]) -> Debug:
    _known_fields("debug", data, {"v", "type", "context"})
    if not isinstance(data.get("context"), bool):
        raise ProtocolError("bad_field", "'debug' needs 'context': true or false.")
    return Debug(bool(data["context"]))


def _draft(data: dict[str, Any]) -> Draft:
    _known_fields("draft", data, {"v", "type", "text"})
    if not isinstance(data.get("text"), str):
        raise ProtocolError("bad_field", "'draft' needs a string 'text'.")
    return Draft(data["text"])


def _moment(value: Any) -> datetime | None:
    """`say`'s optional `at`: an ISO 8601 time with its offset."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ProtocolError("bad_field", "'at' must be an ISO 8601 time with its offset, e.g. 2026-03-01T19:30:00Z.")
    return moment


def _text(data: dict[str, Any]) -> str:
    _known_fields("say", data, {"v", "type", "text", "at"})
    text = data.get("text")
    if not isinstance(text, str):
        raise ProtocolError("bad_field", "'say' needs a string 'text'.")
    return text

