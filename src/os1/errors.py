"""One error tree for OS1, with stable codes; turned into friendly text only at the edges.

    OS1Error (os1)
    ├── ClientGone (connection.gone)
    ├── ConfigError (config)
    ├── InputError (input)
    │   └── AudioError (input.audio)
    ├── ModelError (model)
    │   ├── ModelNotFound (model.not_found)
    │   ├── ModelUnavailable (model.unavailable)
    │   │   └── ModelCrashed (model.crashed)
    │   └── ModelResponseError (model.bad_response)
    ├── PluginError (plugin)
    ├── RequestRefused (request)
    ├── SkillError (skill)
    │   └── McpError (skill.mcp)
    ├── SpeechError (speech)
    │   └── SpeechUnavailable (speech.unavailable)
    └── StorageError (storage)
        ├── DatabaseCorrupt (storage.corrupt)
        └── DatabaseLocked (storage.locked)
"""

from __future__ import annotations


class OS1Error(Exception):
    """Base of every error OS1 raises on purpose; `hint` says how to fix it."""

    code = "os1"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def friendly(self) -> str:
        """One line (two with a hint) fit to show a person."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ClientGone(OS1Error):
    """The client disconnected while the server was writing to it (nothing to tell anyone: the turn is stored)."""

    code = "connection.gone"


class RequestRefused(OS1Error):
    """An HTTP request the server answers with an error `status` (the pages' API, the sign-in form, the
    OpenAI-compatible API each give it their own body)."""

    code = "request"

    def __init__(self, message: str, *, status: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class ConfigError(OS1Error):
    """The settings or the command line ask for something impossible."""

    code = "config"


class InputError(OS1Error):
    """The user's input cannot be used as it is."""

    code = "input"


class PluginError(OS1Error):
    """A plugin is missing, broken, or registers something twice."""

    code = "plugin"


class SkillError(OS1Error):
    """A skill is badly made, was given arguments that do not fit it, failed or took too long."""

    code = "skill"


class McpError(SkillError):
    """An MCP server could not be started or reached, did not answer in time, stopped, or its tool failed;
    `detail` holds the server's own words about it (outside text: data, never instructions), if any."""

    code = "skill.mcp"

    def __init__(self, message: str, *, hint: str = "", detail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.detail = detail


class ModelError(OS1Error):
    """The language model could not produce a reply."""

    code = "model"


class ModelNotFound(ModelError):
    """The model file or model name does not exist or cannot be loaded."""

    code = "model.not_found"


class ModelUnavailable(ModelError):
    """The model's server cannot be reached, or a needed package is not installed."""

    code = "model.unavailable"


class ModelCrashed(ModelUnavailable):
    """An in-process model cannot run on this computer: its native code died (e.g. SIGILL) in a probe."""

    code = "model.crashed"


class PackCorrupt(ModelNotFound):
    """A model pack's parts or joined file do not match its fixed size and sha256 (refused, and deleted)."""

    code = "model.pack_corrupt"


class ModelResponseError(ModelError):
    """The model's server answered with something that is not a usable reply."""

    code = "model.bad_response"


class StorageError(OS1Error):
    """The database cannot be used."""

    code = "storage"


class DatabaseCorrupt(StorageError):
    """The database file is damaged or not a database; OS1 refuses to touch it."""

    code = "storage.corrupt"


class DatabaseLocked(StorageError):
    """Another process holds the database."""

    code = "storage.locked"


class AudioError(InputError):
    """An audio file or buffer cannot be read: missing, truncated, not audio, or in an unusable shape."""

    code = "input.audio"


class SpeechError(OS1Error):
    """A speech engine (VAD, STT, TTS) failed on input it should have handled."""

    code = "speech"


class SpeechUnavailable(SpeechError):
    """A speech engine's package, program or model file is missing."""

    code = "speech.unavailable"
