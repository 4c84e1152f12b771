"""`os1 config mcp add|mark|intent|remove|list`: the MCP servers whose tools are OS1's skills.

    os1 config mcp add files -- npx -y @modelcontextprotocol/server-filesystem ~/Documents
    os1 config mcp add weather --url http://127.0.0.1:8000/mcp
    os1 config mcp mark weather forecast reads      # runs without asking (every other tool asks first)
    os1 config mcp intent weather forecast "[what is the] weather in {city}"
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from os1.config import Settings
from os1.errors import ConfigError, McpError, SkillError
from os1.skills import mcp_config
from os1.skills.base import EFFECTS, Done, Skill, SkillContext
from os1.skills.mcp_config import McpServer
from os1.skills.router import compile_pattern


def add_parser(config: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `config mcp` subcommand and its actions."""
    mcp = config.add_parser("mcp", help="the MCP servers whose tools are skills (add, mark, intent, remove, list)")
    actions = mcp.add_subparsers(dest="mcp_action", required=True)
    add = actions.add_parser("add", help="add a server: NAME -- COMMAND ARGS... (stdio) or NAME --url URL")
    add.add_argument("name")
    add.add_argument("program", nargs="*", metavar="COMMAND",
                     help="after `--`: the program that runs the server, and its arguments")
    add.add_argument("--url", default="", help="a streamable HTTP server's endpoint, e.g. http://127.0.0.1:8000/mcp")
    add.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="for the server's program")
    add.add_argument("--cwd", default="", help="where the server's program runs")
    add.add_argument("--timeout", type=float, default=mcp_config.CALL_TIMEOUT_S,
                     help=f"seconds one call may take (default {mcp_config.CALL_TIMEOUT_S:g})")
    mark = actions.add_parser("mark", help="say what a tool does: reads (runs at once), changes, acts (asks first)")
    mark.add_argument("name")
    mark.add_argument("tool")
    mark.add_argument("effect", choices=EFFECTS)
    intent = actions.add_parser("intent", help="a pattern the embedded router sends to a tool, e.g. "
                                               "\"weather in {city}\"")
    intent.add_argument("name")
    intent.add_argument("tool")
    intent.add_argument("pattern", nargs="?")
    intent.add_argument("--clear", action="store_true", help="remove the tool's patterns")
    remove = actions.add_parser("remove", help="forget a server")
    remove.add_argument("name")
    actions.add_parser("list", help="the servers and, for those that answer, their tools and effects")


def takes_command(args: argparse.Namespace, rest: list[str]) -> bool:
    """Whether `rest`, what the parser left after `--`, is the command of `config mcp add` (argparse gives
    it back when an option such as --env came before `--`)."""
    if getattr(args, "mcp_action", None) != "add" or args.program or rest[:1] != ["--"] or len(rest) < 2:
        return False
    args.program = rest[1:]
    return True


def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Carry out one `os1 config mcp` action."""
    path = settings.config_path
    if args.mcp_action == "add":
        server = _new(args)
        mcp_config.save(path, server)
        console.print(f"Added MCP server '{server.name}' ({server.target}); every tool of it asks before it runs "
                      "until you mark it (`os1 config mcp mark`).", markup=False)
    elif args.mcp_action == "mark":
        mcp_config.save(path, mcp_config.find(path, args.name).marked(args.tool, args.effect))
        console.print(f"{args.tool} of '{args.name}' {args.effect}.", markup=False)
    elif args.mcp_action == "intent":
        if args.clear == (args.pattern is not None):
            raise ConfigError("Give a pattern, or --clear.")
        _check(args.pattern)
        mcp_config.save(path, mcp_config.find(path, args.name).with_intent(args.tool, args.pattern))
        console.print(f"Saved the patterns of {args.tool} of '{args.name}'.", markup=False)
    elif args.mcp_action == "remove":
        mcp_config.remove(path, args.name)
        console.print(f"Removed MCP server '{args.name}'.", markup=False)
    else:
        _list(settings, console)
    return 0


def _new(args: argparse.Namespace) -> McpServer:
    env: list[tuple[str, str]] = []
    for pair in args.env:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise ConfigError(f"--env takes KEY=VALUE, not {pair!r}.")
        env.append((key, value))
    if args.url and (args.program or env or args.cwd):
        raise ConfigError("A server has a URL or a command (with --env and --cwd), not both.")
    return McpServer(args.name, tuple(args.program), args.url, tuple(sorted(env)), args.cwd, args.timeout)


def _check(pattern: str | None) -> None:
    """A `ConfigError` for a pattern the router cannot read."""
    if pattern is None:
        return
    async def nothing(context: SkillContext) -> Done:
        return Done("")

    try:
        compile_pattern(Skill("pattern", "A pattern.", nothing), pattern)
    except SkillError as exc:
        raise ConfigError(exc.message, hint="Words, {slot}, [optional], (one|other) and * make a pattern.") from exc


def _list(settings: Settings, console: Console) -> int:
    from os1.skills.mcp import connection, skill_name
    from os1.skills.mcp_client import list_tools

    configured = mcp_config.servers(settings.config_path)
    if not configured:
        console.print("No MCP servers. Add one: os1 config mcp add NAME -- COMMAND ARGS... (or --url URL)",
                      markup=False)
        return 0
    links = [connection(server, settings.home / "mcp") for server in configured]
    try:
        for server, tools in zip(configured, list_tools(links), strict=True):
            console.print(f"{server.name}: {server.target}", markup=False)
            if isinstance(tools, McpError):
                console.print(f"  (cannot list its tools: {f'{tools.message} {tools.hint}'.strip()})", markup=False)
                continue
            table = Table("skill", "tool", "effect", "patterns", "what it says it does")
            for tool in tools:
                table.add_row(skill_name(server.name, tool.name), escape(tool.name), server.effect(tool.name),
                              escape("; ".join(server.patterns(tool.name))),
                              escape(tool.description.split("\n")[0][:80]))
            console.print(table)
    finally:
        for link in links:
            link.close()
    return 0
