"""`os1 doctor`: run each installed model backend once, each in a child process, and say what works here."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from os1.config import Settings
from os1.errors import OS1Error
from os1.llm.probe import ProbeResult, cpu_flags, llama_libraries, probe_command, run_probe, spec_command

NOT_CONFIGURED = "not configured"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    what: str
    ok: bool | None
    """None: nothing to run (not installed, not configured)."""
    detail: str


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("doctor", help="check the native build and run each model backend once, in a child process")


def native_check() -> Check:
    """Whether the installed llama.cpp uses instructions this CPU does not announce."""
    from os1.llm.native import disassembly, instruction_sets, refused

    libraries = [p for p in llama_libraries() if p.name.startswith("libggml-cpu")]
    if not libraries:
        return Check("llama.cpp build", None, "llama-cpp-python is not installed (pip install 'os1[embedded]')")
    used: dict[str, int] = {}
    try:
        for library in libraries:
            for name, count in instruction_sets(disassembly(library)).items():
                used[name] = used.get(name, 0) + count
    except OS1Error as exc:
        return Check("llama.cpp build", None, exc.message)
    sets = ", ".join(name.upper() for name, count in used.items() if count) or "no vector instructions"
    missing = refused(used, cpu_flags())
    if missing:
        return Check("llama.cpp build", False, f"uses {sets}; this CPU lacks {', '.join(missing)}: "
                                               "run `make llama-rebuild`")
    return Check("llama.cpp build", True, f"uses {sets}; this CPU has them all")


def _result(what: str, result: ProbeResult) -> Check:
    detail = result.detail if result.ok else f"failed: {result.detail}"
    return Check(what, result.ok, f"{detail} ({result.seconds:.1f} s)")


LOCAL = ("embedded", "tiny", "qwen-1.5b", "qwen-0.5b")
"""The in-process brains shipped with OS1."""


def local_check(name: str) -> Check:
    """One shipped brain run once in a child process; a pack only once it is joined (joining 1 GB is not a
    check's business: `os1 models --prepare` does it)."""
    from os1.llm.builtin import default_brain
    from os1.llm.llamacpp import embedded_model_path
    from os1.llm.packs import PACKS, models_dir, state

    what = f"model {name}"
    brain = default_brain() if name == "embedded" else name
    alias = f"{brain}: " if name == "embedded" else ""
    if brain == "tiny":
        try:
            path = embedded_model_path()
        except OS1Error as exc:
            return Check(what, None, exc.message)
    else:
        pack = PACKS[brain]
        now = state(pack, models_dir())
        if now != "verified":
            todo = {"installed": "installed, joined on first use (or now: os1 models --prepare)"}
            return Check(what, None, alias + todo.get(now, f"{now} ({pack.install})"))
        path = models_dir() / pack.file
    check = _result(what, run_probe(probe_command(path)))
    return Check(check.what, check.ok, alias + check.detail)


def model_checks(settings: Settings) -> list[Check]:
    """Each registered backend, run once where it can be: the embedded model always, the others when the
    settings name them (a server's address or key is needed)."""
    from os1.llm.registry import available_models, split_spec

    prefix, arg = split_spec(settings.model)
    checks: list[Check] = []
    for name, _entry in sorted(available_models().items()):
        what = f"model {name}"
        if name in LOCAL:
            checks.append(local_check(name))
        elif name == "gguf":
            if prefix != "gguf" or not arg:
                checks.append(Check(what, None, f"{NOT_CONFIGURED} (--model gguf:PATH)"))
            else:
                checks.append(_result(f"model {settings.model}", run_probe(probe_command(Path(arg).expanduser()))))
        elif name == prefix:
            checks.append(_result(f"model {settings.model}", run_probe(spec_command(settings.model, settings.home))))
        elif name == "fake":
            checks.append(_result(what, run_probe(spec_command("fake", settings.home))))
        else:
            checks.append(Check(what, None, f"{NOT_CONFIGURED} (--model {name}:…)"))
    return checks


def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Print the report; exit 0 when the configured model works, 1 when it does not."""
    checks = [native_check(), *model_checks(settings)]
    table = Table("check", "result", "detail", title=f"OS1 doctor (model: {settings.model})")
    marks = {True: "[green]works[/green]", False: "[bold red]fails[/bold red]", None: "[dim]—[/dim]"}
    for check in checks:
        table.add_row(check.what, marks[check.ok], check.detail)
    console.print(table)
    configured = [c for c in checks if c.what in (f"model {settings.model}", f"model {settings.model.split(':')[0]}")]
    return 0 if configured and all(c.ok for c in configured) else 1
