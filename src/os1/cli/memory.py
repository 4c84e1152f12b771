"""`os1 memory search|show|forget|export|import|vocabulary`: look into what OS1 remembers, and change it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from os1.local import open_memory
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.forget import forget
from os1.memory.timeparse import describe
from os1.memory.transfer import import_memory, read_export, write_export


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `memory` subcommand and its actions."""
    memory = sub.add_parser("memory", help="search, show, forget, export or import what OS1 remembers")
    actions = memory.add_subparsers(dest="action", required=True)
    search = actions.add_parser("search", help="what OS1 would recall for a question")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10, help="how many results")
    show = actions.add_parser("show", help="the memory items derived from your conversations")
    show.add_argument("--kind", choices=["fact", "event", "preference", "person", "plan", "vocabulary"])
    show.add_argument("--limit", type=int, default=50)
    gone = actions.add_parser("forget", help="delete everything that mentions a topic, everywhere")
    gone.add_argument("topic")
    gone.add_argument("--yes", action="store_true", help="do not ask")
    export = actions.add_parser("export", help="write everything to one JSON file")
    export.add_argument("file", type=Path)
    load = actions.add_parser("import", help="load an export into a fresh OS1")
    load.add_argument("file", type=Path)
    vocab = actions.add_parser("vocabulary", help="list your personal terms, or teach one")
    vocab.add_argument("term", nargs="?")
    vocab.add_argument("meaning", nargs="?")


def run(db: Database, user: str, args: argparse.Namespace, console: Console) -> int:
    """Carry out one `os1 memory` action."""
    memory = open_memory(db.user(user), console)
    try:
        return asyncio.run(_run(memory, args, console))
    finally:
        memory.close()


async def _run(memory: Memory, args: argparse.Namespace, console: Console) -> int:
    await memory.flush()
    if args.action == "search":
        results = await memory.recall(args.query, k=args.k)
        if not results:
            console.print("Nothing I remember matches that.", markup=False)
            return 0
        table = Table("score", "when", "what", title=f"Recall for: {args.query}")
        for found in results:
            line = f"{found.speaker}: {found.text}" if found.kind == "turn" and found.speaker else found.render()
            table.add_row(f"{found.score:.3f}", describe(found.at), line)
        console.print(table)
    elif args.action == "show":
        name = memory.store.get("os.name") or "OS1"
        table = Table("kind", "since", "until", "memory", title=f"What {name} remembers")
        for item in memory.items(kind=args.kind, limit=args.limit):
            until = describe(item.valid_until) if item.valid_until else ""
            table.add_row(item.kind, describe(item.valid_from), until, item.text)
        console.print(table)
    elif args.action == "forget":
        return _forget(memory, args, console)
    elif args.action == "export":
        count = write_export(memory, args.file)
        console.print(f"Wrote {count} turns and their memories to {args.file}.", markup=False)
    elif args.action == "import":
        count = import_memory(memory, read_export(args.file))
        await memory.flush()
        console.print(f"Imported {count} turns from {args.file}.", markup=False)
    elif args.term and args.meaning:
        memory.teach(args.term, args.meaning)
        console.print(f"I'll remember that {args.term} means {args.meaning}.", markup=False)
    else:
        for term, meaning in memory.vocabulary().items():
            console.print(f"{term}: {meaning}", markup=False)
    return 0


def _forget(memory: Memory, args: argparse.Namespace, console: Console) -> int:
    if not args.yes:
        console.print(f"Forget everything that mentions '{args.topic}'? This cannot be undone. Type 'yes': ",
                      end="", markup=False)
        if sys.stdin.readline().strip().lower() != "yes":
            console.print("Nothing forgotten.")
            return 1
    report = forget(memory, args.topic)
    console.print(f"Forgotten: {report.turns} turns, {report.items} memories, {report.terms} terms, "
                  f"{report.profile} profile answers, {report.listed} list items.", markup=False)
    return 0
