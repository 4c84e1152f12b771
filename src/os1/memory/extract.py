"""Deterministic memory extractors: people, relations, "my X is Y", where one lives, likes, plans, dated events.

They let the embedded install remember well without a capable model. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from os1.memory import facts
from os1.memory.timeparse import said_date
from os1.memory.wording import third_person

Kind = Literal["fact", "event", "preference", "person", "plan", "vocabulary"]

RELATIONS = ("friend", "best friend", "sister", "brother", "mother", "mom", "mum", "dad", "father", "wife",
             "husband", "partner", "boyfriend", "girlfriend", "fiancé", "fiancee", "fiance", "boss", "colleague",
             "coworker", "co-worker", "son", "daughter", "cousin", "aunt", "uncle", "grandma", "grandmother",
             "grandpa", "grandfather", "neighbor", "neighbour", "therapist", "doctor", "ex", "ex-wife",
             "ex-husband", "roommate", "mentor", "teacher", "dog", "cat", "kid", "child", "niece", "nephew")
_REL = "|".join(sorted((re.escape(r) for r in RELATIONS), key=len, reverse=True))
_NAME = r"([A-Z][a-zà-ÿ'’-]+(?:\s[A-Z][a-zà-ÿ'’-]+)?)"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
__all__ = ["Extracted", "Kind", "extract", "third_person"]


@dataclass(frozen=True, slots=True)
class Extracted:
    """A memory item found in one sentence."""

    kind: Kind
    subject: str
    """Whom or what it is about."""
    attribute: str
    """Which property: facts with the same subject and attribute replace each other ('' = never)."""
    value: str
    """The property's value; for an event or plan, the ISO date (or "start/end" span) it happens on."""
    text: str
    """A sentence that stands alone, in the third person."""
    importance: float = 0.5
    ends: str = ""
    """A value that stopped being true with this statement ("I quit the Y"): the subject's current fact (or
    one-at-a-time relation) with that value closes."""


def _facts(sentence: str, who: str) -> list[Extracted]:
    """Facts that can change: the common ones however they are said (`facts.find`), and "my X is Y"."""
    found: list[Extracted] = []
    named: set[str] = set()
    for fact in facts.find(sentence, who):
        if fact.ends:
            found.append(Extracted("event", who, "", "", fact.text, 0.6, ends=fact.ends))
        else:
            named.add(fact.attribute)
            found.append(Extracted("fact", who, fact.attribute, fact.value, fact.text, 0.8))
    for match in re.finditer(r"\b[Mm]y\s+((?:favou?rite\s+)?[a-z][a-z -]{1,30}?)(?:'s name)?\s+is\s+(?!a\b|an\b|the\b)"
                             r"([^.,!?;]{1,60})", sentence):
        attribute = facts.clean(match.group(1))
        value = facts.clean(re.split(r"\s+(?:and|but|because|so|which|though)\s+", match.group(2))[0])
        name = facts.attribute_name(attribute)
        if attribute in RELATIONS or not value or name in named:
            continue
        if name in facts.FAMILIES and not value[:1].isupper():
            continue  # "my new flat is lovely" says how it is, not where
        found.append(Extracted("fact", who, name, value, f"{who}'s {attribute} is {value}.", 0.7))
    return found


def _people(sentence: str, who: str) -> list[Extracted]:
    found = []
    for match in re.finditer(rf"\b[Mm]y\s+({_REL})(?:,)?\s+(?:named\s+|called\s+)?{_NAME}", sentence):
        relation, person = match.group(1).lower(), match.group(2)
        found.append(Extracted("person", person, f"relation to {who}", relation,
                               f"{person} is {who}'s {relation}.", 0.8))
    for match in re.finditer(rf"\b{_NAME}\s+is\s+my\s+({_REL})\b", sentence):
        person, relation = match.group(1), match.group(2).lower()
        found.append(Extracted("person", person, f"relation to {who}", relation,
                               f"{person} is {who}'s {relation}.", 0.8))
    return found


def _vocabulary(sentence: str, who: str) -> list[Extracted]:
    """"Peak is my gym": a name the user uses for a thing of theirs."""
    match = re.search(rf"\b{_NAME}\s+is\s+(?:the\s+name\s+of\s+)?my\s+(?!{_REL}\b)([a-z][a-z -]{{1,30}}?)\b[.!?,]?$",
                      sentence.strip())
    if not match:
        return []
    term, meaning = match.group(1), facts.clean(match.group(2))
    return [Extracted("vocabulary", term, "means", f"{who}'s {meaning}", f"{term} is {who}'s {meaning}.", 0.7)]


def _likes(sentence: str, who: str) -> list[Extracted]:
    match = re.search(r"\bI\s+(?:really\s+|absolutely\s+)?(love|like|enjoy|hate|adore|can't stand|dislike|prefer)"
                      r"\s+([^.!?;]{3,60})", sentence)
    if not match:
        return []
    verb = {"can't stand": "can't stand"}.get(match.group(1), match.group(1) + "s")
    value = facts.clean(match.group(2))
    return [Extracted("preference", who, "", value, f"{who} {verb} {value}.", 0.5)]


_SELF_OR_NAME = re.compile(r"\b(?:I|I'm|I've|I'll|[Ww]e|[Ww]e're|[Mm]y|[Oo]ur|[Uu]s)\b|\b[A-Z][a-z]+(?:'s)?\b")
_NOT_NAMES = frozenset("""The A An It It's This That There What When Where How Why Who Is Are Do Does Did Can Could Will
Would Should So And But Oh Well Yes No Ok Okay Hey Hi Please Thanks Then Now Today Tonight Tomorrow Yesterday Next Last
On In At By For If Just Also Maybe""".split())


def _about_someone(sentence: str) -> bool:
    """Whether a sentence is about the speaker or someone they name (a bare fact of the world is no memory)."""
    return any(m.group(0).split("'")[0] not in _NOT_NAMES for m in _SELF_OR_NAME.finditer(sentence))


def _plans_and_events(sentence: str, who: str, at: datetime) -> list[Extracted]:
    """A dated item for a sentence that says when something happens: the value is its ISO date (or span)."""
    when = said_date(sentence, at)
    if when is None or not _about_someone(sentence):
        return []
    own_plan = when.future and re.search(r"\b(?:going to|gonna|planning|plan to|will|I'll|we'll)\b", sentence)
    kind: Kind = "plan" if when.future else "event"
    preposition = "planned for" if own_plan else ("on" if when.words[0].isdigit() else "in")
    text = f"{facts.clean(third_person(sentence, who))} ({preposition} {when.words})."
    return [Extracted(kind, who, "", when.iso(), text, 0.6 if when.future else 0.5)]


def extract(text: str, speaker: str, at: datetime) -> list[Extracted]:
    """Every memory item the rules find in one turn of `speaker`, said at `at`."""
    items: list[Extracted] = []
    for sentence in _SENTENCE.split(text.strip()):
        if len(sentence) > 600:
            sentence = sentence[:600]
        for finder in (_facts, _people, _vocabulary, _likes):
            items.extend(finder(sentence, speaker))
        items.extend(_plans_and_events(sentence, speaker, at))
    seen: set[str] = set()
    return [i for i in items if not (i.text in seen or seen.add(i.text))]  # type: ignore[func-returns-value]
