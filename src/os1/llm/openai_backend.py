"""`openai:MODEL`: any OpenAI-compatible server (OpenAI, Ollama, llama.cpp server, vLLM, LM Studio)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from os1.errors import ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message, Tool, ToolCall, words_of
from os1.optional import require

INSTALL = "pip install 'os1[openai]'"


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages as the chat completions API takes them, tool calls and results included."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        elif m.tool_calls:
            out.append({"role": "assistant", "content": m.content or None, "tool_calls": [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}} for c in m.tool_calls]})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def read_arguments(call_id: str, name: str, raw: str) -> ToolCall:
    """A call whose arguments arrived as a JSON string; unreadable ones carry the reason instead."""
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return ToolCall(call_id, name, {}, error="its arguments were not valid JSON")
    if not isinstance(arguments, dict):
        return ToolCall(call_id, name, {}, error="its arguments were not a JSON object")
    return ToolCall(call_id, name, arguments)


class OpenAIModel(LLM):
    """Streams chat completions from an OpenAI-compatible endpoint with the official `openai` client."""

    can_call_tools = True

    def __init__(self, model: str, *, base_url: str = "", api_key: str = "",
                 context_tokens: int = 8192, timeout: float = 60.0) -> None:
        openai = require("openai", what="The openai: backend", extra="openai", error=ModelUnavailable)
        if not model:
            raise ModelNotFound("Name the model after 'openai:', e.g. --model openai:llama3.2.")
        self._openai = openai
        self._model = model
        self._where = base_url or "api.openai.com"
        # Local servers accept any key; the client insists on having one.
        self._client = openai.AsyncOpenAI(base_url=base_url or None, api_key=api_key or "os1-local",
                                          timeout=timeout, max_retries=1)
        self.name = f"openai:{model}"
        self.context_tokens = context_tokens

    def _translate(self, exc: Exception) -> Exception:
        """Map the client's errors onto OS1's tree, with one friendly line each."""
        oa = self._openai
        if isinstance(exc, oa.APIConnectionError):
            return ModelUnavailable(f"Could not reach the model server at {self._where}.",
                                    hint="Is it running? Check --base-url or OPENAI_BASE_URL.")
        if isinstance(exc, oa.AuthenticationError):
            return ModelUnavailable(f"The model server at {self._where} refused the API key.",
                                    hint="Set OPENAI_API_KEY or `os1 config set openai_api_key …`.")
        if isinstance(exc, oa.NotFoundError):
            return ModelNotFound(f"The server at {self._where} has no model '{self._model}'.")
        if isinstance(exc, oa.APIStatusError):
            return ModelResponseError(f"The model server at {self._where} answered with an error "
                                      f"(HTTP {exc.status_code}).")
        return ModelResponseError(f"The model server at {self._where} sent a reply OS1 could not read.")

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        return words_of(self.stream_turn(messages, (), max_tokens=max_tokens, temperature=temperature))

    async def stream_turn(
        self, messages: Sequence[Message], tools: Sequence[Tool], *, max_tokens: int = 256,
        temperature: float = 0.7
    ) -> AsyncGenerator[str | ToolCall, None]:
        payload: Any = wire_messages(messages)
        extra: dict[str, Any] = {}
        if tools:
            extra["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": dict(t.parameters)}} for t in tools]
        readable = (self._openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError)
        try:
            response = await self._client.chat.completions.create(
                model=self._model, messages=payload, stream=True,
                max_tokens=max_tokens, temperature=temperature, **extra)
        except readable as exc:
            raise self._translate(exc) from exc
        chunks = 0
        calls: dict[int, list[str]] = {}  # index -> [id, name, arguments so far]
        try:
            async for chunk in response:
                if not getattr(chunk, "choices", None):
                    continue
                chunks += 1
                delta = chunk.choices[0].delta
                if delta.content:
                    yield delta.content
                for part in delta.tool_calls or ():
                    call = calls.setdefault(part.index, ["", "", ""])
                    call[0] = part.id or call[0]
                    if part.function is not None:
                        call[1] += part.function.name or ""
                        call[2] += part.function.arguments or ""
        except readable as exc:
            raise self._translate(exc) from exc
        finally:
            await response.close()
        if not chunks:  # a 200 whose body held no completion chunk at all (HTML, plain JSON, junk)
            raise ModelResponseError(f"The model server at {self._where} sent a reply OS1 could not read.")
        for index, (call_id, name, raw) in sorted(calls.items()):
            yield read_arguments(call_id or f"call_{index}", name, raw)

    async def aclose(self) -> None:
        await self._client.close()
