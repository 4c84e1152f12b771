"""Optional dependencies (the extras): imported when first used; a missing one is an OS1 error naming the fix."""

from __future__ import annotations

import importlib
from types import ModuleType

from os1.errors import ConfigError, OS1Error


def install_hint(extra: str) -> str:
    """The line that says how to install one of OS1's extras."""
    return f"Install it with: pip install 'os1[{extra}]'"


def require(module: str, *, what: str, extra: str = "", hint: str = "", package: str = "",
            error: type[OS1Error] = ConfigError) -> ModuleType:
    """Import `module` (e.g. `openai`, `mcp.client.stdio`); if it is missing, raise `error` saying that `what`
    needs `package` (default: the module's top name) and how to install it (`hint`, else the `extra`'s pip line)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.split(".", 1)[0]
        raise error(f"{what} needs the Python package '{name}', which is not installed.",
                    hint=hint or (install_hint(extra) if extra else "")) from exc
