"""Which instruction sets a native library uses, read from its machine code (`objdump -d`).

A llama.cpp built for the machine that compiled it carries that machine's instructions: AVX-512 or AMX code runs
on some CPUs and dies with SIGILL on others (or on a VM that advertises AMX but refuses it). The Makefile builds
llama.cpp for AVX2; this module is how a test and `os1 doctor` check that the installed build is that one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from os1.errors import ConfigError

_AMX = re.compile(r"\b(?:tile(?:zero|loadd|loaddt1|stored|release)|[ls]ttilecfg|tdp\w+|tcmm\w+)\b")
_AVX512 = re.compile(r"%zmm\d+|%k[1-7]\b")
_AVX2 = re.compile(r"%ymm\d+")
CPU_FLAG = {"amx": "amx_tile", "avx512": "avx512f", "avx2": "avx2"}
"""The /proc/cpuinfo flag a CPU must show to run each set."""


def disassembly(library: Path) -> str:
    """The library's machine code as text (needs binutils' objdump)."""
    objdump = shutil.which("objdump")
    if objdump is None:
        raise ConfigError("objdump is not installed, so the native build cannot be checked.",
                          hint="Install binutils (sudo apt-get install binutils); `make` does it.")
    done = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise ConfigError(f"objdump could not read {library}: {done.stderr.strip()}")
    return done.stdout


def instruction_sets(code: str) -> dict[str, int]:
    """How many instructions of each set that matters here (`amx`, `avx512`, `avx2`) the disassembly holds."""
    lines = code.splitlines()
    return {"amx": sum(1 for line in lines if _AMX.search(line)),
            "avx512": sum(1 for line in lines if _AVX512.search(line)),
            "avx2": sum(1 for line in lines if _AVX2.search(line))}


def refused(used: dict[str, int], flags: Iterable[str]) -> list[str]:
    """The sets the code uses that a CPU with these flags does not announce (an empty list: it can run)."""
    have = set(flags)
    return [name for name, count in used.items() if count and CPU_FLAG[name] not in have]
