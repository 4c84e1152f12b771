"""One MCP server's connection: a long-lived client session (the official `mcp` SDK), its tools, calls to them.

The SDK's sessions are anyio context managers that must be entered and left by one task, while companions are
opened from sync code and run on loops of their own; so every connection lives on OS1's MCP thread, one event
loop (`_Loop`) on which a task per connection holds the session open (`Connection._hold`), and calls come to
it from any thread or loop. A call has its own limit (`McpServer.timeout_s`, under the executor's 10 s); a call
that outlasts it, or whose server stopped (crashed, closed the connection), ends the connection, the server
process with it, and the next call starts it again. What a tool returns becomes text (`skills/mcp_result.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from os1.errors import McpError
from os1.optional import require
from os1.skills.mcp_config import McpServer
from os1.skills.mcp_result import reason, short, text_of

if TYPE_CHECKING:
    from mcp import Client

INSTALL = "pip install 'os1[mcp]'"
_MAX_PAGES = 20
_CLOSE_WAIT_S = 6.0
"""How long closing waits for a server to stop (the SDK: stdin closed, 2 s, SIGTERM, 2 s, SIGKILL)."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """One tool a server lists."""

    name: str
    description: str
    schema: dict[str, Any]
    """Its arguments' JSON schema (`inputSchema`)."""


class _Loop:
    """OS1's MCP thread: one event loop holding every connection, started when first needed."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="os1-mcp", daemon=True).start()

    def submit(self, work: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)


_LOOP: list[_Loop] = []
_OPEN: set[Connection] = set()
_LOCK = threading.Lock()


def _mcp_loop() -> _Loop:
    with _LOCK:
        if not _LOOP:
            _LOOP.append(_Loop())
            atexit.register(close_all)
        return _LOOP[0]


def close_all() -> None:
    """Close every connection at once (their servers stop); at exit, and after tests."""
    with _LOCK:
        connections = list(_OPEN)
    _close(connections)


def _close(connections: Sequence[Connection]) -> None:
    if connections:
        futures = [_mcp_loop().submit(connection._close()) for connection in connections]
        concurrent.futures.wait(futures, timeout=_CLOSE_WAIT_S + 1)
    with _LOCK:
        _OPEN.difference_update(connections)


@dataclass(frozen=True, slots=True)
class _Held:
    """An open session and the task that holds it (done once the session ended)."""

    client: Client
    holder: asyncio.Task[None]
    stop: asyncio.Event


class Connection:
    """One server's session, opened on first use and again after it ended; usable from any thread or loop."""

    def __init__(self, server: McpServer, log_dir: Path | None = None) -> None:
        self.server = server
        self.log = log_dir / f"{server.name}.log" if log_dir is not None and server.command else None
        """Where a stdio server's stderr goes."""
        self._held: _Held | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self._opening: asyncio.Lock | None = None

    async def call(self, tool: str, arguments: dict[str, object]) -> str:
        """Call `tool` and give its result as text; an `McpError` says why there is none."""
        return await asyncio.wrap_future(_mcp_loop().submit(self._call(tool, arguments)))

    def close(self) -> None:
        """End the session and stop the server (waiting a few seconds at most)."""
        _close([self])

    def _hint(self) -> str:
        if self.log is not None and self.log.exists() and self.log.stat().st_size:
            return f"What it said is in {self.log}."
        return f"Is it running at {self.server.url}?" if self.server.url else ""

    async def _tools(self) -> tuple[ToolInfo, ...]:
        name, limit = self.server.name, self.server.start_timeout_s
        try:
            async with asyncio.timeout(limit):
                client = (await self._connected()).client
                found: list[ToolInfo] = []
                cursor: str | None = None
                for _ in range(_MAX_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    found += [ToolInfo(t.name, t.description or t.title or "", dict(t.input_schema))
                              for t in page.tools]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                return tuple(found)
        except TimeoutError:
            self._end()
            raise McpError(f"MCP server '{name}' did not start and list its tools within {limit:g} s.",
                           hint=self._hint()) from None
        except McpError:
            raise
        except Exception as exc:
            self._end()
            raise McpError(f"MCP server '{name}' could not list its tools: {reason(exc)}.",
                           hint=self._hint()) from exc

    async def _call(self, tool: str, arguments: dict[str, object]) -> str:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED

        name, limit = self.server.name, self.server.timeout_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        try:
            async with asyncio.timeout(limit):
                held = await self._connected()
        except TimeoutError:
            self._end()
            raise McpError(f"MCP server '{name}' did not start within {limit:g} s, so {tool} did not run.",
                           hint=self._hint()) from None
        request = asyncio.ensure_future(held.client.call_tool(tool, arguments))
        try:
            done, _ = await asyncio.wait({request, held.holder}, timeout=max(0.0, deadline - loop.time()),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not request.done():
                request.cancel()
        failure = request.exception() if request in done and not request.cancelled() else None
        if request in done and not request.cancelled() and failure is None:
            return text_of(request.result(), tool, name)
        if isinstance(failure, MCPError) and failure.code != CONNECTION_CLOSED:  # the server said no
            raise McpError(f"MCP server '{name}' refused {tool}: {short(failure.message)}.",
                           detail=short(failure.message))
        self._end(held)  # whatever else went wrong, the next call starts afresh
        if not done:
            raise McpError(f"MCP server '{name}' gave no answer from {tool} within {limit:g} s; it is restarted "
                           "for the next request.")
        if failure is not None and type(failure).__name__ == "ValidationError":
            raise McpError(f"MCP server '{name}' answered {tool} with a result that cannot be read: "
                           f"{reason(failure)}.")
        raise McpError(f"MCP server '{name}' stopped while running {tool} (it may have done part of it); it is "
                       "started again for the next request.", hint=self._hint())

    async def _connected(self) -> _Held:
        """The open session, opening it first when there is none or the last one ended."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._held is None or self._held.holder.done():
                self._held = await self._open()
            return self._held

    async def _open(self) -> _Held:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Client | BaseException] = loop.create_future()
        stop = asyncio.Event()
        holder = loop.create_task(self._hold(ready, stop), name=f"mcp:{self.server.name}")
        with _LOCK:
            _OPEN.add(self)  # from now on, closing waits for its server to stop
        try:
            outcome = await ready
        except asyncio.CancelledError:
            holder.cancel()
            self._ending.add(holder)
            raise
        if isinstance(outcome, McpError):
            raise outcome
        if isinstance(outcome, BaseException):
            failed = "could not be reached" if self.server.url else "could not start"
            raise McpError(f"MCP server '{self.server.name}' {failed}: {reason(outcome)}.",
                           hint=self._hint()) from outcome
        return _Held(outcome, holder, stop)

    async def _hold(self, ready: asyncio.Future[Client | BaseException], stop: asyncio.Event) -> None:
        """Enter the session, hand it over, and leave it (in this same task) once told to or once it fails."""
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(self._client(stack))
                if not ready.done():
                    ready.set_result(client)
                await stop.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.cancel()
            raise
        except BaseException as exc:  # the server failed to start, or died: whoever waits is told
            if not ready.done():
                ready.set_result(exc)

    def _client(self, stack: AsyncExitStack) -> Client:
        require("mcp", what="Talking to MCP servers", hint=f"Install it with: {INSTALL}", error=McpError)
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client

        if self.server.url:
            return Client(self.server.url, cache=None)
        errlog = stack.enter_context(open(self.log or os.devnull, "a", encoding="utf-8"))  # noqa: SIM115
        if self.log is not None:
            os.chmod(self.log, 0o600)
        parameters = StdioServerParameters(command=self.server.command[0], args=list(self.server.command[1:]),
                                           env=dict(self.server.env) or None, cwd=self.server.cwd or None)
        return Client(stdio_client(parameters, errlog=errlog), cache=None)

    def _end(self, held: _Held | None = None) -> None:
        """Let the session go (its server stops in the background); the next call opens a new one."""
        held = held or self._held
        if held is None:
            return
        held.stop.set()
        self._ending.add(held.holder)
        if self._held is held:
            self._held = None

    async def _close(self) -> None:
        self._end()
        ending = {task for task in self._ending if not task.done()}
        if ending:
            await asyncio.wait(ending, timeout=_CLOSE_WAIT_S)
        self._ending.clear()


def list_tools(connections: Sequence[Connection]) -> list[tuple[ToolInfo, ...] | McpError]:
    """Every connection's tools, asked of all the servers at once: each its tools, or why there are none."""
    futures = [_mcp_loop().submit(connection._tools()) for connection in connections]
    found: list[tuple[ToolInfo, ...] | McpError] = []
    for connection, future in zip(connections, futures, strict=True):
        try:
            found.append(future.result(connection.server.start_timeout_s + _CLOSE_WAIT_S))
        except McpError as exc:
            found.append(exc)
        except TimeoutError:
            future.cancel()
            found.append(McpError(f"MCP server '{connection.server.name}' did not answer."))
    return found
