"""Speech errors, to join the tree in `os1.errors`, and the lazy import that names the install command.

    OS1Error (os1)
    └── SpeechError (speech)
        └── SpeechUnavailable (speech.unavailable)
"""

from __future__ import annotations

import importlib
from typing import Any

from os1.errors import OS1Error

VOICE_INSTALL = "pip install 'os1[voice]'"


class SpeechError(OS1Error):
    """A speech engine (VAD, STT, TTS) failed on input it should have handled."""

    code = "speech"


class SpeechUnavailable(SpeechError):
    """A speech engine's package, program or model file is missing."""

    code = "speech.unavailable"


def require(module: str, *, what: str, install: str = VOICE_INSTALL) -> Any:
    """Import an optional dependency when first used; raise `SpeechUnavailable` naming the fix otherwise."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SpeechUnavailable(f"{what} needs the Python package '{module}', which is not installed.",
                                hint=f"Install it with: {install}") from exc
