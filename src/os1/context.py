"""Assemble what the model sees within a token budget: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from os1.llm.base import Message
from os1.memory.store import Turn

Counter = Callable[[str], int]
INTERRUPTED_MARK = " …"


@dataclass(frozen=True, slots=True)
class Budget:
    """How the context window is shared out."""

    window: int
    """The model's context size in tokens."""
    reply: int
    """Tokens kept free for the reply."""
    memory_share: float = 0.25
    """Largest share of what is left that recalled memories may take."""
    input_share: float = 0.5
    """Largest share of what is left that the user's new message may take."""
    margin: int = 32
    """Tokens for chat-template markup around each message."""

    @property
    def usable(self) -> int:
        """Tokens for everything but the reply."""
        return max(64, self.window - self.reply - self.margin)


def trim_to_tokens(text: str, limit: int, count: Counter) -> str:
    """The longest prefix of `text` (cut at a word boundary when one is near) within `limit` tokens."""
    if count(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: count() is exact for the model's tokenizer
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    return cut[:space] if space > lo * 0.8 else cut


def _content(turn: Turn) -> str:
    return turn.text + (INTERRUPTED_MARK if turn.status == "interrupted" else "")


def turns_in_view(turns: Sequence[Turn], budget: int, count: Counter) -> list[Turn]:
    """The newest turns that fit in `budget` tokens, oldest first; empty failed replies skipped."""
    picked: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        if not turn.text.strip():
            continue
        cost = count(_content(turn)) + 4
        if used + cost > budget:
            break
        picked.append(turn)
        used += cost
    picked.reverse()
    return picked


REFILL = 0.5
"""When the history no longer fits from its first turn, it starts again where the newest turns fill this share
of its room: half the room is then free for the turns to come, each one only appended."""


def window_start(turns: Sequence[Turn], budget: int, count: Counter, start: int) -> int:
    """The id of the first turn the history shows: `start` while every turn since it fits in `budget` (a local
    model's evaluated prefix then holds, only new turns are read), else the turn from which the newest ones fill
    `REFILL` of it. Dropping one turn at a time instead would change the context right after the persona on
    every turn, and the model would read the whole history again each time."""
    since = [t for t in turns if t.id >= start]
    shown = [t for t in since if t.text.strip()]
    if shown and len(turns_in_view(since, budget, count)) == len(shown):
        return start
    kept = turns_in_view(turns, int(budget * REFILL), count) or turns_in_view(turns, budget, count)
    return kept[0].id if kept else start


def history_messages(turns: Sequence[Turn], budget: int, count: Counter) -> list[Message]:
    """The newest turns that fit in `budget` tokens as messages, oldest first."""
    return [Message(turn.role, _content(turn)) for turn in turns_in_view(turns, budget, count)]


def history_budget(system: str, user_text: str, budget: Budget, count: Counter) -> int:
    """Tokens the history gets at least: what the persona, the message and the largest memory note leave."""
    left = budget.usable - count(system) - min(count(user_text), int(budget.usable * budget.input_share))
    return max(0, int(left * (1 - budget.memory_share)) - 32)


def fit_memories(memories: Sequence[str], budget: int, count: Counter) -> list[str]:
    """Recalled memories, most relevant first, as many as fit."""
    kept: list[str] = []
    used = 0
    for memory in memories:
        cost = count(memory) + 2
        if used + cost > budget:
            break
        kept.append(memory)
        used += cost
    return kept


@dataclass(frozen=True, slots=True)
class Context:
    """The assembled messages, and whether the user's message had to be cut."""

    messages: list[Message]
    trimmed_input: bool
    history_from: int = 0
    """The id of the history's first turn (`window_start`): pass it back for the next turn's context."""


def build_context(*, system: str, note: Callable[[list[str]], str], memories: Sequence[str],
                  history: Sequence[Turn], user_text: str, budget: Budget, count: Counter,
                  history_from: int = 0) -> Context:
    """System prompt, then history, then the changing note (date, memories), then the new message.

    The order keeps the stable part first so a local model re-uses its evaluated prefix; so does the history's
    window, which starts at `history_from` as long as it can (`window_start`).
    """
    left = budget.usable - count(system)
    user = trim_to_tokens(user_text, int(left * budget.input_share), count)
    left -= count(user)
    kept = fit_memories(memories, int(left * budget.memory_share), count)
    note_text = note(kept)
    left -= count(note_text)
    start = window_start(history, max(0, left), count, history_from)
    past = history_messages([t for t in history if t.id >= start], max(0, left), count)
    messages = [Message("system", system), *past, Message("system", note_text), Message("user", user)]
    return Context(messages, trimmed_input=user != user_text, history_from=start)
