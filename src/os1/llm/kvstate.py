"""A local model's reading of the persona, kept on disk: the next start loads it instead of reading it again.

The persona (the first, system message) is the same at every start until the profile changes, and it is the
longest thing a local model reads: ~12 s on two cores for the default brain, before its first reply of a
session. llama.cpp can save what it has read of a sequence (its KV cache, `llama_state_seq_save_file`) and load
it back. Files are named by a hash of the model file's identity, llama.cpp's version and the tokens, so a
changed persona, model or library never loads a stale state; a file that does not load is deleted. They hold
the persona's words (the user's name, what they said at first boot), so they live in the OS1 home, mode 600,
and forgetting that changes the profile, or removing an account, deletes them all (`clear_saved`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STATE_DIR = "model-state"
"""In the OS1 home: the saved states."""
KEEP = 4
"""Saved states kept per home, newest first (one per persona the profile has had lately)."""
SUFFIX = ".kv"


def clear_saved(home: Path) -> int:
    """Delete every saved state in the OS1 home `home` (how many): the profile changed by forgetting, or an
    account removed, must leave none of its words on disk. They are shortcuts; the next start reads again."""
    removed = 0
    for path in [*(home / STATE_DIR).glob("*" + SUFFIX), *(home / STATE_DIR).glob("*.tmp")]:
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


def state_key(model: Path, version: str, tokens: Sequence[int]) -> str:
    """The file name for `tokens` read by this model file with this llama.cpp."""
    stat = model.stat()
    digest = hashlib.sha256(f"{model.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{version}\0".encode())
    digest.update(",".join(map(str, tokens)).encode())
    return digest.hexdigest()[:32] + SUFFIX


class StateFiles:
    """Saved readings of a prefix in one directory (made mode 700), at most `keep` of them."""

    def __init__(self, directory: Path, model: Path, version: str, *, keep: int = KEEP) -> None:
        self.directory = directory
        self.model = model
        self.version = version
        self.keep = keep

    def path(self, tokens: Sequence[int]) -> Path:
        return self.directory / state_key(self.model, self.version, tokens)

    def load(self, llama: Any, tokens: Sequence[int]) -> bool:
        """Put the saved reading of `tokens` into `llama`'s context (sequence 0, from position 0) and set its
        evaluated tokens to them; False (and the context emptied) when there is none or it does not load."""
        import llama_cpp

        path = self.path(tokens)
        if not path.is_file():
            return False
        out = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        llama.n_tokens = 0
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        read = llama_cpp.llama_state_seq_load_file(llama._ctx.ctx, str(path).encode(), 0, out, len(tokens),
                                                   ctypes.byref(count))
        if read == 0 or count.value != len(tokens) or list(out) != list(tokens):
            llama._ctx.kv_cache_seq_rm(-1, 0, -1)
            path.unlink(missing_ok=True)
            return False
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)
        os.utime(path)  # newest used: kept longest
        return True

    def save(self, llama: Any, tokens: Sequence[int]) -> None:
        """Save `llama`'s reading of `tokens` (it has evaluated exactly them first); quietly nothing on a full
        or read-only disk: the state is a shortcut, never needed."""
        import llama_cpp

        path = self.path(tokens)
        if path.exists():
            return
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        temporary = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary.touch(mode=0o600)
            if llama_cpp.llama_state_seq_save_file(llama._ctx.ctx, str(temporary).encode(), 0, array,
                                                   len(tokens)) == 0:
                raise OSError("llama.cpp did not save the state")
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return
        self.prune()

    def prune(self) -> None:
        """Delete all but the `keep` most recently used states."""
        saved = sorted(self.directory.glob("*" + SUFFIX), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in saved[self.keep:]:
            with contextlib.suppress(OSError):
                old.unlink()
