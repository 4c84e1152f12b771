"""`llm:MODEL_ID`: any model that simonw's `llm` library and its plugins provide."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

from os1.errors import ModelError, ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, merge_system
from os1.optional import require

INSTALL = "pip install 'os1[llm]'"


def transcript(messages: Sequence[Message]) -> str:
    """The chat so far as one prompt, for models the library drives one prompt at a time."""
    lines = [f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


class LLMLibraryModel(LLM):
    """Adapts an `llm` model to OS1's seam: async models directly, sync-only ones on a worker thread."""

    def __init__(self, model_id: str, *, context_tokens: int = 8192) -> None:
        llm = require("llm", what="The llm: backend", extra="llm", error=ModelUnavailable)
        self._llm = llm
        self._async: Any = None
        self._sync: Any = None
        try:
            self._async = llm.get_async_model(model_id)
        except llm.UnknownModelError:
            try:
                self._sync = llm.get_model(model_id)
            except llm.UnknownModelError as exc:
                raise ModelNotFound(f"The llm library knows no model '{model_id}'.",
                                    hint="`llm models` lists them; install the plugin that provides it.") from exc
        self.name = f"llm:{model_id}"
        self.context_tokens = context_tokens

    async def _pieces(self, prompt: str, system: str | None) -> AsyncGenerator[str, None]:
        """The response's text chunks, whichever kind of model this is."""
        if self._async is not None:
            async for piece in self._async.prompt(prompt, system=system):
                yield piece
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                for piece in self._sync.prompt(prompt, system=system):
                    if stop.is_set():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
            except Exception as exc:  # raised again on the event loop
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        done = loop.run_in_executor(None, work)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            await asyncio.shield(done)

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        system, chat = merge_system(messages)
        prompt = chat[-1].content if len(chat) == 1 else transcript(chat)
        try:
            async with aclosing(self._pieces(prompt, system or None)) as pieces:
                async for piece in pieces:
                    yield piece
        except self._llm.NeedsKeyException as exc:
            raise ModelUnavailable(f"{self.name} needs an API key: {exc}",
                                   hint="Set it with `llm keys set …`.") from exc
        except self._llm.ModelError as exc:  # how llm plugins report failures meant for the user
            raise ModelResponseError(f"{self.name} failed: {exc}") from exc
        except ModelError:
            raise
        except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
            raise ModelResponseError(f"{self.name} failed: {exc}") from exc
