"""Which OS1 skill answers each intent of the HWU64 set (scenario/intent), for `benchmarks/skills_router.py`.

An intent maps to a skill family, to "conversation" (the model answers it: small talk, definitions, facts,
recipes), or is absent: a skill OS1 does not have yet (alarms, email, the calendar, the home, music…); those
utterances are left out of the score and counted, so the benchmark grows as skills land. Several skills make
one family when the data set does not tell them apart ("what's on my list" and "what lists do I have" are both
`lists/query`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from os1.skills.classifier import OTHER

TALK_FILE = Path(__file__).with_name("data") / "conversation.txt"
"""Lines of companion talk that use skills' words and ask for no skill, learnt as "other"."""

CONVERSATION = "conversation"

SKILL_OF_INTENT: dict[str, str] = {
    "datetime/query": "date_time",
    "alarm/set": "alarm_set",
    "alarm/query": "timers_show",
    "alarm/remove": "alarms_cancel",
    "lists/createoradd": "list_add",
    "lists/query": "list_show",
    "lists/remove": "list_remove",
    **{f"general/{name}": CONVERSATION for name in ("affirm", "commandstop", "confirm", "dontcare", "explain",
                                                     "joke", "negate", "praise", "quirky", "repeat")},
    "qa/definition": CONVERSATION,
    "qa/factoid": CONVERSATION,
    "recommendation/movies": CONVERSATION,
    "cooking/recipe": CONVERSATION,
}

FAMILY: dict[str, str] = {"note_add": "list_add", "list_start": "list_add", "notes_show": "list_show",
                          "lists_show": "list_show", "list_clear": "list_remove", "timer_set": "alarm_set",
                          "timers_cancel": "alarms_cancel"}
"""A skill's family, where it is not the skill's own name."""


def training_label(intent: str) -> str:
    """What a labelled utterance teaches the classifier: a skill family's name, else "other" (conversation and
    the intents of skills OS1 does not have yet alike: none of them is a skill here)."""
    label = SKILL_OF_INTENT.get(intent, CONVERSATION)
    return OTHER if label == CONVERSATION else label


def training_examples(rows: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """(text, label) for the classifier: labelled (text, "scenario/intent") rows, then the package's talk."""
    for text, intent in rows:
        yield text, training_label(intent)
    for line in TALK_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.strip(), OTHER


def family(skill_name: str | None) -> str:
    """What the router's answer counts as: a skill family, or conversation (None: no skill matched)."""
    if skill_name is None:
        return CONVERSATION
    return FAMILY.get(skill_name, skill_name)
