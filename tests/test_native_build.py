"""The native build cannot pass on a bad build: its machine code, its flags, and a real decode in a child.

A llama.cpp compiled for the build machine's CPU (llama.cpp's default) died with SIGILL on an Intel Xeon VM that
advertises AMX but refuses it. These tests read the installed library's instructions, compare the installed
build's flags with the Makefile's, and run the embedded model in a child process so a crash is one failure with
its signal, not a dead test run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from os1.errors import ModelCrashed
from os1.llm.llamacpp import embedded_model_path
from os1.llm.native import disassembly, instruction_sets, refused
from os1.llm.probe import ProbeCache, ensure_runs, llama_libraries, probe_command, run_probe

ROOT = Path(__file__).resolve().parents[1]
SIGILL_CHILD = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]


def cpu_libraries() -> list[Path]:
    found = [p for p in llama_libraries() if p.name.startswith("libggml")]
    assert found, "llama-cpp-python's libraries are not installed (make test installs them)"
    return found


@pytest.mark.parametrize("name", ["libggml-cpu", "libggml-base", "libllama"])
def test_the_built_library_has_no_amx_or_avx512_code(name: str) -> None:
    libraries = [p for p in llama_libraries() if p.name.startswith(name + ".so")]
    assert libraries, f"no {name}.so in llama_cpp/lib"
    for library in libraries:
        used = instruction_sets(disassembly(library))
        assert used["amx"] == 0, f"{library.name} holds {used['amx']} AMX tile instructions (tilezero, tdp*…)"
        assert used["avx512"] == 0, f"{library.name} holds {used['avx512']} AVX-512 instructions"
        assert not refused(used, {"avx", "avx2", "fma", "f16c", "sse4_2"}), used


def test_the_cpu_backend_is_vectorised_for_avx2() -> None:
    """The portable build is not a slow scalar one: the matrix code uses 256-bit vectors."""
    (library,) = [p for p in cpu_libraries() if p.name.startswith("libggml-cpu.so")]
    assert instruction_sets(disassembly(library))["avx2"] > 1000


def test_the_installed_build_has_the_makefiles_flags() -> None:
    """A wheel built with other flags (pip's cache, an older Makefile) is not the one that runs."""
    record = Path(sys.prefix) / "llama-cmake-args.txt"
    if not record.exists() or shutil.which("make") is None:
        pytest.skip("llama-cpp-python was not installed by this checkout's Makefile")
    wanted = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "llama-args"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert sorted(record.read_text().split()) == sorted(wanted), "run `make` to rebuild llama.cpp with these flags"


def test_instruction_sets_are_read_from_the_disassembly() -> None:
    code = "\n".join(["  1000:\ttilezero %tmm4", "  1004:\ttdpbssd %tmm1,%tmm2,%tmm3",
                      "  1008:\tvpaddd %zmm1,%zmm2,%zmm3", "  100c:\tvfmadd231ps %ymm1,%ymm2,%ymm0",
                      "  1010:\tkmovw %k1,%eax", "  1014:\tmov %rax,%rbx"])
    assert instruction_sets(code) == {"amx": 2, "avx512": 2, "avx2": 1}
    assert refused({"amx": 2, "avx512": 0, "avx2": 1}, {"avx2", "amx_tile"}) == []
    assert refused({"amx": 2, "avx512": 1, "avx2": 1}, {"avx2"}) == ["amx", "avx512"]


def test_a_real_decode_of_the_embedded_model_in_a_child_process() -> None:
    result = run_probe(probe_command(embedded_model_path()))
    assert result.ok, f"the embedded model cannot run on this CPU: {result.detail} (signal {result.signal or 'none'})"


def test_a_child_killed_by_sigill_is_one_clear_error(tmp_path: Path) -> None:
    result = run_probe(SIGILL_CHILD)
    assert not result.ok and result.signal == "SIGILL"
    with pytest.raises(ModelCrashed) as caught:
        ensure_runs(embedded_model_path(), ProbeCache(tmp_path / "probes.json"), SIGILL_CHILD)
    message = caught.value.friendly()
    assert "\n" not in message and "SIGILL" in message and "make llama-rebuild" in message
    assert "--model" in message and "kept" in message


def test_a_success_is_remembered_and_a_change_of_build_probes_again(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    child = [sys.executable, "-c", f"open({str(runs)!r}, 'a').write('x'); "
             "print('{\"tokens\": 3, \"tokens_per_s\": 30.0}')"]
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 16)
    cache = ProbeCache(tmp_path / "probes.json")
    assert ensure_runs(model, cache, child).ok and ensure_runs(model, cache, child).ok
    assert runs.read_text() == "x"
    model.write_bytes(b"GGUF" + b"\1" * 16)  # another file: probed again
    ensure_runs(model, cache, child)
    assert runs.read_text() == "xx"


def test_a_child_that_fails_without_a_signal_is_left_to_the_load(tmp_path: Path) -> None:
    """A damaged file or a missing package is the in-process load's to explain: no crash is claimed."""
    failing = [sys.executable, "-c", "raise SystemExit('bad file')"]
    result = ensure_runs(embedded_model_path(), ProbeCache(tmp_path / "p.json"), failing)
    assert not result.ok and result.signal == "" and "bad file" in result.detail
