"""The `os1` command: with no subcommand the web companion (`serve`, opening the page); chat, talk, config
(and `config mcp`), reset, models, doctor, memory, user, key."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from os1 import __version__
from os1.cli import doctor as cli_doctor
from os1.cli import mcp as cli_mcp
from os1.cli import memory as cli_memory
from os1.cli import serve as cli_serve
from os1.cli import talk as cli_talk
from os1.cli import user as cli_user
from os1.companion import Companion
from os1.config import Settings, load_settings, read_config_file, set_config_value
from os1.errors import ConfigError, OS1Error
from os1.local import LOCAL_USER, open_companion


def _common_options(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    """The options every command takes, before or after its name (`os1 --model X chat` = `os1 chat --model X`)."""
    parser.add_argument("--home", default=default, help="data directory (default: $OS1_HOME or ~/.local/share/os1)")
    parser.add_argument("--model", default=default,
                        help="embedded | gguf:PATH | openai:MODEL | anthropic:MODEL | llm:ID")
    parser.add_argument("--base-url", dest="openai_base_url", default=default, help="OpenAI-compatible server URL")
    parser.add_argument("--user", default=default, help=argparse.SUPPRESS)  # None: the settings' `user`


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser, at any depth (`memory`, `memory search`…)."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_subparsers(child)]
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="os1", description="OS1, an offline AI companion.")
    parser.add_argument("--version", action="version", version=f"os1 {__version__}")
    _common_options(parser)
    parser.add_argument("--no-browser", action="store_true", help="do not open the page (with no subcommand)")
    parser.add_argument("--port", type=int, default=cli_serve.DEFAULT_PORT,
                        help=f"the page's port (with no subcommand; default {cli_serve.DEFAULT_PORT})")
    parser.set_defaults(host=cli_serve.DEFAULT_HOST)
    sub = parser.add_subparsers(dest="command")
    chat = sub.add_parser("chat", help="talk in the terminal")
    chat.add_argument("--show-context", action="store_true",
                      help="print exactly what the model is given before each of its replies")
    chat.add_argument("--at", type=_moment, metavar="TIME",
                      help="store this session's turns at TIME (ISO 8601, e.g. 2026-03-01T19:30): for scripted "
                           "conversations and imports")
    config = sub.add_parser("config", help="show or change settings")
    config_sub = config.add_subparsers(dest="action")
    config_sub.add_parser("show", help="show the settings (keys masked)")
    config_get = config_sub.add_parser("get", help="print one setting")
    config_get.add_argument("key")
    config_set = config_sub.add_parser("set", help="store one setting in the config file")
    config_set.add_argument("key")
    config_set.add_argument("value")
    config_sub.add_parser("path", help="print where the config file is")
    cli_mcp.add_parser(config_sub)
    reset = sub.add_parser("reset", help="erase everything OS1 knows (asks first)")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    models = sub.add_parser("models", help="list the model backends and the offline brains (packs) installed")
    models.add_argument("--prepare", action="store_true",
                        help="join and verify every installed pack now (else it happens on first use)")
    cli_doctor.add_parser(sub)
    cli_memory.add_parser(sub)
    cli_talk.add_parser(sub)
    cli_serve.add_parsers(sub)
    cli_user.add_parser(sub)
    for child in _subparsers(parser):  # SUPPRESS: an option given only before the subcommand keeps its value
        _common_options(child, default=argparse.SUPPRESS)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, the config file and the flags (the CLI alone reads env)."""
    env = dict(os.environ)
    if args.home:
        env["OS1_HOME"] = args.home
    return load_settings(env, {"model": args.model, "openai_base_url": args.openai_base_url})


def with_companion(settings: Settings, args: argparse.Namespace, console: Console,
                   job: Callable[[Companion], Coroutine[Any, Any, int]]) -> int:
    """Open the user's store, model and memory, run `job` with their companion, and close everything."""
    with open_companion(settings, args.user, console) as companion:
        return asyncio.run(job(companion))


def _moment(text: str) -> datetime:
    """An ISO 8601 time for `--at`; one without an offset is in this machine's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO 8601 time such as 2026-03-01T19:30") from exc
    return moment.astimezone() if moment.tzinfo is None else moment


def cmd_chat(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    from os1.chat import run_chat

    return with_companion(settings, args, console, lambda companion: run_chat(
        companion, console, show_context=args.show_context, at=args.at))


def cmd_talk(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    return with_companion(settings, args, console, lambda companion: cli_talk.run(companion, args, console))


def cmd_memory(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    from os1.memory import Database

    db = Database(settings.db_path)
    try:
        return cli_memory.run(db, args.user, args, console)
    finally:
        db.close()


def cmd_config(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    action = args.action or "show"
    if action == "mcp":
        return cli_mcp.run(settings, args, console)
    if action == "path":
        console.print(str(settings.config_path), markup=False)
    elif action == "get":
        values = settings.public()
        if args.key not in values:
            raise ConfigError(f"Unknown setting '{args.key}'.", hint="`os1 config` lists them.")
        console.print(str(values[args.key]), markup=False)
    elif action == "set":
        set_config_value(settings, args.key, args.value)
        console.print(f"Saved {args.key} in {settings.config_path}.", markup=False)
    else:
        table = Table("setting", "value", "from file", title=f"OS1 settings ({settings.home})")
        stored = read_config_file(settings.config_path)
        for key, value in settings.public().items():
            table.add_row(key, str(value), "yes" if key in stored else "")
        console.print(table)
    return 0


def cmd_reset(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    paths = [settings.db_path.with_name(settings.db_path.name + s) for s in ("", "-wal", "-shm")]
    if not any(p.exists() for p in paths):
        console.print("Nothing to erase: OS1 has no data here yet.")
        return 0
    if not args.yes:
        console.print(f"This erases every conversation and memory in {settings.home} "
                      "(your settings file stays). Type 'yes' to go on: ", end="", markup=False)
        answer = sys.stdin.readline().strip().lower()
        if answer != "yes":
            console.print("Nothing erased.")
            return 1
    for path in paths:
        path.unlink(missing_ok=True)
    console.print("Erased. The next start is a first boot.")
    return 0


def cmd_models(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape

    from os1.llm import available_models
    from os1.llm.packs import PACKS, ensure, models_dir, state, terminal_progress

    directory = models_dir()
    if getattr(args, "prepare", False):
        for pack in PACKS.values():
            if state(pack, directory) == "installed":
                ensure(pack, directory, progress=terminal_progress(pack.title))
    table = Table("model", "what", title=f"Model backends (current: {settings.model})")
    for prefix, entry in sorted(available_models().items()):
        table.add_row(prefix, escape(entry.description))
    console.print(table)
    packs = Table("pack", "model", "state", "disk", "memory", title=f"Offline brains (joined into {directory})")
    shown = {"verified": "[green]installed, verified[/green]", "installed": "installed (joined on first use)",
             "incomplete": "[red]parts missing[/red]", "not installed": "[dim]not installed[/dim]"}
    for pack in PACKS.values():
        now = state(pack, directory)
        disk = f"{pack.size / 1e9:.1f} GB" + (" ×2 (parts + joined)" if now != "not installed" else "")
        install = escape(f" — {pack.install}") if now in ("not installed", "incomplete") else ""
        packs.add_row(pack.name, pack.title, shown[now] + install, disk, f"~{pack.resident_mb:,} MB")
    console.print(packs)
    console.print("`os1 doctor` runs each of them once and says which work on this computer.", markup=False)
    return 0


COMMANDS: dict[str, Any] = {"chat": cmd_chat, "config": cmd_config, "reset": cmd_reset,
                            "models": cmd_models, "memory": cmd_memory, "talk": cmd_talk,
                            "serve": cli_serve.serve, "key": cli_serve.key, "user": cli_user.run,
                            "doctor": cli_doctor.run}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `os1` command; OS1's errors become one friendly line, exit code 2."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not cli_mcp.takes_command(args, rest):
        parser.error("unrecognized arguments: " + " ".join(rest))
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False)
    try:
        settings = settings_from(args)
        args.user = args.user or settings.user or LOCAL_USER
        return int(COMMANDS[args.command or "serve"](settings, args, console))
    except OS1Error as exc:
        errors.print(exc.friendly(), style="bold red", markup=False)
        return 2
    except KeyboardInterrupt:
        return 130

