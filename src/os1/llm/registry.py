"""Turn a model spec (`embedded`, `gguf:PATH`, `openai:MODEL`…) into an LLM through the plugin hooks."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from os1.errors import ConfigError, ModelCrashed, ModelError, PluginError
from os1.llm.base import LLM, Message
from os1.plugins import ModelFactory, plugin_manager

if TYPE_CHECKING:
    from os1.config import Settings


@dataclass(frozen=True)
class ModelEntry:
    """A registered backend."""

    prefix: str
    factory: ModelFactory
    description: str


def available_models() -> dict[str, ModelEntry]:
    """Every backend that installed plugins register, by prefix."""
    entries: dict[str, ModelEntry] = {}

    def register(prefix: str, factory: ModelFactory, description: str) -> None:
        if prefix in entries:
            raise PluginError(f"Two plugins register the model prefix '{prefix}'.")
        entries[prefix] = ModelEntry(prefix, factory, description)

    plugin_manager().hook.register_models(register=register)
    return entries


def split_spec(spec: str) -> tuple[str, str]:
    """`openai:llama3` → (`openai`, `llama3`); `embedded` → (`embedded`, ``)."""
    prefix, _, arg = spec.strip().partition(":")
    return prefix.strip().lower(), arg.strip()


def get_model(spec: str, settings: Settings) -> LLM:
    """Build the model that `spec` names."""
    prefix, arg = split_spec(spec)
    entries = available_models()
    if prefix not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"Unknown model '{spec}'.",
                          hint=f"Use one of: {known} (for example --model openai:llama3.2).")
    return entries[prefix].factory(arg, settings)


class UnavailableModel(LLM):
    """Stands in for a model that cannot run here: every reply is its error (the user's turn is stored first),
    so the conversation, the server and the voice stay up and say what to do."""

    def __init__(self, name: str, error: ModelError) -> None:
        self.name = name
        self.error = error

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7
    ) -> AsyncGenerator[str, None]:
        raise self.error
        yield ""  # pragma: no cover  (makes this an async generator)


def open_model(spec: str, settings: Settings) -> LLM:
    """`get_model`, except that a model whose native code cannot run on this CPU becomes an
    `UnavailableModel` carrying the reason and the fix (any other error is raised: it is a wrong setting)."""
    try:
        return get_model(spec, settings)
    except ModelCrashed as exc:
        return UnavailableModel(spec, exc)
