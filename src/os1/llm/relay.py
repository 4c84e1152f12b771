"""Two models as one voice: a quick one says the first words of a spoken reply, the main one goes on from them.

A spoken reply is heard from its first phrase. The 1.5B brain on this 2-core box takes about a second to its
first words in a conversation (it reads the turn's new tokens at ~38 a second), the 135M one a fifth of that.
So for speech the small model writes the first `OPENING_WORDS` words, and while they are spoken the main model
reads the rest of its prompt and continues the reply from the small model's words as if it had written them
(`can_continue`): what follows, and so what the reply says, is the main model's. While the user speaks, both
read ahead (`prepare`). Opt-in (`Settings.voice_opener`): measured, the quick model's openings steer the brain
wrong too often (docs/benchmarks.md, "Voice").
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing

from os1.errors import ConfigError, OS1Error
from os1.llm.base import LLM, Message

OPENING_WORDS = 2
"""Words the quick model says: the voice's first phrase is two words (`LoopConfig.chunks`)."""
OPENING_TOKENS = 8
RELAY_FROM_BYTES = 400_000_000
"""A local model file at least this big answers too slowly to speak first (the 0.5B and 1.5B packs)."""
_WORD_DONE = re.compile(rf"^\s*(\S+\s+){{{OPENING_WORDS}}}")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


def opening(text: str) -> str | None:
    """The first `OPENING_WORDS` words of `text` once they are complete (a space follows the last, or a
    sentence ended), else None."""
    done = _WORD_DONE.match(text)
    if done:
        return done.group(0).rstrip()
    if _SENTENCE_END.search(text.strip()):
        return text.strip()
    return None


class Relay(LLM):
    """`opener` (made on first use by `open_opener`) writes a spoken reply's first words, `main` the rest."""

    def __init__(self, main: LLM, open_opener: Callable[[], LLM]) -> None:
        if not main.can_continue:
            raise ConfigError(f"The model {main.name} cannot continue a reply another model began.")
        self.main = main
        self._open_opener = open_opener
        self._opener: LLM | None = None
        self.name = main.name
        self.context_tokens = main.context_tokens
        self.can_continue = True

    async def opener(self) -> LLM:
        """The quick model, opened on first use on a thread (loading it, and checking once in a child process
        that it runs on this CPU, takes seconds the event loop must not wait)."""
        if self._opener is None:
            opened = await asyncio.to_thread(self._open_opener)
            self._opener = self._opener or opened
        return self._opener

    def count_tokens(self, text: str) -> int:
        return self.main.count_tokens(text)

    async def prepare(self, messages: Sequence[Message]) -> None:
        await asyncio.gather(self._prepare_opener(messages), self.main.prepare(messages))

    async def _prepare_opener(self, messages: Sequence[Message]) -> None:
        with contextlib.suppress(OS1Error):  # without it the main model answers alone
            await (await self.opener()).prepare(messages)

    async def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
                     temperature: float = 0.7) -> AsyncGenerator[str, None]:
        if messages and messages[-1].role == "assistant":  # already a continuation: the main model's
            async with aclosing(self.main.stream(messages, max_tokens=max_tokens, temperature=temperature)) as rest:
                async for delta in rest:
                    yield delta
            return
        # The main model reads only once the quick one has spoken: on two cores, the two reading side by side
        # (and the voice synthesising the first words) slowed both.
        first = await self._first_words(messages, temperature)
        if first:
            yield first + " "  # the space says the phrase is whole: speech can start on it now
        # with its space: the opening said a word follows, so the main model goes on with one (not ", but")
        going_on = [*messages, Message("assistant", first + " ")] if first else list(messages)
        async with aclosing(self.main.stream(going_on, max_tokens=max_tokens, temperature=temperature)) as rest:
            lead = bool(first)  # the continuation's own first space came with the opening
            async for delta in rest:
                if lead:
                    delta = delta.lstrip()
                    if not delta:
                        continue
                    lead = False
                yield delta

    async def _first_words(self, messages: Sequence[Message], temperature: float) -> str:
        """The opener's first words; '' if it fails or says nothing (the main model then answers alone)."""
        text = ""
        try:
            opener = await self.opener()
            async with aclosing(opener.stream(messages, max_tokens=OPENING_TOKENS,
                                              temperature=temperature)) as deltas:
                async for delta in deltas:
                    text += delta
                    if (done := opening(text)) is not None:
                        return done
        except OS1Error:  # it could not be opened, or failed: the main model answers alone
            return ""
        return text.strip()

    async def aclose(self) -> None:
        return None  # both models belong to whoever opened them


def voice_model(main: LLM, open_opener: Callable[[], LLM]) -> LLM | None:
    """A `Relay` for spoken replies when `main` is a large local model (a file of `RELAY_FROM_BYTES` or more)
    that can continue a reply; None when the main model should speak for itself."""
    size = getattr(main, "file_bytes", 0)
    return Relay(main, open_opener) if main.can_continue and size >= RELAY_FROM_BYTES else None
