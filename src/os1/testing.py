"""Fakes that implement OS1's real interfaces, for deterministic tests and plugin authors.

`FakeLLM` is registered as the `fake` model through the same entry-point hook as every backend (the speech
engines' fakes are in `os1.speech.testing`):

- `--model fake` echoes the user's last message;
- `--model fake:script.json` plays `{"replies": ["…", …], "answers": {"weather": "…"}, "delay": 0.05,
  "fail": "unavailable"}`: an answer whose key the user's last message contains (case-insensitive), else
  replies in order (then echo), `delay` seconds between words, and an optional failure. Answers suit a
  voice loop, which may start a reply speculatively and drop it: a dropped stream still takes a queued reply.
  With `"tools": {"weather": [{"name": "forecast", "arguments": {"city": "Oslo"}}]}` it calls tools: when the
  newest messages (the user's line, or the results of its last calls) contain a key, it makes those calls;
  after results that hold none, it says what they said. So a script can obey text injected into a result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from os1.errors import ConfigError, ModelError, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, Tool, ToolCall
from os1.plugins import RegisterModel, hookimpl

if TYPE_CHECKING:
    from os1.config import Settings

_FAILURES: dict[str, Callable[[], ModelError]] = {
    "unavailable": lambda: ModelUnavailable("Could not reach the fake model server.", hint="It is a test."),
    "garbage": lambda: ModelResponseError("The fake model sent a reply OS1 could not read."),
}


class FakeLLM(LLM):
    """A scripted model: replies come from a queue, word by word, optionally slowly."""

    def __init__(self, replies: Sequence[str] = (), *, delay: float = 0.0, fail: str = "",
                 context_tokens: int = 2048, answers: Mapping[str, str] | None = None,
                 tools: Mapping[str, Sequence[Mapping[str, object]]] | None = None) -> None:
        if fail and fail not in _FAILURES:
            raise ConfigError(f"Unknown fake failure '{fail}'; use one of {sorted(_FAILURES)}.")
        self.replies = list(replies)
        self.answers = {key.lower(): value for key, value in (answers or {}).items()}
        self.delay = delay
        self.fail = fail
        self.context_tokens = context_tokens
        self.name = "fake"
        self.calls: list[list[Message]] = []
        """Every message list the model was asked to continue, for assertions."""
        self.cancelled = 0
        """How many streams were stopped before their end."""
        self.tool_script = {key.lower(): list(calls) for key, calls in (tools or {}).items()}
        self.can_call_tools = bool(self.tool_script)
        self.tools_offered: list[list[str]] = []
        """The names of the tools offered at each `stream_turn`."""
        self._call_count = 0
        self._fired: set[str] = set()
        """The keys that made calls in this turn (each does once a turn)."""

    def enqueue(self, *replies: str) -> None:
        """Add replies to play next."""
        self.replies.extend(replies)

    async def stream_turn(
        self, messages: Sequence[Message], tools: Sequence[Tool], *, max_tokens: int = 256,
        temperature: float = 0.7
    ) -> AsyncGenerator[str | ToolCall, None]:
        self.tools_offered.append([t.name for t in tools])
        newest: list[Message] = []
        for message in reversed(messages):
            if message.role in ("assistant", "system"):
                break
            newest.insert(0, message)
        said = " ".join(m.content for m in newest).lower()
        if newest and newest[0].role == "user":
            self._fired.clear()  # a new turn: every key may fire again
        key = next((key for key in self.tool_script if key in said and key not in self._fired), None)
        planned = self.tool_script[key] if key is not None and tools else None
        if key is not None and planned:
            self._fired.add(key)
            self.calls.append(list(messages))
            for call in planned:
                self._call_count += 1
                arguments = call.get("arguments", {})
                yield ToolCall(f"fake_{self._call_count}", str(call["name"]),
                               arguments if isinstance(arguments, dict) else {})
            return
        if newest and newest[-1].role == "tool" and not self.replies:
            self.calls.append(list(messages))
            for i, word in enumerate("Here is what I found: {}".format(" ".join(m.content for m in newest)).split(" ")):
                yield word if i == 0 else " " + word
            return
        async for delta in self.stream(messages, max_tokens=max_tokens, temperature=temperature):
            yield delta

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        self.calls.append(list(messages))
        if self.fail:
            raise _FAILURES[self.fail]()
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        answer = next((value for key, value in self.answers.items() if key in last.lower()), None)
        if answer is not None:
            reply = answer
        elif self.replies:
            reply = self.replies.pop(0)
        else:
            reply = f"You said: {last}"
        words = reply.split(" ")
        finished = False
        try:
            for i, word in enumerate(words[:max_tokens]):
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield word if i == 0 else " " + word
            finished = True
        finally:
            if not finished:
                self.cancelled += 1


def fake_from_spec(arg: str, settings: Settings) -> LLM:
    """`fake` or `fake:SCRIPT.json`."""
    if not arg:
        return FakeLLM(context_tokens=settings.context_tokens)
    try:
        script = json.loads(Path(arg).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the fake model script {arg}: {exc}") from exc
    answers = script.get("answers", {})
    if not isinstance(answers, dict):
        raise ConfigError(f'"answers" in {arg} must map words to replies.')
    tools = script.get("tools", {})
    if not isinstance(tools, dict) or not all(isinstance(v, list) and all(isinstance(c, dict) and "name" in c
                                                                          for c in v) for v in tools.values()):
        raise ConfigError(f'"tools" in {arg} must map words to lists of calls ({{"name": …, "arguments": {{…}}}}).')
    return FakeLLM(script.get("replies", []), delay=float(script.get("delay", 0.0)),
                   fail=str(script.get("fail", "")), context_tokens=settings.context_tokens,
                   answers={str(k): str(v) for k, v in answers.items()}, tools=tools)


@hookimpl
def register_models(register: RegisterModel) -> None:
    register("fake", fake_from_spec, "Scripted model for tests and plugin authors: fake[:SCRIPT.json]")

