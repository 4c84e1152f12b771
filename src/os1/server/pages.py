"""The memory page and the settings page, and the small JSON API under `/api/` behind them.

Every route works on the companion of the request's user (`companion_of`), never on anything global, so in
account mode a user reaches only their own memory, history and settings: an item id of another user's is "not
found", exactly like one that does not exist. Mutations are POST, PATCH and DELETE (the gate checks their CSRF
token). A request that cannot be used gets `{"error": {"code", "message"}}` with a 4xx status, and changes
nothing. The model can be changed in local single-user mode only: it is the server's, shared by its users.
The API key is shown once, in the answer to the request that made it; afterwards only its hint and date.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from os1.companion import Companion
from os1.config import Settings, set_config_value
from os1.errors import OS1Error, RequestRefused
from os1.llm.base import LLM
from os1.llm.registry import available_models, get_model
from os1.local import model_extractor
from os1.memory.api import Memory
from os1.memory.forget import ForgetReport, forget, forget_item, forget_term
from os1.memory.store import Turn
from os1.memory.tables import Item
from os1.server.auth import key_info, make_key
from os1.server.gate import accounts_on, companion_of
from os1.speech import voices

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted."""
LIMITS = {"text": 1000, "topic": 200, "term": 100, "meaning": 500, "name": 40, "voice": 500, "model": 500}
"""The most characters each text field may have."""
ITEMS_SHOWN = 1000
"""The newest memory items the list gives."""
HISTORY_DEFAULT, HISTORY_MAX = 50, 500
"""Turns the history gives by default, and at most."""
MAX_ID = 2**63 - 1
NAME = re.compile(r"[^\W\d_][\w' .-]*")
"""A name for the OS: starts with a letter; then letters, digits, spaces, apostrophes, dots and hyphens."""
API_HEADERS = {"Cache-Control": "no-store"}
"""What the user remembers is nobody's cache's business."""

Handler = Callable[[Request], Awaitable[Response]]


class PageError(RequestRefused):
    """A request refused with `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, status=status)
        self.code = code

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"code": self.code, "message": self.message}}, status_code=self.status,
                            headers=API_HEADERS)


def not_found(what: str = "memory") -> PageError:
    return PageError(404, "not_found", f"There is no such {what}.")


def _api(handler: Handler) -> Handler:
    """The handler with refusals and OS1's own errors turned into JSON errors."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except PageError as exc:
            return exc.response()
        except OS1Error as exc:
            status = 503 if exc.code.startswith("storage") else 400
            return PageError(status, exc.code, exc.friendly()).response()

    return wrapped


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers=API_HEADERS)


def routes(settings: Settings) -> list[Route]:
    """The pages and their API. `settings`: the server's; in local single-user mode the user may change the
    model (it is then stored in `settings`' config file)."""
    switch = ModelSwitch(settings)

    def local_switch(request: Request) -> ModelSwitch | None:
        return None if accounts_on(request) else switch

    async def read_settings(request: Request) -> Response:
        return _ok(settings_json(companion_of(request), local_switch(request)))

    async def change_settings(request: Request) -> Response:
        companion = companion_of(request)
        await apply_settings(companion, await _body(request, {"name", "voice", "model"}), local_switch(request))
        return _ok(settings_json(companion, local_switch(request)))

    return [Route("/memory", _page("memory.html")), Route("/settings", _page("settings.html")),
            Route("/api/memory", _api(list_memory)),
            Route("/api/memory/items/{item_id:int}", _api(edit_item), methods=["PATCH"]),
            Route("/api/memory/items/{item_id:int}", _api(forget_one), methods=["DELETE"]),
            Route("/api/memory/forget", _api(forget_topic), methods=["POST"]),
            Route("/api/memory/vocabulary", _api(teach), methods=["POST"]),
            Route("/api/memory/vocabulary/{term:str}", _api(unteach), methods=["DELETE"]),
            Route("/api/history", _api(history)),
            Route("/api/settings", _api(read_settings), methods=["GET"]),
            Route("/api/settings", _api(change_settings), methods=["POST"]),
            Route("/api/key", _api(read_key), methods=["GET"]), Route("/api/key", _api(new_key), methods=["POST"])]


def _page(name: str) -> Handler:
    async def page(request: Request) -> Response:
        from os1.server.static_files import PAGE_HEADERS, STATIC

        return FileResponse(STATIC / name, headers=PAGE_HEADERS)

    return page


# request bodies ------------------------------------------------------------------------------------------

async def _body(request: Request, fields: set[str]) -> dict[str, Any]:
    """The request's JSON object, read up to `MAX_BODY_BYTES`; only `fields` may appear in it."""
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                raise PageError(400, "too_large", f"The request is larger than {MAX_BODY_BYTES // 1024} KiB.")
    except ClientDisconnect as exc:
        raise PageError(400, "bad_json", "The request was cut short.") from exc
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's stack allows
        raise PageError(400, "bad_json", "The request is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise PageError(400, "bad_json", "The request must be a JSON object.")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise PageError(400, "bad_field", f"Unknown field '{unknown[0]}'; use {', '.join(sorted(fields))}.")
    return body


def text_field(body: dict[str, Any], name: str, *, one_line: bool = True) -> str:
    """A required string field, trimmed (and on one line), neither empty nor longer than its limit."""
    value = body.get(name)
    if not isinstance(value, str):
        raise PageError(400, "bad_field", f"'{name}' must be a string.")
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    value = " ".join(value.split()) if one_line else value.strip()
    if not value:
        raise PageError(400, "bad_field", f"'{name}' can't be empty.")
    if len(value) > LIMITS[name]:
        raise PageError(400, "bad_field", f"'{name}' is too long (at most {LIMITS[name]} characters).")
    return value


def _memory(companion: Companion) -> Memory:
    if companion.memory is None:
        raise PageError(503, "no_memory", "Memory is not available in this conversation.")
    return companion.memory


def _item_id(request: Request) -> int:
    item_id = int(request.path_params["item_id"])
    if item_id > MAX_ID:
        raise not_found()
    return item_id


# memory ---------------------------------------------------------------------------------------------------

def item_json(item: Item) -> dict[str, Any]:
    """`{"id", "kind", "text", "since", "until"}` (times in ISO 8601; `until` is null while it holds)."""
    return {"id": item.id, "kind": item.kind, "text": item.text, "since": item.valid_from.isoformat(),
            "until": item.valid_until.isoformat() if item.valid_until else None}


def report_json(report: ForgetReport) -> dict[str, int]:
    return {"turns": report.turns, "items": report.items, "terms": report.terms, "profile": report.profile,
            "listed": report.listed}


def _vocabulary(memory: Memory) -> list[dict[str, str]]:
    return [{"term": term, "meaning": meaning} for term, meaning in memory.vocabulary().items()]


async def list_memory(request: Request) -> Response:
    """What the OS remembers: its memory items (newest first) and the user's own words."""
    companion = companion_of(request)
    memory = _memory(companion)
    return _ok({"name": companion.name, "items": [item_json(i) for i in memory.items(limit=ITEMS_SHOWN)],
                "vocabulary": _vocabulary(memory)})


async def edit_item(request: Request) -> Response:
    """Give one item new words."""
    memory = _memory(companion_of(request))
    item_id = _item_id(request)
    text = text_field(await _body(request, {"text"}), "text")
    await memory.flush()  # nothing in the background still holds the old words
    item = memory.edit_item(item_id, text)
    if item is None:
        raise not_found()
    return _ok({"item": item_json(item)})


async def forget_one(request: Request) -> Response:
    """Forget one item, with the words it came from."""
    memory = _memory(companion_of(request))
    item_id = _item_id(request)
    await memory.flush()
    report = forget_item(memory, item_id)
    if report is None:
        raise not_found()
    return _ok({"forgotten": report_json(report)})


async def forget_topic(request: Request) -> Response:
    """Forget everything that mentions a topic, everywhere (as `os1 memory forget`)."""
    memory = _memory(companion_of(request))
    topic = text_field(await _body(request, {"topic"}), "topic")
    await memory.flush()
    return _ok({"forgotten": report_json(forget(memory, topic))})


async def teach(request: Request) -> Response:
    """Add a term to the user's own words, or give one a new meaning."""
    memory = _memory(companion_of(request))
    body = await _body(request, {"term", "meaning"})
    term, meaning = text_field(body, "term"), text_field(body, "meaning")
    memory.teach(term, meaning)
    return _ok({"vocabulary": _vocabulary(memory)})


async def unteach(request: Request) -> Response:
    """Forget one of the user's terms, and the words that taught it."""
    memory = _memory(companion_of(request))
    await memory.flush()
    report = forget_term(memory, str(request.path_params["term"]))
    if report is None:
        raise not_found("word")
    return _ok({"forgotten": report_json(report), "vocabulary": _vocabulary(memory)})


def turn_json(turn: Turn) -> dict[str, Any]:
    """`{"id", "role", "speaker", "text", "status", "at"}`."""
    return {"id": turn.id, "role": turn.role, "speaker": turn.speaker, "text": turn.text, "status": turn.status,
            "at": turn.created_at.isoformat()}


async def history(request: Request) -> Response:
    """The latest turns of the conversation, oldest first (`?limit=`, 1 to 500)."""
    raw = request.query_params.get("limit", str(HISTORY_DEFAULT))
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= HISTORY_MAX:
        raise PageError(400, "bad_field", f"'limit' must be a whole number from 1 to {HISTORY_MAX}.")
    return _ok({"turns": [turn_json(t) for t in companion_of(request).history(int(raw))]})


# settings -------------------------------------------------------------------------------------------------

def key_json(request: Request) -> dict[str, Any]:
    """`{"exists", "hint", "created", "base_url"}` of the user's key for the OpenAI-compatible API."""
    info = key_info(request.app.state.accounts.db, companion_of(request).store.user_id)
    return {"exists": info is not None, "hint": info.hint if info else None,
            "created": info.created.isoformat() if info and info.created else None,
            "base_url": str(request.base_url) + "v1"}


async def read_key(request: Request) -> Response:
    """Whether the user has a key (never the key itself: only a hash of it is kept)."""
    return _ok(key_json(request))


async def new_key(request: Request) -> Response:
    """A new key, shown this once; the old one stops working."""
    key = make_key(request.app.state.accounts.db, companion_of(request).store.user_id)
    return _ok({"key": key, **key_json(request)})


class ModelSwitch:
    """Changes the model of local single-user mode: loads the new one in a thread, stores the choice in the
    config file, then puts it in the companion; on any failure the old model stays and nothing is stored."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = asyncio.Lock()

    async def change(self, companion: Companion, spec: str) -> None:
        """Load the model `spec` names, store the choice for the next start, and give it to the companion
        (raises `OS1Error` when it cannot be loaded or stored). One change at a time."""
        async with self._lock:
            llm: LLM = await asyncio.to_thread(get_model, spec, replace(self.settings, model=spec))
            self.settings = set_config_value(self.settings, "model", spec)
            companion.llm = llm  # the old model is not closed: a reply may still be using it
            if companion.memory is not None:
                companion.memory.extractor = model_extractor(llm)


def settings_json(companion: Companion, switch: ModelSwitch | None) -> dict[str, Any]:
    """The OS's name, the voice and the voices to choose from, the model and the installed backends."""
    choices = voices.installed_voices()
    return {"name": companion.name,
            "voice": {"current": companion.store.get(voices.CHOICE) or voices.DEFAULT,
                      "choices": [{"id": v.spec, "label": v.label, "gender": v.gender} for v in choices]},
            "model": {"current": companion.llm.name, "changeable": switch is not None,
                      "backends": [{"prefix": e.prefix, "description": e.description}
                                   for e in sorted(available_models().values(), key=lambda e: e.prefix)]}}


async def apply_settings(companion: Companion, body: dict[str, Any], switch: ModelSwitch | None) -> None:
    """Check every field given, then load the model (the slow part that may fail), then change them all."""
    if not body:
        raise PageError(400, "bad_field", "Nothing to change: give name, voice or model.")
    name = _new_name(companion, body) if "name" in body else None
    voice = _new_voice(body) if "voice" in body else None
    if "model" in body:
        if switch is None:
            raise PageError(403, "not_allowed", "Only the person running OS1 on this machine can change its model.")
        await switch.change(companion, _spec(body))
    if name is not None:
        companion.rename(name)
    if voice is not None:
        companion.store.set(voices.CHOICE, voice.spec)
        preference = companion.store.get("user.voice")
        if (fitting := voices.fitting_preference(voice, preference)) != preference:
            companion.store.set("user.voice", fitting)


def _new_name(companion: Companion, body: dict[str, Any]) -> str:
    name = text_field(body, "name")
    if not NAME.fullmatch(name):
        raise PageError(400, "bad_field", "A name starts with a letter, and has only letters, digits, spaces, "
                                          "apostrophes, dots and hyphens.")
    if not companion.name:
        raise PageError(409, "not_ready", "The OS names itself at the end of first boot; rename it after that.")
    return name


def _spec(body: dict[str, Any]) -> str:
    """A model spec as given (a file path in it may hold any spaces), on one line."""
    spec = text_field(body, "model", one_line=False)
    if any(ord(c) < 32 for c in spec):
        raise PageError(400, "bad_field", "'model' must be on one line.")
    return spec


def _new_voice(body: dict[str, Any]) -> voices.Voice:
    spec = text_field(body, "voice")
    choices = {v.spec: v for v in voices.installed_voices()}
    if spec not in choices:
        known = ", ".join(choices) or "none (install one: pip install 'os1[voice]')"
        raise PageError(400, "bad_field", f"No voice '{spec}' is installed; choose one of: {known}.")
    return choices[spec]
