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

import pluggy

from os1.hookspecs import (
    Hooks,
    ModelFactory,
    RegisterModel,
    RegisterSkill,
    RegisterSTT,
    RegisterTTS,
    RegisterVAD,
    hookimpl,
    hookspec,
)

__all__ = ["Hooks", "ModelFactory", "RegisterModel", "RegisterSTT", "RegisterSkill", "RegisterTTS", "RegisterVAD",
           "hookimpl", "hookspec", "plugin_manager"]


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every installed `os1` entry point loaded (the hooks:
    `os1.hookspecs`)."""
    pm = pluggy.PluginManager("os1")
    pm.add_hookspecs(Hooks)
    pm.load_setuptools_entrypoints("os1")
    return pm
