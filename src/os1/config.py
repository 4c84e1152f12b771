"""Explicit settings: one dataclass, one home directory, one TOML file written with mode 600.

Only the CLI and the server read the environment (`load_settings(env=...)`); library code takes a
`Settings` value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from os1.errors import ConfigError

CONFIG_NAME = "config.toml"
TABLES = frozenset({"mcp"})
"""Tables of the config file that are not settings (`[mcp.NAME]`: the MCP servers, `skills/mcp_config.py`):
kept as they are by every write, never read as settings."""
SECRET_KEYS = frozenset({"openai_api_key", "anthropic_api_key"})

# Environment variables read by `load_settings`, and the setting each one fills.
ENV_VARS = {
    "OS1_MODEL": "model",
    "OS1_VOICE_OPENER": "voice_opener",
    "OPENAI_API_KEY": "openai_api_key",
    "OPENAI_BASE_URL": "openai_base_url",
    "ANTHROPIC_API_KEY": "anthropic_api_key",
}


def default_home(env: Mapping[str, str]) -> Path:
    """`OS1_HOME`, else `$XDG_DATA_HOME/os1`, else `~/.local/share/os1`."""
    if env.get("OS1_HOME"):
        return Path(env["OS1_HOME"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "os1"


@dataclass(frozen=True)
class Settings:
    """Everything OS1 needs to know to start; keys are kept out of `repr` so they never reach a log."""

    home: Path
    """Where the database and config file live."""
    model: str = "embedded"
    """Model spec: `embedded`, `gguf:PATH`, `openai:MODEL`, `anthropic:MODEL`, `llm:MODEL_ID`…"""
    openai_base_url: str = ""
    """Base URL of an OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama."""
    openai_api_key: str = field(default="", repr=False)
    """Key for the OpenAI-compatible server (many local servers accept any value)."""
    anthropic_api_key: str = field(default="", repr=False)
    """Key for Anthropic's API."""
    context_tokens: int = 2048
    """Context window used for local models, and the budget the companion assembles into."""
    max_reply_tokens: int = 256
    """Longest reply, in tokens."""
    temperature: float = 0.7
    """Sampling temperature."""
    llm_threads: int = 1
    """CPU threads for the in-process model. One: on a two-core machine two llama.cpp threads collapse (0.6-1.1
    CPU-seconds a token against 0.16 on one) as soon as anything else runs, as the voice and memory always do."""
    voice_opener: str = "none"
    """A quick model (`tiny`, `qwen-0.5b`) to say a spoken reply's first two words when the main one is a large
    local model, which goes on from them (`llm/relay.py`); `none`, the default: the main model speaks for
    itself. Measured (docs/benchmarks.md, "Voice"): `tiny` first brings the 1.5B's median wait from ~1.1 s to
    ~0.7 s, but its openings steer the brain wrong (5 of 12 probes answered against 12)."""
    user: str = "local"
    """Whose OS the terminal (`os1 chat`, `talk`, `memory`, `key`) and a local-mode server are: `local` until an
    account takes this machine's conversation over (`os1 user add NAME --owner` sets it to NAME)."""

    @property
    def db_path(self) -> Path:
        """The SQLite database."""
        return self.home / "os1.db"

    @property
    def config_path(self) -> Path:
        """The TOML config file."""
        return self.home / CONFIG_NAME

    def public(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked, for `os1 config`."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "home":
                continue
            if key in SECRET_KEYS and value:
                value = "****" + str(value)[-4:] if len(str(value)) > 8 else "****"
            out[key] = value
        return out


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def coerce(key: str, raw: Any) -> Any:
    """Turn a raw value (from TOML, env or CLI) into the type the setting wants."""
    if key not in _FIELD_TYPES or key == "home":
        known = ", ".join(sorted(k for k in _FIELD_TYPES if k != "home"))
        raise ConfigError(f"Unknown setting '{key}'.", hint=f"Known settings: {known}.")
    kind = _FIELD_TYPES[key]
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting '{key}' must be a number, not {raw!r}.") from exc
    return str(raw)


def _read_toml(path: Path) -> dict[str, Any]:
    """The whole TOML file (settings and tables), or {} when there is none."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}",
                          hint="Fix it by hand or delete it to start from defaults.") from exc


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings stored in the TOML file (its `TABLES` aside), or {} when there is none."""
    return {k: coerce(k, v) for k, v in _read_toml(path).items() if k not in TABLES}


def read_config_table(path: Path, name: str) -> dict[str, Any]:
    """One of the file's `TABLES` (`mcp`…), or {} when it has none."""
    table = _read_toml(path).get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"In {path}, '{name}' must be a table ([{name}.NAME] sections).")
    return table


def write_config_table(path: Path, name: str, table: Mapping[str, Any]) -> None:
    """Replace one of the file's `TABLES` (dropped when empty), keeping the settings and the other tables."""
    stored = _read_toml(path)
    if table:
        stored[name] = dict(table)
    else:
        stored.pop(name, None)
    write_config_file(path, stored)


def write_config_file(path: Path, values: Mapping[str, Any]) -> None:
    """Write settings atomically, readable by the owner alone (mode 600), since it may hold keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(dict(values), fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def set_config_value(settings: Settings, key: str, raw: str) -> Settings:
    """Store one setting in the config file and return the updated settings."""
    value = coerce(key, raw)
    read_config_file(settings.config_path)  # the settings stored must be sound before one is added
    stored = _read_toml(settings.config_path)
    stored[key] = value
    write_config_file(settings.config_path, stored)
    return replace(settings, **{key: value})


def load_settings(env: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> Settings:
    """Defaults < config file < environment < command-line overrides."""
    home = default_home(env)
    values: dict[str, Any] = read_config_file(home / CONFIG_NAME)
    for var, key in ENV_VARS.items():
        if env.get(var):
            values[key] = env[var]
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = coerce(key, value)
    return Settings(home=home, **values)
