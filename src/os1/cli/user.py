"""`os1 user add|remove|passwd|list`: the accounts of a server that many people share (`os1 serve`).

When the first account is made on a machine already in use, the local user's conversation (the one `os1` and
`os1 chat` hold without accounts) must not be stranded: the owner says whether it is theirs (`--owner`: the
account takes that user over, with every turn, memory, setting and key) or not (`--new-user`). At a terminal
OS1 asks; otherwise it refuses until one of the two is given.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.console import Console
from rich.table import Table

from os1.config import Settings, set_config_value
from os1.errors import InputError
from os1.llm.kvstate import clear_saved
from os1.memory.timeparse import describe
from os1.server.accounts import Accounts


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `user` subcommand."""
    user = sub.add_parser("user", help="accounts for a server many people share (add, remove, passwd, list)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="make an account (the server then asks everyone to sign in)")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    whose = add.add_mutually_exclusive_group()
    whose.add_argument("--owner", action="store_true",
                       help="the conversation OS1 already holds on this machine is this account's: it takes it over")
    whose.add_argument("--new-user", action="store_true",
                       help="a new person: the conversation OS1 already holds stays where it is")
    remove = actions.add_parser("remove", help="remove an account and everything OS1 keeps of its user")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    passwd = actions.add_parser("passwd", help="give an account a new password (every sign-in of it ends)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("list", help="the accounts")


def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Carry out one `os1 user` action."""
    from os1.memory import Database

    db = Database(settings.db_path)
    try:
        accounts = Accounts(db)
        if args.action == "add":
            return _add(settings, accounts, args, console)
        if args.action == "remove":
            if not args.yes and not _confirm(console, args.name):
                console.print("Nothing removed.")
                return 1
            accounts.remove(args.name)
            clear_saved(settings.home)  # a local model's saved reading of their persona
            console.print(f"Removed '{args.name}' and everything OS1 kept of them; a running server has closed "
                          "their pages.", markup=False)
        elif args.action == "passwd":
            if not accounts.has_account(args.name):
                raise InputError(f"There is no account '{args.name}'.", hint="`os1 user list` shows the accounts.")
            ended = accounts.set_password(args.name, _password(args.password_stdin))
            console.print(f"Changed the password of '{args.name}'; {ended} sign-in(s) ended, so every browser of "
                          "theirs signs in again.", markup=False)
        else:
            table = Table("name", "since", "signed in", title="Accounts")
            for account in accounts.list():
                table.add_row(account.name, describe(account.created), str(account.signed_in))
            console.print(table)
    finally:
        db.close()
    return 0


def _add(settings: Settings, accounts: Accounts, args: argparse.Namespace, console: Console) -> int:
    first = not accounts.exist()
    local = args.user
    life = accounts.life(local)
    take_over = args.owner
    if (first and life.turns and args.name != local and not accounts.has_account(local)
            and not (args.owner or args.new_user)):
        take_over = _ask_whose(console, args, local, life.turns, life.memories)
    accounts.add(args.name, _password(args.password_stdin), take_over=local if take_over else None)
    console.print(f"Made the account '{args.name}'" + (", with the conversation OS1 already held here." if take_over
                                                       else "."), markup=False)
    if take_over and args.name != local:
        set_config_value(settings, "user", args.name)  # the terminal goes on with the same life
        console.print(f"`os1 chat` and the other terminal commands now talk with {args.name}'s OS (the setting "
                      f"`user` in {settings.config_path}).", markup=False)
    if first:
        console.print("The server now asks everyone to sign in (a running one too, from its next request), and "
                      "may listen on other addresses (os1 serve --host 0.0.0.0).", markup=False)
    return 0


def _ask_whose(console: Console, args: argparse.Namespace, local: str, turns: int, memories: int) -> bool:
    """Whether the local user's conversation is the new account's: asked at a terminal, else refused."""
    held = f"{turns} turns" + (f" and {memories} memories" if memories else "")
    if args.password_stdin or not sys.stdin.isatty():
        raise InputError(f"OS1 already holds a conversation on this machine ({held}). Say whose it is.",
                         hint=f"--owner: it is {args.name}'s, who takes it over with every memory, setting and key; "
                              f"--new-user: {args.name} starts afresh and it stays with this machine's user "
                              f"('{local}').")
    console.print(f"OS1 already holds a conversation on this machine ({held}). Is it yours, {args.name}? Yes: it "
                  "becomes your account's, with every memory, setting and key. No: you start afresh. [y/n] ",
                  end="", markup=False)
    for _ in range(3):  # an unclear answer is asked again, never guessed
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes", "n", "no"):
            return answer.startswith("y")
        console.print("Please answer y (it is yours) or n (you start afresh): ", end="", markup=False)
    raise InputError("Nothing was made: answer y or n.", hint="Or say it with --owner or --new-user.")


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
