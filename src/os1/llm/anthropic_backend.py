"""`anthropic:MODEL`: Claude models through the official `anthropic` client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from os1.errors import ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, Tool, ToolCall, merge_system, words_of
from os1.optional import require

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


def with_tools(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Like `alternate`, for a chat with tool calls (content blocks `tool_use`) and their results (a user turn
    of `tool_result` blocks)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        blocks: list[dict[str, Any]]
        if m.role == "tool":
            role, blocks = "user", [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}]
        else:
            role = m.role
            blocks = [{"type": "text", "text": m.content}] if m.content.strip() else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
                       for c in m.tool_calls]
        if out and out[-1]["role"] == role:
            out[-1]["content"] += blocks
        else:
            out.append({"role": role, "content": blocks})
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": "(conversation continues)"}]})
    return out


class AnthropicModel(LLM):
    """Streams replies from Anthropic's Messages API."""

    can_call_tools = True

    def __init__(self, model: str, *, api_key: str = "", base_url: str = "",
                 context_tokens: int = 100_000, timeout: float = 60.0) -> None:
        anthropic = require("anthropic", what="The anthropic: backend", extra="anthropic", error=ModelUnavailable)
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

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        return words_of(self.stream_turn(messages, (), max_tokens=max_tokens, temperature=temperature))

    async def stream_turn(
        self, messages: Sequence[Message], tools: Sequence[Tool], *, max_tokens: int = 256,
        temperature: float = 0.7
    ) -> AsyncGenerator[str | ToolCall, None]:
        system, chat = merge_system(messages)
        readable = (self._anthropic.AnthropicError, ValueError, KeyError, TypeError)
        extra: dict[str, Any] = {}
        if tools:
            extra["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                              for t in tools]
        chat_blocks: Any = with_tools(chat) if tools or any(m.role == "tool" or m.tool_calls for m in chat) \
            else alternate(chat)
        try:
            async with self._client.messages.stream(
                model=self._model, system=system, messages=chat_blocks,
                max_tokens=max_tokens,  # anthropic 2.x chooses sampling itself: no temperature
                **extra,
            ) as response:
                async for text in response.text_stream:
                    yield text
                final = await response.get_final_message()
        except readable as exc:
            raise self._translate(exc) from exc
        for block in final.content:
            if block.type == "tool_use":
                given: Any = block.input
                yield ToolCall(block.id, block.name, given if isinstance(given, dict) else {},
                               error="" if isinstance(given, dict) else "its input was not a JSON object")

    async def aclose(self) -> None:
        await self._client.close()
