"""The lazy import that names the install command (the speech errors live in `os1.errors`)."""

from __future__ import annotations

from typing import Any

from os1.errors import SpeechError, SpeechUnavailable
from os1.optional import require as _require

__all__ = ["SpeechError", "SpeechUnavailable", "require"]

VOICE_INSTALL = "pip install 'os1[voice]'"
ESPEAK_INSTALL = "sudo apt-get install espeak-ng"


def require(module: str, *, what: str, install: str = VOICE_INSTALL) -> Any:
    """Import an optional dependency when first used; raise `SpeechUnavailable` naming the fix otherwise."""
    return _require(module, what=what, hint=f"Install it with: {install}", error=SpeechUnavailable)
