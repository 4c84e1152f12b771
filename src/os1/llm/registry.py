"""Turn a model spec (`embedded`, `gguf:PATH`, `openai:MODEL`…) into an LLM through the plugin hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from os1.errors import ConfigError, PluginError
from os1.plugins import ModelFactory, plugin_manager

if TYPE_CHECKING:
    from os1.config import Settings
    from os1.llm.base import LLM


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
