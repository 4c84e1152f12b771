"""`anthropic:MODEL`: Claude models through the official `anthropic` client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from os1.errors import ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, merge_system

INSTALL = "pip install 'os1[anthropic]'"


def alternate(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Anthropic wants user/assistant turns alternating and starting with the user: merge runs."""
    out: list[dict[str, str]] = []
    for m in messages:
        if out and out[-1]["role"] == m.role:
            out[-1]["content"] += "\n\n" + m.content
        else:
            out.append({"role": m.role, "content": m.content})
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": "(conversation continues)"})
    return out


class AnthropicModel(LLM):
    """Streams replies from Anthropic's Messages API."""

    def __init__(self, model: str, *, api_key: str = "", base_url: str = "",
                 context_tokens: int = 100_000, timeout: float = 60.0) -> None:
        try:
            import anthropic
        except ImportError as exc:
            raise ModelUnavailable("The anthropic package is not installed.",
                                   hint=f"Install it with: {INSTALL}") from exc
        if not model:
            raise ModelNotFound("Name the model after 'anthropic:', e.g. --model anthropic:claude-sonnet-4-5.")
        self._anthropic = anthropic
        self._model = model
        kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 1}
        if api_key:
            kwargs["api_key"] = api_key
        if base_url:
            kwargs["base_url"] = base_url
        try:
            self._client = anthropic.AsyncAnthropic(**kwargs)
        except anthropic.AnthropicError as exc:
            raise ModelUnavailable("No Anthropic API key is set.",
                                   hint="Set ANTHROPIC_API_KEY or `os1 config set anthropic_api_key …`.") from exc
        self.name = f"anthropic:{model}"
        self.context_tokens = context_tokens

    def _translate(self, exc: Exception) -> Exception:
        an = self._anthropic
        if isinstance(exc, TypeError) and not (getattr(self._client, "api_key", None)
                                               or getattr(self._client, "auth_token", None)):
            # anthropic 2.x builds the client without credentials and refuses only at the first request
            return ModelUnavailable("No Anthropic API key is set.",
                                    hint="Set ANTHROPIC_API_KEY or `os1 config set anthropic_api_key …`.")
        if isinstance(exc, an.APIConnectionError):
            return ModelUnavailable("Could not reach Anthropic's API.", hint="Check your network.")
        if isinstance(exc, an.AuthenticationError):
            return ModelUnavailable("Anthropic refused the API key.",
                                    hint="Set ANTHROPIC_API_KEY or `os1 config set anthropic_api_key …`.")
        if isinstance(exc, an.NotFoundError):
            return ModelNotFound(f"Anthropic has no model '{self._model}'.")
        if isinstance(exc, an.APIStatusError):
            return ModelResponseError(f"Anthropic answered with an error (HTTP {exc.status_code}).")
        return ModelResponseError("Anthropic sent a reply OS1 could not read.")

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        system, chat = merge_system(messages)
        readable = (self._anthropic.AnthropicError, ValueError, KeyError, TypeError)
        try:
            async with self._client.messages.stream(
                model=self._model, system=system, messages=alternate(chat),  # type: ignore[arg-type]
                max_tokens=max_tokens,  # anthropic 2.x chooses sampling itself: no temperature
            ) as response:
                async for text in response.text_stream:
                    yield text
        except readable as exc:
            raise self._translate(exc) from exc

    async def aclose(self) -> None:
        await self._client.close()
