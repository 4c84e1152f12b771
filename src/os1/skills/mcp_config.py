"""The MCP servers the user configured (`os1 config mcp`): `[mcp.NAME]` tables of the OS1 config file.

    [mcp.notes]
    command = ["notes-server", "--dir", "/home/me/notes"]  # a local server, spoken to over stdio; or
    url = "http://127.0.0.1:8000/mcp"                      # a server's streamable HTTP endpoint
    env = {NOTES_TOKEN = "..."}                            # with `command`: added to its environment
    cwd = "/home/me"                                       # with `command`: where it runs
    timeout_s = 8.0                                        # one call's limit (under the executor's 10 s)
    start_timeout_s = 10.0                                 # starting it and listing its tools
    effects = {list_notes = "reads"}                       # a tool not named here `acts`
    intents = {list_notes = ["[show] my notes"]}           # patterns the embedded router matches

The file is written with mode 600 (`config.write_config_file`): `env` may hold a server's key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from os1.config import read_config_table, write_config_table
from os1.errors import ConfigError
from os1.skills.base import EFFECTS, Effect

TABLE = "mcp"
CALL_TIMEOUT_S = 8.0
"""One call's limit, a little under the executor's 10 s so that the reply names the server and the tool."""
START_TIMEOUT_S = 10.0
"""Starting a server and listing its tools; one that takes longer is left out with a warning."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class McpServer:
    """One configured MCP server: how to reach it, and what the user said of its tools."""

    name: str
    command: tuple[str, ...] = ()
    """The program and its arguments, for a server spoken to over its stdin and stdout."""
    url: str = ""
    """The streamable HTTP endpoint, for a server that runs on its own."""
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = ""
    timeout_s: float = CALL_TIMEOUT_S
    start_timeout_s: float = START_TIMEOUT_S
    effects: tuple[tuple[str, Effect], ...] = ()
    """(tool, effect) the user marked; every other tool `acts` (asks before it runs)."""
    intents: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(tool, patterns) for the embedded router; a tool without any is chosen only by a tool-calling model."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"'{self.name}' cannot name an MCP server.",
                              hint="Use letters, digits, '_' or '-' (at most 40).")
        if bool(self.command) == bool(self.url):
            raise ConfigError(f"MCP server '{self.name}' needs a command or a URL (one of them).")
        if self.url and not re.match(r"^https?://\S+$", self.url):
            raise ConfigError(f"MCP server '{self.name}': {self.url!r} is not an http:// or https:// URL.")
        if not (self.timeout_s > 0 and self.start_timeout_s > 0):
            raise ConfigError(f"MCP server '{self.name}': its timeouts must be more than 0 seconds.")
        for tool, effect in self.effects:
            if effect not in EFFECTS:
                raise ConfigError(f"MCP server '{self.name}': {tool} cannot be marked {effect!r}.",
                                  hint=f"An effect is one of {', '.join(EFFECTS)}.")

    @property
    def link(self) -> tuple[object, ...]:
        """What the connection depends on (not the effects and intents): equal links share one connection."""
        return (self.name, self.command, self.url, self.env, self.cwd, self.timeout_s, self.start_timeout_s)

    @property
    def target(self) -> str:
        """The command or URL, as a person reads it."""
        return self.url or " ".join(self.command)

    def effect(self, tool: str) -> Effect:
        """The effect of `tool`: as the user marked it, else `acts`."""
        return dict(self.effects).get(tool, "acts")

    def patterns(self, tool: str) -> tuple[str, ...]:
        """The intent patterns the user gave `tool`."""
        return dict(self.intents).get(tool, ())

    def marked(self, tool: str, effect: str) -> McpServer:
        """This server with `tool` marked `effect`."""
        effects = {**dict(self.effects), tool: cast(Effect, effect)}
        return replace(self, effects=tuple(sorted(effects.items())))

    def with_intent(self, tool: str, pattern: str | None) -> McpServer:
        """This server with `pattern` added to `tool`'s intents (None: all of them removed)."""
        intents = dict(self.intents)
        intents[tool] = (*intents.get(tool, ()), pattern) if pattern is not None else ()
        return replace(self, intents=tuple(sorted((t, p) for t, p in intents.items() if p)))

    def table(self) -> dict[str, Any]:
        """The server as its `[mcp.NAME]` table."""
        out: dict[str, Any] = {"command": list(self.command)} if self.command else {"url": self.url}
        if self.env:
            out["env"] = dict(self.env)
        if self.cwd:
            out["cwd"] = self.cwd
        if self.timeout_s != CALL_TIMEOUT_S:
            out["timeout_s"] = self.timeout_s
        if self.start_timeout_s != START_TIMEOUT_S:
            out["start_timeout_s"] = self.start_timeout_s
        if self.effects:
            out["effects"] = dict(self.effects)
        if self.intents:
            out["intents"] = {tool: list(patterns) for tool, patterns in self.intents}
        return out

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any]) -> McpServer:
        """A server from its `[mcp.NAME]` table; a `ConfigError` says what is wrong with it."""
        try:
            command, env = table.get("command", []), table.get("env", {})
            effects, intents = table.get("effects", {}), table.get("intents", {})
            if not (isinstance(command, list) and isinstance(env, dict) and isinstance(effects, dict)
                    and isinstance(intents, dict)):
                raise TypeError
            return cls(name, tuple(str(c) for c in command), str(table.get("url", "")),
                       tuple(sorted((str(k), str(v)) for k, v in env.items())), str(table.get("cwd", "")),
                       float(table.get("timeout_s", CALL_TIMEOUT_S)),
                       float(table.get("start_timeout_s", START_TIMEOUT_S)),
                       tuple(sorted((str(t), cast(Effect, str(e))) for t, e in effects.items())),
                       tuple(sorted((str(t), _patterns(p)) for t, p in intents.items())))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"The config file's [mcp.{name}] table cannot be read.",
                              hint="`os1 config mcp remove` and `add` it again, or fix it by hand.") from exc


def _patterns(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise TypeError
    return tuple(str(p) for p in value)


def servers(path: Path) -> tuple[McpServer, ...]:
    """Every MCP server configured in the config file at `path`, in name order."""
    table = read_config_table(path, TABLE)
    if not all(isinstance(value, dict) for value in table.values()):
        raise ConfigError(f"In {path}, each MCP server must be a [mcp.NAME] table.")
    return tuple(McpServer.from_table(name, table[name]) for name in sorted(table))


def find(path: Path, name: str) -> McpServer:
    """The configured server `name`; a `ConfigError` when there is none."""
    for server in servers(path):
        if server.name == name:
            return server
    raise ConfigError(f"There is no MCP server '{name}'.", hint="`os1 config mcp list` shows them.")


def save(path: Path, server: McpServer) -> None:
    """Store `server` (adding it, or replacing the one of its name)."""
    table = read_config_table(path, TABLE)
    table[server.name] = server.table()
    write_config_table(path, TABLE, table)


def remove(path: Path, name: str) -> None:
    """Forget the server `name`; a `ConfigError` when there is none."""
    find(path, name)
    table = read_config_table(path, TABLE)
    del table[name]
    write_config_table(path, TABLE, table)
