"""MCP servers' tools as skills: every tool of every server the user configured (`os1 config mcp`).

A tool becomes a `Skill` named `SERVER_TOOL` (snake_case), with the tool's own JSON schema (`parameters`),
`source` `mcp:SERVER`, and the effect the user marked it with, else `acts`: it runs only after the user's yes,
since OS1 cannot know what someone else's tool does (a server's own hints are its word, not the user's). It has
no label in the learnt classifier: the embedded router reaches it by the patterns the user gave it, and a
tool-calling model by its name and description. What it returns is untrusted text (`Done.untrusted`).

The tools are listed once, when the router is built (`skills_router`, one per configuration); a server that
cannot start in time is a warning and its tools are absent, and OS1 starts all the same.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from os1.config import Settings
from os1.errors import SkillError
from os1.skills.base import Done, Skill, SkillContext, SkillFunction
from os1.skills.executor import installed_router
from os1.skills.mcp_client import Connection, ToolInfo, list_tools
from os1.skills.mcp_config import McpServer, servers
from os1.skills.router import Router, compile_pattern

_MAX_NAME = 64
"""Tool-calling APIs take names of at most 64 characters."""
_MAX_DESCRIPTION = 200
Warn = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def skills_router(settings: Settings, warn: Warn | None = None) -> Router:
    """The installed skills' router, with the configured MCP servers' tools added; each warning (a server that
    cannot start, a bad pattern) goes to `warn` (standard error by default)."""
    configured = servers(settings.config_path)
    if not configured:
        return installed_router()
    router, warnings = _router(configured, settings.home / "mcp")
    for message in warnings:
        (warn or _stderr)(message)
    return router


@functools.lru_cache(maxsize=8)
def _router(configured: tuple[McpServer, ...], log_dir: Path) -> tuple[Router, tuple[str, ...]]:
    base = installed_router()
    warnings: list[str] = []
    skills = mcp_skills(configured, log_dir, {s.name for s in base.skills}, warnings.append)
    return Router((*base.skills, *skills), base.classifier), tuple(warnings)


_CONNECTIONS: dict[tuple[object, ...], Connection] = {}


def connection(server: McpServer, log_dir: Path | None = None) -> Connection:
    """The one connection to `server` (shared by every router that holds its tools)."""
    found = _CONNECTIONS.get(server.link)
    if found is None:
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        found = _CONNECTIONS[server.link] = Connection(server, log_dir)
    return found


def mcp_skills(configured: Iterable[McpServer], log_dir: Path | None, taken: set[str], warn: Warn) -> list[Skill]:
    """Every tool of the servers as a skill (its servers asked at once); what cannot be used is a warning."""
    chosen = list(configured)
    connections = [connection(server, log_dir) for server in chosen]
    found: list[Skill] = []
    for server, link, tools in zip(chosen, connections, list_tools(connections), strict=True):
        if isinstance(tools, BaseException):
            warn(f"{tools.message} Its tools are left out. {tools.hint}".strip())
            continue
        for tool in tools:
            try:
                skill = tool_skill(server, tool, link, taken, warn)
            except SkillError as exc:
                warn(f"MCP server '{server.name}': tool {tool.name!r} is left out: {exc.message}")
                continue
            taken.add(skill.name)
            found.append(skill)
    return found


def skill_name(server: str, tool: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """`SERVER_TOOL` in snake_case, within 64 characters, and unlike every name in `taken`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", f"{server}_{tool}")
    name = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[:_MAX_NAME] or "mcp_tool"
    name = name if name[0].isalpha() else f"mcp_{name}"[:_MAX_NAME]
    unique, number = name, 2
    while unique in taken:
        unique = f"{name[:_MAX_NAME - 1 - len(str(number))]}_{number}"
        number += 1
    return unique


def describe(server: McpServer, tool: ToolInfo) -> str:
    """One sentence for "what can you do?", the confirmation and a model: the tool's first line, its server."""
    first = next((line.strip() for line in tool.description.splitlines() if line.strip()), "")
    text = (first[:_MAX_DESCRIPTION].rstrip(". ") or f"Use {tool.name}")
    return f"{text} (MCP: {server.name})."


def tool_skill(server: McpServer, tool: ToolInfo, link: Connection, taken: set[str], warn: Warn) -> Skill:
    """One tool as a skill; a `SkillError` when its schema cannot be one."""
    name = skill_name(server.name, tool.name, taken)
    skill = Skill(name, describe(server, tool), _runner(link, tool.name), effect=server.effect(tool.name),
                  parameters=tool.schema, source=f"mcp:{server.name}")
    intents: list[str] = []
    arguments = set(skill.schema().get("properties", {}))
    for pattern in server.patterns(tool.name):
        try:
            compile_pattern(skill, pattern)
        except SkillError as exc:
            warn(f"{exc.message} The pattern is left out.")
            continue
        unknown = sorted(set(re.findall(r"\{(\w+)\}", pattern)) - arguments)
        if unknown:
            warn(f"MCP server '{server.name}': {tool.name} takes no argument {', '.join(unknown)} (pattern "
                 f"{pattern!r} is left out).")
            continue
        intents.append(pattern)
    return dataclasses.replace(skill, intents=tuple(intents))


def _runner(link: Connection, tool: str) -> SkillFunction:
    """The skill's function: the tool called on its server, its text as untrusted data."""

    async def run(context: SkillContext, **arguments: object) -> Done:
        text = await link.call(tool, arguments)
        return Done(text or f"{tool} gave no result.", untrusted=True)

    return run
