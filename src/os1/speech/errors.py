"""The lazy import that names the install command (the speech errors live in `os1.errors`)."""

from __future__ import annotations

import importlib
from typing import Any

from os1.errors import SpeechError, SpeechUnavailable

__all__ = ["SpeechError", "SpeechUnavailable", "require"]

VOICE_INSTALL = "pip install 'os1[voice]'"
ESPEAK_INSTALL = "sudo apt-get install espeak-ng"


def require(module: str, *, what: str, install: str = VOICE_INSTALL) -> Any:
    """Import an optional dependency when first used; raise `SpeechUnavailable` naming the fix otherwise."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SpeechUnavailable(f"{what} needs the Python package '{module}', which is not installed.",
                                hint=f"Install it with: {install}") from exc
