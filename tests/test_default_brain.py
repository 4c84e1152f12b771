"""The default brain: `embedded` is the Qwen2.5-Coder-1.5B pack when installed (as `make run` and `make test`
install it), SmolLM2 (`tiny`) otherwise; the real pack answers from what memory gives it."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import os1.llm.builtin as builtin
from os1.config import Settings
from os1.llm import Message, get_model
from os1.llm.packs import QWEN_15B, ensure, models_dir, state
from os1.persona.prompts import context_note, system_prompt

INSTALLED = state(QWEN_15B, models_dir()) in ("installed", "verified")
needs_pack = pytest.mark.skipif(not INSTALLED, reason=f"the default brain's pack is not installed ({QWEN_15B.install})")


@pytest.mark.parametrize(("pack_state", "brain"), [("verified", "qwen-1.5b"), ("installed", "qwen-1.5b"),
                                                   ("not installed", "tiny"), ("incomplete", "tiny")])
def test_embedded_is_the_pack_when_installed_else_tiny(monkeypatch: pytest.MonkeyPatch, pack_state: str,
                                                       brain: str, home: Path) -> None:
    import os1.llm.packs

    monkeypatch.setattr(os1.llm.packs, "state", lambda pack, directory: pack_state)
    built: list[str] = []
    monkeypatch.setattr(builtin, "_pack", lambda name, settings: built.append(name) or name)
    monkeypatch.setattr(builtin, "tiny", lambda arg, settings: built.append("tiny") or "tiny")
    assert builtin.default_brain() == brain
    builtin.embedded("", Settings(home=home))
    assert built == [brain]


def test_llama_cpp_runs_on_one_thread_by_default(home: Path) -> None:
    assert Settings(home=home).llm_threads == 1


@pytest.fixture(scope="module")
def brain(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings(home=tmp_path_factory.mktemp("brain"), model="qwen-1.5b", llm_threads=1)
    return get_model("qwen-1.5b", settings)


@needs_pack
@pytest.mark.real_model
async def test_the_default_brain_answers_from_what_memory_gives_it(brain: Any) -> None:
    assert brain.name == "qwen-1.5b" and brain._formatter is not None  # the chat template from the GGUF itself

    profile = {"os.name": "Samantha", "user.name": "Theodore"}
    note = context_note(datetime(2026, 3, 4, 18, 30), ["Theodore quit the Y; he lifts at Crunch now."])
    messages = [Message("system", system_prompt(profile)), Message("system", note),
                Message("user", "Where do I work out these days?")]
    reply = "".join([d async for d in brain.stream(messages, max_tokens=40, temperature=0.0)])
    assert "Crunch" in reply, reply
    assert "Samantha" not in reply  # never of itself in the third person


@needs_pack
@pytest.mark.real_model
def test_a_first_boot_chat_with_the_default_brain(home: Path) -> None:
    from tests.db_helpers import turns
    from tests.test_cli import FIRST_BOOT, run

    run("config", "set", "max_reply_tokens", "24")
    rc, out, err = run("chat", stdin=FIRST_BOOT + b"Hi! How are you?\n", model="embedded")
    assert rc == 0, err
    role, text, status = turns(home / "os1.db")[-1]
    assert role == "assistant" and text.strip() and status == "complete"
    assert text[:20] in out


@needs_pack
def test_the_default_brain_decodes_in_a_child_process() -> None:
    """A crash of the 1.5B's native code (the AMX SIGILL of issue 11) is one failure with its signal."""
    path = ensure(QWEN_15B)
    done = subprocess.run([sys.executable, "-m", "os1.llm.probe", str(path)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"rc {done.returncode}: {done.stdout}{done.stderr}"
