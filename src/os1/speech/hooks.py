"""The options every speech factory receives (the speech hooks themselves are in `os1.hookspecs`).

A plugin registers engines by spec prefix, exactly as OS1's built-ins do (`os1.speech.builtin`)::

    @hookimpl
    def register_tts(register):
        register("mine", lambda arg, options: MyTTS(arg), "My voice: mine:NAME")
"""

from __future__ import annotations

from os1.hookspecs import (
    Hooks,
    RegisterSTT,
    RegisterTTS,
    RegisterVAD,
    SpeechOptions,
    STTFactory,
    TTSFactory,
    VADFactory,
)

__all__ = ["RegisterSTT", "RegisterTTS", "RegisterVAD", "STTFactory", "SpeechHooks", "SpeechOptions", "TTSFactory",
           "VADFactory"]
SpeechHooks = Hooks
"""The speech hooks are among `os1.hookspecs.Hooks` (the name is kept for plugins written against it)."""
