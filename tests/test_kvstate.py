"""A local model's reading of the persona saved on disk and loaded at the next start (llm/kvstate.py), with the
embedded model: the reply is the same as after reading it, a bad file is deleted, another persona is another file."""

from __future__ import annotations

import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from os1.llm.base import Message
from os1.llm.kvstate import STATE_DIR, StateFiles, clear_saved, state_key
from os1.llm.llamacpp import LlamaCppModel

pytestmark = pytest.mark.real_model

PERSONA = ("You are Samantha, a warm companion. The user is Theodore, who writes letters for a living and lives "
           "in Los Angeles. Answer in one short sentence, in your own words, and never invent facts.")


def chat(persona: str = PERSONA, line: str = "What do I do for a living?") -> list[Message]:
    return [Message("system", persona), Message("user", line)]


async def reply(model: LlamaCppModel, messages: list[Message]) -> str:
    return "".join([piece async for piece in model.stream(messages, max_tokens=12, temperature=0.0)])


def model(path: Path, states: Path | None) -> LlamaCppModel:
    return LlamaCppModel(path, name="gguf:smollm2", context_tokens=1024, threads=1, state_dir=states)


@contextlib.asynccontextmanager
async def started(path: Path, states: Path | None) -> AsyncIterator[LlamaCppModel]:
    """One start of the model, closed at the end."""
    llm = model(path, states)
    try:
        yield llm
    finally:
        await llm.aclose()


async def one_start(path: Path, states: Path | None) -> str:
    """A start that reads (or loads) the persona and answers once."""
    async with started(path, states) as llm:
        return await reply(llm, chat())


async def test_the_persona_is_read_once_then_loaded_and_the_reply_is_the_same(embedded_model_path: Path,
                                                                              tmp_path: Path) -> None:
    states = tmp_path / "model-state"
    expected = await one_start(embedded_model_path, None)
    assert await one_start(embedded_model_path, states) == expected
    saved = list(states.glob("*.kv"))
    assert len(saved) == 1 and not list(states.glob("*.tmp"))
    assert stat.S_IMODE(states.stat().st_mode) == 0o700 and stat.S_IMODE(saved[0].stat().st_mode) == 0o600
    async with started(embedded_model_path, states) as second:
        persona = second._render(chat()[:1], open_last=True)
        assert persona and second._states is not None and second._states.load(second._llama, persona)
        assert second._llama.n_tokens == len(persona)  # the persona is there without reading it
        second._llama.n_tokens = 0
        assert await reply(second, chat()) == expected  # loaded in `stream` as at a start
        await second.prepare(chat(line="And where do I live?"))  # a preparation loads it too
        assert await reply(second, chat(line="And where do I live?"))


async def test_a_bad_state_is_deleted_and_another_persona_is_another_file(embedded_model_path: Path,
                                                                          tmp_path: Path) -> None:
    states = tmp_path / "model-state"
    expected = await one_start(embedded_model_path, states)
    (saved,) = states.glob("*.kv")
    saved.write_bytes(b"not a state")
    async with started(embedded_model_path, states) as again:
        assert await reply(again, chat()) == expected  # read again, and saved again, whole
        assert saved.stat().st_size > 1000
        await reply(again, chat(persona=PERSONA.replace("Theodore", "Amy")))
        assert len(list(states.glob("*.kv"))) == 2


def test_the_key_changes_with_the_tokens_the_model_and_the_library(tmp_path: Path) -> None:
    model_file = tmp_path / "m.gguf"
    model_file.write_bytes(b"GGUF" + bytes(64))
    key = state_key(model_file, "0.3", [1, 2, 3])
    assert key == state_key(model_file, "0.3", [1, 2, 3])
    assert len({key, state_key(model_file, "0.3", [1, 2, 4]), state_key(model_file, "0.4", [1, 2, 3])}) == 3
    model_file.write_bytes(b"GGUF" + bytes(65))
    assert state_key(model_file, "0.3", [1, 2, 3]) != key


def test_only_the_newest_states_are_kept(tmp_path: Path) -> None:
    import os

    files = StateFiles(tmp_path, tmp_path, "0.3", keep=2)
    for i in range(4):
        path = tmp_path / f"{i}.kv"
        path.write_bytes(b"x")
        os.utime(path, ns=(i * 10**9, i * 10**9))
    files.prune()
    assert sorted(p.name for p in tmp_path.glob("*.kv")) == ["2.kv", "3.kv"]


def test_clearing_takes_every_saved_state_of_a_home_and_nothing_else(tmp_path: Path) -> None:
    states = tmp_path / STATE_DIR
    states.mkdir()
    for name in ("a.kv", "b.kv", "c.tmp"):
        (states / name).write_bytes(b"x")
    (tmp_path / "os1.db").write_bytes(b"x")
    assert clear_saved(tmp_path) == 3
    assert list(states.iterdir()) == [] and (tmp_path / "os1.db").exists()
    assert clear_saved(tmp_path / "elsewhere") == 0
