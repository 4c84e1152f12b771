"""The one base class every language-model backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class Tool:
    """Something a model may call: a skill as a tool-calling API is shown it."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    """The JSON schema of its arguments."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model asking for a tool to run."""

    id: str
    """The model's id for the call (its result answers this id)."""
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    """Why the arguments could not be read (not JSON, not an object): the call is not run, the model is told."""


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message handed to a model."""

    role: Role
    """Who speaks (`tool`: a tool's result, answering `tool_call_id`)."""
    content: str
    """What they say."""
    tool_calls: tuple[ToolCall, ...] = ()
    """An assistant message's calls of tools."""
    tool_call_id: str = ""
    """A tool message: the call it answers."""


class LLM(ABC):
    """A chat model that streams its reply.

    `stream` is an async generator of text deltas. Stopping consumption (closing the generator, or
    cancelling the task that iterates it) must stop generation: backends release the model or close
    the HTTP stream in their `finally`.
    """

    name: str = "llm"
    """The spec this model was built from, e.g. `embedded` or `openai:gpt-4o-mini`."""
    context_tokens: int = 8192
    """How many tokens of context the model accepts."""
    can_stream: bool = True
    """Whether deltas arrive as they are generated (else one delta with the whole reply)."""
    can_continue: bool = False
    """Whether a last `assistant` message is continued (its words are the reply's beginning) rather than
    answered (`llm/relay.py`)."""
    can_call_tools: bool = False
    """Whether `stream_turn` lets the model call tools (OpenAI `tools`, Anthropic tool use)."""

    @abstractmethod
    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        """Yield the reply to `messages` piece by piece; raise `ModelError` subclasses on failure."""

    async def stream_turn(
        self, messages: Sequence[Message], tools: Sequence[Tool], *, max_tokens: int = 256,
        temperature: float = 0.7
    ) -> AsyncGenerator[str | ToolCall, None]:
        """Like `stream`, with `tools` the model may call: text deltas, then each `ToolCall` it makes (the
        caller runs them and asks again with their results as `tool` messages). A model that cannot call tools
        only talks."""
        async for delta in self.stream(messages, max_tokens=max_tokens, temperature=temperature):
            yield delta

    async def prepare(self, messages: Sequence[Message]) -> None:
        """Get ready for a request that will begin with `messages` (the last one possibly unfinished, e.g.
        what the user has said so far): a local model evaluates them now, so the request later only pays for
        what differs. A hint: it may do nothing (the default), and a request that arrives meanwhile goes first.
        """
        return None

    @property
    def reads_ahead(self) -> bool:
        """Whether `prepare` does anything (a local model's does; a remote one has nothing to read ahead)."""
        return type(self).prepare is not LLM.prepare

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes; backends with a tokenizer override this rough estimate."""
        return max(1, (len(text.encode("utf-8")) + 3) // 4)

    async def aclose(self) -> None:
        """Release clients and files; the default has nothing to release."""
        return None


async def words_of(pieces: AsyncGenerator[str | ToolCall, None]) -> AsyncGenerator[str, None]:
    """The text of a `stream_turn` without its tool calls (a backend's `stream` when no tools are offered)."""
    async with aclosing(pieces):
        async for piece in pieces:
            if isinstance(piece, str):
                yield piece


def merge_system(messages: Sequence[Message]) -> tuple[str, list[Message]]:
    """Split out system messages (joined) for APIs that take one system prompt apart from the chat."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    return system, [m for m in messages if m.role != "system"]
