"""What an MCP tool returned, as text: its text content joined, other content named in a few words, the whole
cut at `MAX_RESULT_CHARS`; a result marked `isError` becomes an `McpError` quoting the server's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from os1.errors import McpError

if TYPE_CHECKING:
    from mcp_types import CallToolResult

MAX_RESULT_CHARS = 8_000
"""The most of a tool's result that is kept (a model's context and a spoken reply are small)."""
_MAX_DETAIL_CHARS = 200


def text_of(result: CallToolResult, tool: str, server: str) -> str:
    """A tool's result as text; an `McpError` when it reports a failure."""
    text = render(result)
    if result.is_error:
        detail = short(text)
        raise McpError(f"{tool} on MCP server '{server}' failed" + (f"; it says: \u201c{detail}\u201d." if detail
                                                                      else "."), detail=detail)
    return text


def render(result: CallToolResult, limit: int = MAX_RESULT_CHARS) -> str:
    """The text of a result's content (other content named in a few words), cut after `limit` characters."""
    kept: list[str] = []
    size = cut = 0
    for piece in _pieces(result):
        room = max(0, limit - size)
        kept.append(piece[:room])
        size += min(len(piece), room) + 1
        cut += max(0, len(piece) - room)
    text = "\n".join(p for p in kept if p).strip()
    return text + (f"\u2026 ({cut:,} more characters cut)" if cut else "")


def _pieces(result: CallToolResult) -> Iterator[str]:
    from mcp_types import AudioContent, EmbeddedResource, ImageContent, ResourceLink, TextContent

    for block in result.content:
        if isinstance(block, TextContent):
            yield block.text
        elif isinstance(block, ImageContent | AudioContent):
            what = "an image" if isinstance(block, ImageContent) else "a sound"
            yield f"[{what}, {block.mime_type}, {_size(block.data)}]"
        elif isinstance(block, ResourceLink):
            yield f"[a link to {block.name}: {block.uri}]"
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            yield text if isinstance(text, str) else \
                f"[a file, {resource.uri}, {resource.mime_type or 'data'}, {_size(getattr(resource, 'blob', ''))}]"
    if not result.content and result.structured_content is not None:
        yield json.dumps(result.structured_content, ensure_ascii=False)


def _size(base64: str) -> str:
    kilobytes = len(base64) * 3 / 4 / 1024
    return f"{kilobytes:,.0f} KB" if kilobytes >= 1 else "under 1 KB"


def short(text: str) -> str:
    """A server's words on one line, short enough for an error message."""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_DETAIL_CHARS else line[:_MAX_DETAIL_CHARS] + "\u2026"


def reason(exc: BaseException) -> str:
    """Why a server could not be reached, in a few words."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError):
        return f"there is no program {exc.filename}" if exc.filename else "its program is missing"
    if isinstance(exc, PermissionError):
        return f"{exc.filename or 'its program'} may not be run"
    if type(exc).__name__ in ("ConnectError", "ConnectTimeout"):
        return "nothing answers at its URL"
    message = getattr(exc, "message", None) or str(exc)
    if "Connection closed" in message:
        return "it closed the connection (it may have exited)"
    return short(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
