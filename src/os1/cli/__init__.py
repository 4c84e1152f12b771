"""The `os1` command, one module per subcommand group: `root` (the parser, chat, config, reset, models, key),
`serve`, `talk`, `memory`, `user`, `doctor`, `mcp` (`os1 config mcp`).

`main` imports the command's modules only when it runs, so that importing one of them (or `os1.cli` itself) from
elsewhere pulls in nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `os1` command (`os1.cli.root.main`)."""
    from os1.cli.root import main as run

    return run(argv)
