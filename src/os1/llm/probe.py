"""Run an in-process model once in a child process first, so a CPU that refuses its code is an error, not a death.

llama.cpp runs native code in OS1's own process: built for a CPU this one is not (or on a VM that advertises
instructions it refuses, such as AMX), the first completion kills the process with SIGILL, the user's turn and
the server with it. `ensure_runs` loads the model and decodes a few tokens in a child (`python -m
os1.llm.probe FILE`), and raises `ModelCrashed` naming the fix when the child dies. A success is remembered per
model file, llama.cpp build and CPU, so each start after the first pays nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from os1.errors import ModelCrashed

PROBE_FILE = "probes.json"
"""Where the results are remembered, in OS1's home."""
TIMEOUT_S = 300.0
"""How long a probe may take (a large model loads slowly from a cold disk)."""
PROMPT = "<|im_start|>user\nSay hello.<|im_end|>\n<|im_start|>assistant\n"
REBUILD = "make llama-rebuild"
"""The Makefile target that builds llama.cpp again, portably."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """How one run of a model in a child process went."""

    ok: bool
    """Whether it loaded and decoded."""
    detail: str
    """What happened: tokens per second, or how it failed (the signal's name, the error's last line)."""
    seconds: float
    """Wall time of the child."""
    signal: str = ""
    """The signal that killed the child (`SIGILL`…), '' when it exited."""


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def llama_libraries() -> list[Path]:
    """llama-cpp-python's native libraries (found without importing it: importing loads them)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    found: dict[str, Path] = {}  # a wheel holds copies, not links: libggml-cpu.so, .so.0, .so.0.25.3
    for path in sorted(lib.glob("*.so*") if lib.is_dir() else []):
        if path.is_file():
            found.setdefault(path.name.partition(".so")[0], path)
    return sorted(found.values())


def fingerprint(model: Path) -> str:
    """Changes whenever the model file, the llama.cpp build, the Python or the CPU does."""
    parts = [str(model.resolve()), sys.executable, platform.machine(), " ".join(sorted(cpu_flags()))]
    for path in [model, *llama_libraries()]:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def probe_command(model: Path, threads: int = 1) -> list[str]:
    """The child that loads `model` and decodes a few tokens."""
    return [sys.executable, "-m", "os1.llm.probe", str(model), "--threads", str(threads)]


def run_probe(command: Sequence[str], *, timeout: float = TIMEOUT_S) -> ProbeResult:
    """Run a probe child and say how it went (never raises for the child's failure)."""
    started = time.monotonic()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"it did not finish within {timeout:.0f} s", time.monotonic() - started,
                           "timeout")
    seconds = time.monotonic() - started
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return ProbeResult(False, f"the process was killed by {name}", seconds, name)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        return ProbeResult(False, lines[-1] if lines else f"it exited with status {done.returncode}", seconds)
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return ProbeResult(False, "it printed no result", seconds)
    took = report["tokens"] / report["tokens_per_s"] if report.get("tokens_per_s") else 0.0
    return ProbeResult(True, f"replied: {report['tokens']} tokens in {took:.2f} s", seconds)


def crash_error(model: Path, result: ProbeResult) -> ModelCrashed:
    """The one line a person sees when a model cannot run here, with the fix."""
    if result.signal == "SIGILL":
        why = "llama.cpp uses an instruction this CPU refuses (SIGILL)"
        if platform.machine() in ("x86_64", "AMD64") and "avx2" not in cpu_flags():
            fix = f"this CPU has no AVX2: rebuild with `{REBUILD} LLAMA_CPU=baseline`"
        else:
            fix = f"rebuild it portably with `{REBUILD}`"
    else:
        why, fix = f"llama.cpp failed: {result.detail}", f"rebuild it with `{REBUILD}`"
    return ModelCrashed(f"The local model {model.name} cannot run on this computer: {why}. Your words are kept; "
                        f"{fix}, or choose another model with --model (`os1 doctor` checks them).")


class ProbeCache:
    """Probe results remembered by fingerprint, in one small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: str) -> ProbeResult | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return ProbeResult(**data[key])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: ProbeResult) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        except (OSError, ValueError):
            data = {}
        data[key] = asdict(result)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


def ensure_runs(model: Path, cache: ProbeCache, command: Sequence[str] | None = None) -> ProbeResult:
    """Probe `model` in a child unless a success is remembered; `ModelCrashed` when the child was killed (the
    model cannot run here). A child that exits with an error (a damaged file, no llama-cpp-python) is left to
    the in-process load, which says what is wrong; one that times out is not held against the model (a slow
    disk is not a broken CPU)."""
    if command is None and not llama_libraries():
        return ProbeResult(False, "llama-cpp-python is not installed", 0.0)
    key = fingerprint(model)
    known = cache.get(key)
    if known is not None and known.ok:
        return known
    result = run_probe(command or probe_command(model))
    if result.ok:
        cache.put(key, result)
    elif result.signal and result.signal != "timeout":
        raise crash_error(model, result)
    return result


def spec_command(spec: str, home: Path) -> list[str]:
    """The child that builds the model `spec` names (with OS1's home at `home`) and asks it for a short reply."""
    return [sys.executable, "-m", "os1.llm.probe", "--spec", spec, "--home", str(home)]


async def _ask(spec: str, home: Path) -> dict[str, float | int | str]:
    """Build `spec`'s model and stream a few tokens of a reply (a backend's whole path, once)."""
    from os1.config import load_settings
    from os1.llm.base import Message
    from os1.llm.registry import get_model

    settings = load_settings({**os.environ, "OS1_HOME": str(home)}, {"model": spec})
    model = get_model(spec, settings)
    started = time.monotonic()
    parts = [piece async for piece in model.stream([Message("user", "Say hello.")], max_tokens=8, temperature=0)]
    seconds = max(time.monotonic() - started, 1e-6)
    await model.aclose()
    tokens = max(1, model.count_tokens("".join(parts))) if parts else 0
    return {"tokens": tokens, "tokens_per_s": tokens / seconds, "text": "".join(parts)}


def main(argv: Sequence[str] | None = None) -> int:
    """The child: load the model, decode a few tokens greedily, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m os1.llm.probe")
    parser.add_argument("model", nargs="?", help="a GGUF file, run by llama.cpp directly")
    parser.add_argument("--spec", help="a model spec instead (embedded, openai:MODEL…), built as OS1 builds it")
    parser.add_argument("--home", type=Path, help="OS1's home, for --spec")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=8)
    args = parser.parse_args(argv)
    if args.spec:
        import asyncio

        from os1.errors import OS1Error

        try:
            print(json.dumps(asyncio.run(_ask(args.spec, args.home or Path.cwd()))))
        except OS1Error as exc:
            print(exc.friendly().replace("\n", " "), file=sys.stderr)
            return 1
        return 0
    import llama_cpp

    llama = llama_cpp.Llama(model_path=args.model, n_ctx=256, n_threads=args.threads,
                            n_threads_batch=args.threads, verbose=False)
    started = time.monotonic()
    out = llama.create_completion(prompt=PROMPT, max_tokens=args.tokens, temperature=0.0)
    seconds = max(time.monotonic() - started, 1e-6)
    tokens = int(out["usage"]["completion_tokens"])  # type: ignore[index]
    print(json.dumps({"tokens": tokens, "tokens_per_s": tokens / seconds, "text": out["choices"][0]["text"]}))  # type: ignore[index]
    llama.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
