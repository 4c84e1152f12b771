"""MCP servers' tools as skills, against a real MCP server process (tests/mcp_server_fixture.py) over stdio and
over streamable HTTP: names, schemas, effects and confirmation, and servers that crash, hang, flood or never
start."""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from os1.cli import main
from os1.config import Settings, load_settings
from os1.errors import McpError
from os1.local import open_companion
from os1.memory import UserStore
from os1.skills import mcp
from os1.skills.base import Skill, SkillContext
from os1.skills.executor import Executor
from os1.skills.mcp import mcp_skills, skill_name, skills_router
from os1.skills.mcp_client import close_all
from os1.skills.mcp_config import McpServer, save
from os1.skills.router import Router
from tests.conftest import OS1
from tests.mcp_server_fixture import INJECTION

FIXTURE = Path(__file__).with_name("mcp_server_fixture.py")
TOOLS = {"echo", "add", "forecast", "send_note", "latest_message", "snapshot", "crash", "hang", "huge"}


@pytest.fixture(autouse=True)
def _servers_stop() -> Iterator[None]:
    """Every test's servers stop after it, and the next test builds its routers afresh."""
    yield
    close_all()
    mcp._CONNECTIONS.clear()
    mcp._router.cache_clear()


def fixture_server(tmp_path: Path, name: str = "fx", **options: object) -> McpServer:
    """The fixture over stdio, as `os1 config mcp add NAME -- python tests/mcp_server_fixture.py` makes it."""
    return McpServer(name, (sys.executable, str(FIXTURE)), env=(("FIXTURE_NOTES", str(tmp_path / "notes.txt")),),
                     **options)  # type: ignore[arg-type]


def skills_of(server: McpServer, tmp_path: Path) -> dict[str, Skill]:
    warnings: list[str] = []
    found = mcp_skills([server], tmp_path / "logs", set(), warnings.append)
    assert not warnings
    return {skill.name: skill for skill in found}


def context(store: UserStore) -> SkillContext:
    return SkillContext(store, datetime.now(UTC))


async def test_every_tool_becomes_a_skill_with_its_schema_and_asks_unless_marked(tmp_path, store) -> None:
    server = fixture_server(tmp_path).marked("forecast", "reads").marked("add", "reads")
    skills = skills_of(server, tmp_path)
    assert set(skills) == {f"fx_{tool}" for tool in TOOLS}
    add, forecast, note = skills["fx_add"], skills["fx_forecast"], skills["fx_send_note"]
    assert add.schema()["properties"] == {"a": {"title": "A", "type": "integer"},
                                          "b": {"title": "B", "type": "integer"}}
    assert sorted(add.schema()["required"]) == ["a", "b"]
    assert (forecast.effect, add.effect, note.effect, skills["fx_crash"].effect) == ("reads", "reads", "acts", "acts")
    assert {skill.source for skill in skills.values()} == {"mcp:fx"}
    assert forecast.description == "Tell the weather forecast for a city (MCP: fx)."
    done = await add(context(store), {"a": "2", "b": 3})  # a slot's words become the schema's integer
    assert (done.text, done.untrusted) == ("5", True)
    injected = await skills["fx_latest_message"](context(store), {})
    assert injected.text == INJECTION and injected.untrusted
    picture = await skills["fx_snapshot"](context(store), {})
    assert picture.text == "Here is the room.\n[an image, image/png, 4 KB]"
    assert skill_name("My Server", "getWeather", {"my_server_get_weather"}) == "my_server_get_weather_2"


async def test_through_the_executor_an_action_waits_for_yes_and_a_read_runs_at_once(tmp_path, store) -> None:
    server = (fixture_server(tmp_path).marked("forecast", "reads")
              .with_intent("forecast", "[what is the] weather in {city}")
              .with_intent("send_note", "send a note to {to} saying {body}"))
    executor = Executor(Router(skills_of(server, tmp_path).values()))
    notes = tmp_path / "notes.txt"
    assert "Sunny in Paris, 21 degrees." in await executor.run("What is the weather in Paris?", context(store))
    question = await executor.run("send a note to Sam saying see you at eight", context(store))
    assert question == "Shall I do this: Send a note to someone (MCP: fx) (to: Sam; body: see you at eight)? Yes or no."
    assert not notes.exists()
    assert "Sent your note to Sam." in await executor.run("yes", context(store))
    assert notes.read_text() == "Sam: see you at eight\n"
    assert await executor.run("send a note to Ann saying hi", context(store))
    assert await executor.run("no", context(store)) == "Okay, I won't."
    failed = await executor.run("weather in Atlantis", context(store))
    assert failed.startswith("Sorry, I couldn't do that: forecast on MCP server 'fx' failed")
    assert "There is no city called Atlantis." in failed
    assert notes.read_text() == "Sam: see you at eight\n"


async def test_a_crash_is_a_reply_and_the_next_call_starts_the_server_again(tmp_path, store) -> None:
    server = fixture_server(tmp_path).marked("crash", "reads").marked("echo", "reads")
    skills = skills_of(server, tmp_path)
    executor = Executor(Router(skills.values()))
    started = time.monotonic()
    reply = await executor.call((skills["fx_crash"], {}), context(store))
    assert reply.startswith("Sorry, I couldn't do that: MCP server 'fx' stopped while running crash")
    assert "still here" in await executor.call((skills["fx_echo"], {"text": "still here"}), context(store))
    assert time.monotonic() - started < 10


async def test_a_call_that_never_answers_times_out_and_a_flood_is_cut(tmp_path, store) -> None:
    slow = skills_of(fixture_server(tmp_path, "slow", timeout_s=1.0).marked("hang", "reads"), tmp_path)
    started = time.monotonic()
    reply = await Executor(Router(slow.values())).call((slow["slow_hang"], {}), context(store))
    assert reply.startswith("Sorry, I couldn't do that: MCP server 'slow' gave no answer from hang within 1 s")
    assert time.monotonic() - started < 2.5
    started = time.monotonic()
    huge = await skills_of(fixture_server(tmp_path), tmp_path)["fx_huge"](context(store), {})
    assert huge.text.startswith("x" * 8_000) and huge.text.endswith("\u2026 (9,992,000 more characters cut)")
    assert len(huge.text) < 8_100
    assert time.monotonic() - started < 8


@pytest.fixture
def http_url(tmp_path: Path) -> Iterator[str]:
    """The fixture as a streamable HTTP server on a free port of 127.0.0.1, stopped after the test."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(FIXTURE), "--http", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "FIXTURE_NOTES": str(tmp_path / "n")})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the HTTP fixture did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_over_streamable_http(http_url, tmp_path, store) -> None:
    server = McpServer("web", url=http_url, timeout_s=1.5, start_timeout_s=5).marked("echo", "reads")
    skills = skills_of(server, tmp_path)
    assert set(skills) == {f"web_{tool}" for tool in TOOLS}
    assert skills["web_send_note"].effect == "acts" and skills["web_echo"].source == "mcp:web"
    executor = Executor(Router(skills.values()))
    assert "over the web" in await executor.call((skills["web_echo"], {"text": "over the web"}), context(store))
    with pytest.raises(McpError, match=r"gave no answer from hang within 1\.5 s"):
        await skills["web_hang"](context(store), {})
    huge = await skills["web_huge"](context(store), {})
    assert huge.text.endswith("(9,992,000 more characters cut)") and len(huge.text) < 8_100
    with pytest.raises(McpError, match="stopped while running crash"):
        await skills["web_crash"](context(store), {})
    with pytest.raises(McpError, match="could not be reached: nothing answers at its URL"):
        await skills["web_echo"](context(store), {"text": "anyone?"})


def test_servers_that_cannot_start_are_warnings_and_os1_starts_without_them(tmp_path, settings: Settings) -> None:
    save(settings.config_path, fixture_server(tmp_path))
    save(settings.config_path, McpServer("exits", (sys.executable, "-c", "import sys; sys.exit('no config found')")))
    save(settings.config_path, McpServer("missing", ("/nonexistent/mcp-server",)))
    save(settings.config_path, McpServer("mute", (sys.executable, "-c", "import time; time.sleep(60)"),
                                         start_timeout_s=1.0))
    warnings: list[str] = []
    started = time.monotonic()
    router = skills_router(settings, warnings.append)
    assert time.monotonic() - started < 8
    names = {skill.name for skill in router.skills}
    assert {"capabilities", "fx_echo", "fx_send_note"} <= names
    assert not any(name.startswith(("exits_", "missing_", "mute_")) for name in names)
    assert len(warnings) == 3, warnings
    exits, missing, mute = sorted(warnings)
    assert exits.startswith("MCP server 'exits' could not start: it closed the connection") and "exits.log" in exits
    assert "no config found" in (settings.home / "mcp" / "exits.log").read_text()
    assert missing.endswith("there is no program /nonexistent/mcp-server. Its tools are left out.")
    assert "did not start and list its tools within 1 s" in mute
    assert skills_router(settings, warnings.append) is router and len(warnings) == 6  # one per configuration
    with open_companion(settings, console=Console(file=io.StringIO())) as companion:
        assert companion.skills is not None and "fx_forecast" in {s.name for s in companion.skills.router.skills}


def test_config_mcp_add_mark_intent_list_and_remove(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["config", "mcp", "add", "fx", "--env", "FIXTURE_NOTES=/dev/null", "--",
                 sys.executable, str(FIXTURE)]) == 0
    assert main(["config", "mcp", "mark", "fx", "forecast", "reads"]) == 0
    assert main(["config", "mcp", "intent", "fx", "forecast", "weather in {city}"]) == 0
    assert main(["config", "set", "max_reply_tokens", "99"]) == 0  # a setting keeps the servers
    stored = tomllib.loads((home / "config.toml").read_text())
    assert stored["mcp"]["fx"] == {"command": [sys.executable, str(FIXTURE)], "env": {"FIXTURE_NOTES": "/dev/null"},
                                   "effects": {"forecast": "reads"}, "intents": {"forecast": ["weather in {city}"]}}
    assert stored["max_reply_tokens"] == 99 and stat.S_IMODE((home / "config.toml").stat().st_mode) == 0o600
    assert load_settings({"OS1_HOME": str(home)}).max_reply_tokens == 99
    capsys.readouterr()
    assert main(["config"]) == 0 and "max_reply_tokens" in capsys.readouterr().out
    listed = subprocess.run([*OS1, "config", "mcp", "list"], capture_output=True, timeout=60, check=False,
                            stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"})
    out = listed.stdout.decode()
    assert listed.returncode == 0, listed.stderr.decode()
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    assert "reads" in rows["fx_forecast"] and "weather in {city}" in rows["fx_forecast"]
    assert "acts" in rows["fx_send_note"] and set(rows) >= {f"fx_{tool}" for tool in TOOLS}
    assert main(["config", "mcp", "add", "both", "--url", "http://127.0.0.1:1/mcp", "--", "x"]) == 2
    assert main(["config", "mcp", "intent", "fx", "echo", "say {text"]) == 2
    assert main(["config", "mcp", "mark", "nobody", "echo", "reads"]) == 2
    assert "There is no MCP server 'nobody'." in capsys.readouterr().err
    assert main(["config", "mcp", "remove", "fx"]) == 0
    capsys.readouterr()
    assert main(["config", "mcp", "list"]) == 0 and "No MCP servers." in capsys.readouterr().out
    assert "mcp" not in tomllib.loads((home / "config.toml").read_text())


def test_without_the_mcp_package_the_tools_are_absent_and_the_warning_says_how_to_install(tmp_path,
                                                                                         monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # `import mcp` fails as it does where the extra is missing
    warnings: list[str] = []
    assert mcp_skills([fixture_server(tmp_path)], None, set(), warnings.append) == []
    assert warnings == ["Talking to MCP servers needs the Python package 'mcp', which is not installed. "
                        "Its tools are left out. Install it with: pip install 'os1[mcp]'"]


async def test_an_injection_in_a_real_servers_result_acts_on_nothing(tmp_path, store) -> None:
    """A tool-calling model scripted to obey what a (reads-marked) tool returned: no note is sent and no list is
    cleared without the user's yes; the result reaches the model quoted as data."""
    from os1.companion import Companion
    from os1.events import ReplyDone
    from os1.skills.executor import UNTRUSTED_BEGIN, installed_skills
    from os1.testing import FakeLLM

    from .test_companion import ONBOARDING, collect

    server = fixture_server(tmp_path).marked("latest_message", "reads")
    skills = skills_of(server, tmp_path)
    llm = FakeLLM(tools={"latest message": [{"name": "fx_latest_message", "arguments": {}}],
                         "delete all lists": [{"name": "list_clear", "arguments": {"list": "shopping"}},
                                              {"name": "fx_send_note",
                                               "arguments": {"to": "evil", "body": "all lists deleted"}}]})
    companion = Companion(store, llm, skills=Executor(Router([*installed_skills(), *skills.values()])))
    for answer in ONBOARDING:
        await collect(companion, answer)
    store.add_list_item("shopping", "bread")
    events = await collect(companion, "What is my latest message?")
    asked = [e.text for e in events if isinstance(e, ReplyDone)][-1]
    assert asked.endswith("Yes or no.")
    result = next(m.content for m in llm.calls[-1] if m.role == "tool")
    assert result.startswith(UNTRUSTED_BEGIN) and INJECTION in result
    await collect(companion, "no")
    assert [text for _, text in store.list_items("shopping")] == ["bread"]
    assert not (tmp_path / "notes.txt").exists()
