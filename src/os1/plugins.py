"""One plugin mechanism: pluggy hooks loaded from the `os1` entry-point group.

OS1's own backends register through the same entry points a third-party package would use::

    # pyproject.toml of a plugin
    [project.entry-points.os1]
    my_models = "my_package.os1_plugin"

    # my_package/os1_plugin.py
    from os1.plugins import hookimpl

    @hookimpl
    def register_models(register):
        register("mine", lambda arg, settings: MyModel(arg), "My model: mine:NAME")
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from os1.config import Settings
    from os1.llm.base import LLM
    from os1.skills.base import Skill

hookspec = pluggy.HookspecMarker("os1")
hookimpl = pluggy.HookimplMarker("os1")

ModelFactory = Callable[[str, "Settings"], "LLM"]


class RegisterModel(Protocol):
    """The callback handed to `register_models`."""

    def __call__(self, prefix: str, factory: ModelFactory, description: str) -> None:
        """Make `prefix` or `prefix:ARG` model specs build models with `factory(ARG, settings)`."""


class RegisterSkill(Protocol):
    """The callback handed to `register_skills`."""

    def __call__(self, skill: Skill) -> None:
        """Make `skill` one the OS can run (its name must be unused)."""


class Hooks:
    """The hooks a plugin may implement."""

    @hookspec
    def register_models(self, register: RegisterModel) -> None:
        """Register language-model backends by spec prefix."""

    @hookspec
    def register_skills(self, register: RegisterSkill) -> None:
        """Register skills (`os1.skills.base.Skill`): things the OS can do besides talking."""


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every installed `os1` entry point loaded."""
    from os1.speech.hooks import SpeechHooks  # it imports hookspec from here

    pm = pluggy.PluginManager("os1")
    pm.add_hookspecs(Hooks)
    pm.add_hookspecs(SpeechHooks)
    pm.load_setuptools_entrypoints("os1")
    return pm
