"""Typed, frozen events that flow between OS1's parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    """A piece of the companion's reply, streamed as the model produces it."""

    text: str
    """The new text, to be appended to what came before."""


@dataclass(frozen=True, slots=True)
class ReplyDone:
    """The reply has ended, complete or cut short."""

    text: str
    """The whole reply as stored."""
    turn_id: int
    """Id of the stored assistant turn."""
    status: Literal["complete", "interrupted", "failed"]
    """How the reply ended."""


@dataclass(frozen=True, slots=True)
class TurnStored:
    """A user's turn is durable in the database."""

    turn_id: int
    """Id of the stored user turn."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is not part of the reply (e.g. input was trimmed)."""

    text: str
    """One friendly sentence."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """A line of the installer's, not the OS's own words: a first-boot question."""

    text: str
    """What to show or say."""


@dataclass(frozen=True, slots=True)
class Renamed:
    """The OS has a new name (chosen at first boot, or given by the user)."""

    name: str
    """The new name."""


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A failure that ended the reply; the user's turn is already stored."""

    code: str
    """The OS1Error code, e.g. `model.unavailable`."""
    message: str
    """One friendly line."""


CompanionEvent = ReplyDelta | ReplyDone | TurnStored | Notice | Prompt | Renamed | ErrorEvent
