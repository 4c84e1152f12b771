"""`openai:MODEL`: any OpenAI-compatible server (OpenAI, Ollama, llama.cpp server, vLLM, LM Studio)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from os1.errors import ModelNotFound, ModelResponseError, ModelUnavailable
from os1.llm.base import LLM, Message

INSTALL = "pip install 'os1[openai]'"


class OpenAIModel(LLM):
    """Streams chat completions from an OpenAI-compatible endpoint with the official `openai` client."""

    def __init__(self, model: str, *, base_url: str = "", api_key: str = "",
                 context_tokens: int = 8192, timeout: float = 60.0) -> None:
        try:
            import openai
        except ImportError as exc:
            raise ModelUnavailable("The openai package is not installed.",
                                   hint=f"Install it with: {INSTALL}") from exc
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

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        payload: Any = [{"role": m.role, "content": m.content} for m in messages]
        readable = (self._openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError)
        try:
            response = await self._client.chat.completions.create(
                model=self._model, messages=payload, stream=True,
                max_tokens=max_tokens, temperature=temperature)
        except readable as exc:
            raise self._translate(exc) from exc
        chunks = 0
        try:
            async for chunk in response:
                if not getattr(chunk, "choices", None):
                    continue
                chunks += 1
                delta = chunk.choices[0].delta.content
                if delta:
                    yield delta
        except readable as exc:
            raise self._translate(exc) from exc
        finally:
            await response.close()
        if not chunks:  # a 200 whose body held no completion chunk at all (HTML, plain JSON, junk)
            raise ModelResponseError(f"The model server at {self._where} sent a reply OS1 could not read.")

    async def aclose(self) -> None:
        await self._client.close()
