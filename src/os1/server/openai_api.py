"""`/v1/chat/completions` and `/v1/models`: the user's OS behind the OpenAI chat API, so any OpenAI client
can talk to it.

Only the request's last user message is used: it goes through `Companion.say`, so it is stored, recalled
against and answered with the OS's persona and memory, like a line typed in the terminal. The earlier messages
are ignored on purpose: the OS keeps its own history (every turn is already in its memory), and a client's copy
of the conversation, which it may have edited or made up, must not become the OS's memories or contradict them.

`usage` counts tokens with the model's own tokenizer: the prompt is exactly the messages the model read for the
reply (`ContextShown`), the completion is the reply; an answer that is not the model's (first boot's questions,
a rename) counts the user's words and the answer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from os1.companion import Companion
from os1.errors import OS1Error, RequestRefused
from os1.events import CompanionEvent, ContextShown, ErrorEvent, Prompt, ReplyDelta
from os1.server.gate import user_id_of

MODEL_ID = "os1"
"""The one model the API lists: the user's OS."""
MAX_BODY_BYTES = 1024 * 1024
"""The largest request body accepted."""
INTRO_SHOWN = "server.intro_shown"
"""Profile entry: the API has shown first boot's intro, so the next request answers its first question."""


class ApiError(RequestRefused):
    """A request refused with an OpenAI-shaped error body (`api_code`: OpenAI's `code` field, often null)."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message, status=status)
        self.kind, self.api_code = kind, code

    def response(self) -> JSONResponse:
        """`{"error": {"message", "type", "param", "code"}}` with the status."""
        body = {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.api_code}}
        return JSONResponse(body, status_code=self.status)


def routes() -> list[Route]:
    """The API's routes."""
    return [Route("/v1/chat/completions", completions, methods=["POST"]), Route("/v1/models", models)]


@dataclass
class Usage:
    """Tokens of one answer, counted with the model's tokenizer as its events go by."""

    companion: Companion
    said: str
    at: datetime | None = None
    """When it was said (`os1_at`, on a server that takes it), else now."""
    prompt: int | None = None
    """What the model read (None until `ContextShown`: the answer is not the model's)."""

    def see(self, event: CompanionEvent) -> None:
        if isinstance(event, ContextShown):
            self.prompt = sum(self.companion.llm.count_tokens(m.content) for m in event.messages)

    def json(self, answer: str) -> dict[str, int]:
        """OpenAI's `usage` for the whole answer's text."""
        count = self.companion.llm.count_tokens
        prompt = self.prompt if self.prompt is not None else count(self.said) if self.said else 0
        completion = count(answer) if answer else 0
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _companion(request: Request) -> Companion:
    """The companion of the key's owner (the gate found them by the key's hash); 401 for a wrong key, 429 when
    its user has made too many requests."""
    companion: Companion | None = getattr(request.state, "companion", None)
    if companion is None:
        raise ApiError(401, "Incorrect API key provided. `os1 key` makes yours.", code="invalid_api_key")
    if not request.app.state.companions.request_allowed(user_id_of(request)):
        raise ApiError(429, "Too many requests; wait a minute.", "rate_limit_exceeded", "rate_limit_exceeded")
    return companion


async def models(request: Request) -> Response:
    """The one model, `os1`."""
    try:
        _companion(request)
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"object": "list", "data": [
        {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "os1"}]})


async def completions(request: Request) -> Response:
    """A chat completion, whole or streamed as server-sent events."""
    try:
        companion = _companion(request)
        body = await _body(request)
        text, stream = last_user_message(body)
        include_usage = _include_usage(body)
        at = _explicit_time(request, body)
    except ApiError as exc:
        return exc.response()
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    usage = Usage(companion, text, at)
    if stream:
        return StreamingResponse(_sse(usage, reply_id, created, include_usage), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    parts: list[str] = []
    try:
        async with aclosing(_answer(companion, text, at)) as events:
            async for event in events:
                _check(event)
                usage.see(event)
                parts.append(_piece(event, bool(parts)))
    except ApiError as exc:
        return exc.response()
    except OS1Error as exc:
        return ApiError(400 if exc.code.startswith("input") else 503, exc.friendly(), "os1_error", exc.code).response()
    answer = "".join(parts).strip()
    return JSONResponse({
        "id": reply_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": usage.json(answer)})


def _explicit_time(request: Request, body: dict[str, Any]) -> datetime | None:
    """`os1_at`, the time the line was said (imports and tests): only on a server started with
    `--explicit-time`, as an ISO 8601 time with its offset."""
    value = body.get("os1_at")
    if value is None:
        return None
    if not request.app.state.explicit_time:
        raise ApiError(400, "'os1_at' is taken only by a server started with --explicit-time (imports and tests).",
                       code="invalid_os1_at")
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(400, "'os1_at' must be an ISO 8601 time with its offset, e.g. 2026-03-01T19:30:00Z.",
                       code="invalid_os1_at")
    return moment


async def _answer(companion: Companion, text: str, at: datetime | None = None) -> AsyncGenerator[CompanionEvent, None]:
    """`Companion.say`, except that a first request before first boot has begun gets the opening (the intro and
    the first question) rather than being taken as the answer to a question never shown."""
    profile = companion.store.profile()
    if companion.onboarding().next_question() is not None and INTRO_SHOWN not in profile and not any(
            key.startswith("user.") for key in profile):
        companion.store.set(INTRO_SHOWN, "1")
        for event in companion.opening(at):
            yield event
        return
    async with aclosing(companion.say(text, at=at, show_context=True)) as events:
        async for event in events:
            yield event


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the request, read up to `MAX_BODY_BYTES`."""
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                raise ApiError(400, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    except ClientDisconnect as exc:
        raise ApiError(400, "The request body was cut short.") from exc
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's stack allows
        raise ApiError(400, "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def _include_usage(body: dict[str, Any]) -> bool:
    """Whether a stream should end with a chunk carrying `usage` (`stream_options.include_usage`)."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
        raise ApiError(400, "'stream_options' must be an object with a boolean 'include_usage'.")
    return bool(options.get("include_usage", False))


def last_user_message(body: dict[str, Any]) -> tuple[str, bool]:
    """The text of the last `user` message and the `stream` flag; `ApiError` (400) when they are unusable."""
    messages = body.get("messages")
    stream = body.get("stream", False)
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list.", code="invalid_messages")
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false.")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content, stream
            if isinstance(content, list):  # [{"type": "text", "text": …}, …]
                texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
                if texts and all(isinstance(t, str) for t in texts):
                    return "\n".join(str(t) for t in texts), stream
            raise ApiError(400, "The last user message has no text content.", code="invalid_messages")
    raise ApiError(400, "There is no user message to answer.", code="invalid_messages")


def _check(event: CompanionEvent) -> None:
    if isinstance(event, ErrorEvent):
        raise ApiError(503, event.message, "os1_error", event.code)


def _piece(event: CompanionEvent, after: bool) -> str:
    """What an event adds to the reply's text: the OS's words, and first-boot questions on lines of their own."""
    if isinstance(event, ReplyDelta):
        return event.text
    if isinstance(event, Prompt):
        return ("\n\n" if after else "") + event.text
    return ""


async def _sse(usage: Usage, reply_id: str, created: int, include_usage: bool) -> AsyncIterator[str]:
    """`data: {chunk}` lines, then (when asked for) a chunk with `usage` and no choices, then `data: [DONE]`; a
    client that goes away stops (and stores) the reply."""

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        return _data({"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    parts: list[str] = []
    try:
        async with aclosing(_answer(usage.companion, usage.said, usage.at)) as events:
            async for event in events:
                _check(event)
                usage.see(event)
                piece = _piece(event, bool(parts))
                if piece:
                    parts.append(piece)
                    yield chunk({"content": piece})
    except ApiError as exc:
        yield _data({"error": {"message": exc.message, "type": exc.kind, "code": exc.api_code}})
    except OS1Error as exc:
        yield _data({"error": {"message": exc.friendly(), "type": "os1_error", "code": exc.code}})
    else:
        yield chunk({}, "stop")
        if include_usage:
            yield _data({"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                         "choices": [], "usage": usage.json("".join(parts).strip())})
    yield "data: [DONE]\n\n"


def _data(payload: dict[str, Any]) -> str:
    return "data: " + json.dumps(payload) + "\n\n"
