"""Tool calls over the wire: the `openai:` and `anthropic:` backends against loopback servers that speak each
API's streaming protocol (scripted replies: the model seam), through the companion as a user meets it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from os1.companion import Companion
from os1.events import ReplyDone
from os1.llm.anthropic_backend import AnthropicModel
from os1.llm.base import Message, Tool, ToolCall
from os1.llm.openai_backend import OpenAIModel
from os1.memory.store import UserStore
from os1.skills.executor import Executor, installed_router

from .test_companion import ONBOARDING, collect


def openai_chunks(text: str = "", calls: list[tuple[str, str, str]] = ()) -> list[dict[str, Any]]:
    """Chat completion chunks: the text in two pieces, then each call's arguments in two pieces."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    out = [chunk({"role": "assistant", "content": ""})]
    if text:
        half = len(text) // 2
        out += [chunk({"content": text[:half]}), chunk({"content": text[half:]})]
    for index, (call_id, name, arguments) in enumerate(calls):
        half = len(arguments) // 2
        out.append(chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                          "function": {"name": name, "arguments": arguments[:half]}}]}))
        out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}))
    out.append(chunk({}, "tool_calls" if calls else "stop"))
    return out


def anthropic_events(text: str = "", calls: list[tuple[str, str, str]] = ()) -> list[tuple[str, dict[str, Any]]]:
    """Messages API stream events: a text block, then a tool_use block per call with its input as JSON deltas."""
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}})]
    index = 0
    if text:
        events += [("content_block_start", {"type": "content_block_start", "index": 0,
                                            "content_block": {"type": "text", "text": ""}}),
                   ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": text}}),
                   ("content_block_stop", {"type": "content_block_stop", "index": 0})]
        index = 1
    for call_id, name, arguments in calls:
        half = len(arguments) // 2
        events += [("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                        "type": "tool_use", "id": call_id, "name": name, "input": {}}}),
                   *[("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "input_json_delta", "partial_json": part}})
                     for part in (arguments[:half], arguments[half:])],
                   ("content_block_stop", {"type": "content_block_stop", "index": index})]
        index += 1
    events += [("message_delta", {"type": "message_delta", "usage": {"output_tokens": 5},
                                  "delta": {"stop_reason": "tool_use" if calls else "end_turn",
                                            "stop_sequence": None}}),
               ("message_stop", {"type": "message_stop"})]
    return events


class Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next scripted stream and keeps the request bodies."""

    server: Any

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        script = self.server.script.pop(0)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for item in script:
            if isinstance(item, tuple):
                self.wfile.write(f"event: {item[0]}\ndata: {json.dumps(item[1])}\n\n".encode())
            else:
                self.wfile.write(f"data: {json.dumps(item)}\n\n".encode())
        if script and not isinstance(script[0], tuple):
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def scripted() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.requests, server.script = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


TOOLS = [Tool("list_add", "Add to a list.", {"type": "object", "properties": {"item": {"type": "string"}},
                                             "required": ["item"]})]


async def test_openai_streams_text_then_assembles_tool_calls(scripted: ThreadingHTTPServer) -> None:
    scripted.script.append(openai_chunks("Sure. ", [("call_1", "list_add", '{"item": "oat milk"}'),
                                                    ("call_2", "list_add", "{not json")]))
    model = OpenAIModel("m", base_url=url(scripted) + "/v1", api_key="k")
    pieces = [p async for p in model.stream_turn([Message("user", "add oat milk")], TOOLS)]
    await model.aclose()
    assert "".join(p for p in pieces if isinstance(p, str)) == "Sure. "
    calls = [p for p in pieces if isinstance(p, ToolCall)]
    assert calls[0] == ToolCall("call_1", "list_add", {"item": "oat milk"})
    assert calls[1].id == "call_2" and "not valid JSON" in calls[1].error
    sent = scripted.requests[0]
    assert sent["tools"][0]["function"]["name"] == "list_add" and sent["tools"][0]["type"] == "function"


async def test_anthropic_streams_text_then_its_tool_use_blocks(scripted: ThreadingHTTPServer) -> None:
    scripted.script.append(anthropic_events("On it.", [("toolu_1", "list_add", '{"item": "oat milk"}')]))
    model = AnthropicModel("m", api_key="k", base_url=url(scripted))
    chat = [Message("system", "Be kind."), Message("user", "add oat milk"),
            Message("assistant", "", tool_calls=(ToolCall("toolu_0", "list_add", {"item": "x"}),)),
            Message("tool", "Added x.", tool_call_id="toolu_0")]
    pieces = [p async for p in model.stream_turn(chat, TOOLS)]
    await model.aclose()
    assert pieces == ["On it.", ToolCall("toolu_1", "list_add", {"item": "oat milk"})]
    sent = scripted.requests[0]
    assert sent["tools"] == [{"name": "list_add", "description": "Add to a list.",
                              "input_schema": dict(TOOLS[0].parameters)}]
    assert sent["system"] == "Be kind."
    assert sent["messages"][1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_0", "name": "list_add", "input": {"item": "x"}}]}
    assert sent["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_0", "content": "Added x."}]}


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_a_user_asks_and_the_remote_model_adds_to_the_list(api: str, scripted: ThreadingHTTPServer,
                                                                 store: UserStore) -> None:
    make = openai_chunks if api == "openai" else anthropic_events
    llm = OpenAIModel("m", base_url=url(scripted) + "/v1", api_key="k") if api == "openai" \
        else AnthropicModel("m", api_key="k", base_url=url(scripted))
    companion = Companion(store, llm, skills=Executor(installed_router()))
    companion.start_session()
    for answer in ONBOARDING:
        await collect(companion, answer)
    scripted.script += [make("", [("call_9", "list_add", '{"item": "oat milk", "list": "shopping"}')]),
                        make("I've added oat milk to your shopping list.")]
    events = await collect(companion, "Put oat milk on my shopping list")
    await llm.aclose()
    assert [e.text for e in events if isinstance(e, ReplyDone)] == ["I've added oat milk to your shopping list."]
    assert store.list_items("shopping")[0][1] == "oat milk"
    second = scripted.requests[1]["messages"]
    if api == "openai":
        assert second[-2]["tool_calls"][0]["id"] == "call_9"
        assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_9"
        result = second[-1]["content"]
    else:
        assert second[-2]["content"][-1]["type"] == "tool_use"
        result = second[-1]["content"][0]["content"]
    assert "oat milk" in result
