"""Typed, frozen events that flow between OS1's parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from os1.llm.base import Message


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    """A piece of the companion's reply, streamed as the model produces it."""

    text: str
    """The new text, to be appended to what came before."""


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """The model has begun a reply; its row is stored (status `streaming`) and grows as it streams."""

    turn_id: int
    """Id of the assistant turn being written."""


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
    text: str = ""
    """The words stored (for an amended turn, all of them)."""


@dataclass(frozen=True, slots=True)
class UserSpoke:
    """The voice loop is answering what it heard the user say (published before the answer's first event, and
    only for an answer that happens: a withdrawn speculative reply publishes nothing)."""

    text: str
    """The words as recognised (the whole turn, if the user went on after a pause)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is not part of the reply (e.g. input was trimmed)."""

    text: str
    """One friendly sentence."""


@dataclass(frozen=True, slots=True)
class Confirm:
    """A skill waits for the user's yes or no to this exact action (the reply has just asked it): a surface may
    offer buttons; the user's next line is the answer ("yes", "no", "y", "n")."""

    question: str
    """The question, as the reply put it."""


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


@dataclass(frozen=True, slots=True)
class ContextShown:
    """Exactly the messages the model was given for the reply that follows (asked for with `show_context`)."""

    messages: tuple[Message, ...]
    """System prompt, history, the memory note and the user's words, in the order the model read them."""


# Speech segmentation (os1.speech.vad.Segmenter) and recognition (os1.speech.stt).

@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech has begun (after `start_ms` of it)."""

    frame: int
    """Index of the first speech frame of the run that started it (keep audio from here)."""


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """Silence has begun; it may be the end of the turn or a pause within it."""

    frame: int
    """Index of the first silent frame."""


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """The pause was not the end: speech came back before `end_ms` of silence."""

    frame: int
    """Index of the first frame of the returning speech."""


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The turn is over: silence lasted `end_ms`."""

    started: int
    """Index of the turn's first speech frame."""
    frame: int
    """Index of the first frame of the final silence (the speech ran up to here)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its timing."""

    text: str
    """The word as spelled in the transcript."""
    start: float
    """Seconds from the start of the audio."""
    end: float
    """Seconds from the start of the audio."""
    confidence: float | None = None
    """The engine's posterior (0..1), when it has one."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was said in a stretch of audio."""

    text: str
    """The words, space-separated; empty for silence or noise."""
    words: tuple[Word, ...] = ()
    """The words with timings, when the engine gives them."""
    confidence: float | None = None
    """Mean word confidence (0..1), when the engine gives one."""
    final: bool = True
    """False for an interim hypothesis that later audio may revise."""


CompanionEvent = (ReplyStarted | ReplyDelta | ReplyDone | TurnStored | Notice | Prompt | Renamed | ErrorEvent
                  | ContextShown | Confirm)
