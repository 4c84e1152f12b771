"""`llm:MODEL_ID`: any model that simonw's `llm` library and its plugins provide."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from os1.errors import ModelError, ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, merge_system

INSTALL = "pip install 'os1[llm]'"


def transcript(messages: Sequence[Message]) -> str:
    """The chat so far as one prompt, for models the library drives one prompt at a time."""
    lines = [f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


class LLMLibraryModel(LLM):
    """Adapts an `llm` async model (or a sync one, run in a thread by the library) to OS1's seam."""

    def __init__(self, model_id: str, *, context_tokens: int = 8192) -> None:
        try:
            import llm
        except ImportError as exc:
            raise ModelUnavailable("The llm library is not installed.",
                                   hint=f"Install it with: {INSTALL}") from exc
        self._llm = llm
        try:
            self._model = llm.get_async_model(model_id)
        except llm.UnknownModelError as exc:
            raise ModelNotFound(f"The llm library knows no async model '{model_id}'.",
                                hint="`llm models` lists them; install the plugin that provides it.") from exc
        self.name = f"llm:{model_id}"
        self.context_tokens = context_tokens

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        system, chat = merge_system(messages)
        prompt = chat[-1].content if len(chat) == 1 else transcript(chat)
        try:
            response = self._model.prompt(prompt, system=system or None)
            async for piece in response:
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
