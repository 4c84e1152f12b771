"""`os1 user add|remove|list`: the accounts of a server that many people share (`os1 serve`)."""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.console import Console
from rich.table import Table

from os1.config import Settings
from os1.errors import InputError
from os1.memory.timeparse import describe


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `user` subcommand."""
    user = sub.add_parser("user", help="accounts for a server many people share (add, remove, list)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="make an account (the server then asks everyone to sign in)")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    remove = actions.add_parser("remove", help="remove an account and everything OS1 keeps of its user")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    actions.add_parser("list", help="the accounts")


def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Carry out one `os1 user` action."""
    from os1.memory import Database
    from os1.server.accounts import Accounts

    db = Database(settings.db_path)
    try:
        accounts = Accounts(db)
        if args.action == "add":
            first = not accounts.exist()
            accounts.add(args.name, _password(args.password_stdin))
            console.print(f"Made the account '{args.name}'.", markup=False)
            if first:
                console.print("The server now asks everyone to sign in, and may listen on other addresses "
                              "(os1 serve --host 0.0.0.0).", markup=False)
        elif args.action == "remove":
            if not args.yes and not _confirm(console, args.name):
                console.print("Nothing removed.")
                return 1
            accounts.remove(args.name)
            console.print(f"Removed '{args.name}' and everything OS1 kept of them.", markup=False)
        else:
            table = Table("name", "since", "signed in", title="Accounts")
            for account in accounts.list():
                table.add_row(account.name, describe(account.created), str(account.signed_in))
            console.print(table)
    finally:
        db.close()
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("There is no terminal to ask for the password.", hint="Pipe it in with --password-stdin.")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InputError("The two passwords differ; nothing was made.")
    return first


def _confirm(console: Console, name: str) -> bool:
    console.print(f"This removes '{name}' with every conversation, memory and setting OS1 kept of them. "
                  "Type the name to go on: ", end="", markup=False)
    return sys.stdin.readline().strip() == name
