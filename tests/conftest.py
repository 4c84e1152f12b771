"""Shared fixtures: a temporary OS1 home per test, settings, a scripted model, the real one."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import os1.plugins

# The box has 2 cores: keep every native runtime to one thread in tests.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ORT_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from os1.config import Settings  # noqa: E402
from os1.memory import Database, UserStore  # noqa: E402
from os1.testing import FakeLLM  # noqa: E402

OS1 = [sys.executable, "-m", "os1"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty OS1 home, also set as OS1_HOME for subprocesses; model keys cleared from env."""
    path = tmp_path / "os1-home"
    monkeypatch.setenv("OS1_HOME", str(path))
    for var in ("OS1_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, model="fake", llm_threads=1)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.db_path)
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> UserStore:
    return db.user("local")


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM()


@pytest.fixture(scope="session")
def embedded_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real small model (SmolLM2, `tiny`), one thread: the fast real model of most tests
    (tests/test_default_brain.py runs the default brain)."""
    return Settings(home=tmp_path_factory.mktemp("real"), model="tiny", llm_threads=1)


@pytest.fixture(scope="session")
def embedded_model_path() -> Path:
    from os1.llm.llamacpp import embedded_model_path

    return embedded_model_path()


@pytest.fixture
def register_plugin() -> Iterator[Any]:
    """Register plugins on OS1's plugin manager for one test; all unregistered afterwards."""
    pm = os1.plugins.plugin_manager()
    added: list[object] = []

    def register(plugin: object) -> None:
        pm.register(plugin)
        added.append(plugin)

    try:
        yield register
    finally:
        for plugin in added:
            pm.unregister(plugin)
