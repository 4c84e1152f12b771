"""Fakes that implement OS1's real interfaces, for deterministic tests and plugin authors.

`FakeLLM` is registered as the `fake` model through the same entry-point hook as every backend (the speech
engines' fakes are in `os1.speech.testing`):

- `--model fake` echoes the user's last message;
- `--model fake:script.json` plays `{"replies": ["…", …], "answers": {"weather": "…"}, "delay": 0.05,
  "fail": "unavailable"}`: an answer whose key the user's last message contains (case-insensitive), else
  replies in order (then echo), `delay` seconds between words, and an optional failure. Answers suit a
  voice loop, which may start a reply speculatively and drop it: a dropped stream still takes a queued reply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from os1.errors import ConfigError, ModelError, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message
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
                 context_tokens: int = 2048, answers: Mapping[str, str] | None = None) -> None:
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

    def enqueue(self, *replies: str) -> None:
        """Add replies to play next."""
        self.replies.extend(replies)

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
    return FakeLLM(script.get("replies", []), delay=float(script.get("delay", 0.0)),
                   fail=str(script.get("fail", "")), context_tokens=settings.context_tokens,
                   answers={str(k): str(v) for k, v in answers.items()})


@hookimpl
def register_models(register: RegisterModel) -> None:
    register("fake", fake_from_spec, "Scripted model for tests and plugin authors: fake[:SCRIPT.json]")

