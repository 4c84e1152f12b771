"""Memory extraction by a capable language model, beside the deterministic rules."""

from __future__ import annotations

import json
from importlib import resources

from os1.errors import ModelError
from os1.llm.base import LLM, Message
from os1.memory.extract import Extracted, Kind
from os1.memory.store import Turn
from os1.memory.timeparse import describe

KINDS: set[str] = {"fact", "event", "person", "plan", "preference"}


def prompt(turn: Turn) -> str:
    """The extraction prompt for one turn, from package data."""
    template = resources.files("os1.memory").joinpath("data", "extract.md").read_text(encoding="utf-8")
    return template.format(speaker=turn.speaker or "the speaker", text=turn.text[:4000],
                           date=describe(turn.created_at))


def parse(reply: str) -> list[Extracted]:
    """The JSON lines of a reply that are well-formed items; anything else is ignored."""
    items = []
    for line in reply.splitlines():
        line = line.strip().strip(",")
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or data.get("kind") not in KINDS or not str(data.get("text", "")).strip():
            continue
        kind: Kind = data["kind"]
        items.append(Extracted(kind, str(data.get("subject", ""))[:80], str(data.get("attribute", ""))[:80],
                               str(data.get("value", ""))[:200], str(data["text"]).strip()[:400],
                               0.7 if kind in ("fact", "person") else 0.5, ends=str(data.get("ended") or "")[:200]))
    return items


class LLMExtractor:
    """Asks the conversation's model what one user turn holds worth remembering."""

    def __init__(self, llm: LLM, *, max_tokens: int = 300) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    async def __call__(self, turn: Turn) -> list[Extracted]:
        if turn.role != "user":
            return []
        try:
            pieces = [p async for p in self.llm.stream([Message("user", prompt(turn))],
                                                       max_tokens=self.max_tokens, temperature=0.0)]
        except ModelError:
            return []  # the rules' items still stand; the model may be back next time
        return parse("".join(pieces))
