"""Read the persona's package data files (prompts, questions, names)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any


@functools.cache
def text(name: str) -> str:
    """A text file from `os1/persona/data`."""
    return resources.files("os1.persona").joinpath("data", name).read_text(encoding="utf-8").strip()


@functools.cache
def toml(name: str) -> dict[str, Any]:
    """A TOML file from `os1/persona/data`, parsed once."""
    return tomllib.loads(text(name))
