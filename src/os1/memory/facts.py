"""Facts that can change, however they are said: where one lives, works, works out, studies; one's partner;
"my X is Y". And when two facts fill the same slot ("favourite film" and "favorite movie"). Pure.

A fact has a subject and an attribute; a new value for the same subject and attribute closes the old one. The
rules here say many phrasings of the common attributes under one name each, and an ending ("I quit the Y")
closes a fact without a new value. `same_slot` says when two attribute names are one attribute; the memory
asks the embedder as well for names no rule knows (`SAME_SLOT_COSINE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from os1.memory.wording import third_person

SAME_SLOT_COSINE = 0.75
"""MiniLM cosine of two attribute names above which they are one attribute: "favourite film" and "favourite
movie" 0.96, "favourite band" and "favourite music group" 0.83, "car" and "vehicle" 0.87; "favourite colour" and
"favourite food" 0.58, "doctor" and "dentist" 0.54, "favourite band" and "favourite song" 0.67."""

_CALENDAR = ("(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July"
             "|August|September|October|November|December)\\b")
PLACE = (rf"((?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:(?:de|del|la|le|of|on|upon|am|du|des)\s+)?"
         rf"(?!I\b|I'|I’|The\b|{_CALENDAR})[A-Z][\w'’&.-]*)*(?:,\s*(?!I\b|The\b)[A-Z][\w'’&-]*(?=\s*(?:[.!?;]|$)))?)")
"""A place's name: capitalised words, maybe after "the" ("the Y", "Crunch", "Porto", "São Paulo")."""
_SOON = r"(?:\s+(?:now|again|these days|nowadays|today|instead))?"
_ADV = r"(?:(?:just|now|recently|finally|actually|officially|still|usually|mostly|also)\s+)*"

FAMILIES: dict[str, frozenset[str]] = {
    "home": frozenset({"home", "place", "apartment", "flat", "house", "address", "city", "town", "neighbourhood"}),
    "workplace": frozenset({"workplace", "work", "employer", "company", "office", "firm", "work place"}),
    "gym": frozenset({"gym", "fitness club", "health club", "fitness center", "fitness centre", "gym membership",
                      "climbing gym", "box"}),
    "school": frozenset({"school", "university", "college", "uni"}),
    "occupation": frozenset({"occupation", "job", "profession", "job title", "role", "position", "career"}),
}
"""Attribute names that are one attribute."""
_MODIFIERS = frozenset("new current present usual regular main local own latest old".split())
_TRAILING = re.compile(r"\s+(?:these days|now|nowadays|at the moment|currently|lately|anymore|any more)$")

EXCLUSIVE = frozenset({"wife", "husband", "partner", "boyfriend", "girlfriend", "fiancé", "fiancee", "fiance", "boss",
                       "therapist", "landlord", "manager"})
"""Relations a person has with one other at a time: a new girlfriend closes the old one."""


@dataclass(frozen=True, slots=True)
class Found:
    """A fact found in a sentence (`value` is new), or an ending (`ends`: a value that stopped being true)."""

    attribute: str
    value: str
    text: str
    ends: str = ""


_TEMPLATES = {"home": "{who} lives in {value}.", "workplace": "{who} works at {value}.",
              "gym": "{who} works out at {value}.", "school": "{who} studies at {value}.",
              "occupation": "{who} works as {value}."}
_WORKOUT = r"(?:train|work out|workout|lift|exercise|box|climb|boulder|swim|spin|do (?:crossfit|yoga|pilates))"
_PHRASINGS: dict[str, tuple[str, ...]] = {
    "home": (
        rf"\bI(?:'ve| have)?\s+{_ADV}(?:live|am living|'m living|moved|relocated|settled|am moving|'m moving)"
        rf"\s+(?:in|to)\s+{PLACE}",
        rf"\b[Ww]e(?:'ve| have)?\s+{_ADV}(?:live|are living|'re living|moved|relocated|settled)\s+(?:in|to)\s+{PLACE}",
        rf"\bI(?:'m| am)\s+{_ADV}based\s+in\s+{PLACE}",
        rf"\b(?:[Mm]y|[Oo]ur)\s+(?:new\s+)?(?:place|apartment|flat|house|home)\s+is\s+in\s+{PLACE}",
        rf"\b[Hh]ome\s+is\s+{_ADV}{PLACE}",
    ),
    "workplace": (
        rf"\bI\s+{_ADV}work\s+(?:at|for)\s+{PLACE}",
        rf"\bI(?:'m| am)\s+{_ADV}(?:working|employed)\s+(?:at|for|by|with)\s+{PLACE}",
        rf"\bI(?:'ve| have)?\s+{_ADV}(?:got|landed|took|accepted|started|began|start|begin)\s+(?:a|the|my)\s+"
        rf"(?:new\s+)?(?:job|position|role)\s+(?:at|with)\s+{PLACE}",
        rf"\bI(?:'ve| have)?\s+{_ADV}(?:started|begun|start)\s+(?:working\s+)?at\s+{PLACE}",
        rf"\bI(?:'ve| have)?\s+{_ADV}joined\s+{PLACE}\s+as\b",
        rf"\b{PLACE}\s+(?:hired|has hired|took on)\s+me\b",
        rf"\b[Mm]y\s+(?:new\s+)?(?:job|employer|company)\s+is\s+(?:at\s+)?{PLACE}",
    ),
    "gym": (
        rf"\bI\s+{_ADV}{_WORKOUT}(?:\s+(?:now|again|these days))?\s+at\s+{PLACE}",
        rf"\bI\s+{_ADV}(?:go|went|head)\s+to\s+{PLACE}\s+to\s+{_WORKOUT}",
        rf"\bI(?:'ve| have)?\s+{_ADV}(?:joined|switched to|signed up (?:at|for|with)|started going to)\s+{PLACE}"
        r"(?=[^.!?]*\b(?:gym|work(?:ing)? ?outs?|lift|train|fitness|exercise|membership|classes)\b)",
        rf"\b[Mm]y\s+(?:new\s+)?gym\s+is\s+{PLACE}",
    ),
    "school": (
        rf"\bI(?:'m| am)?\s+{_ADV}(?:study|studying)\s+at\s+{PLACE}",
        rf"\bI(?:'m| am)\s+{_ADV}(?:a student|enrolled)\s+at\s+{PLACE}",
        rf"\bI\s+{_ADV}(?:got into|was accepted (?:at|to|into))\s+{PLACE}",
    ),
    "occupation": (
        r"\bI\s+(?:now\s+)?work\s+as\s+((?:a|an)\s+[a-z][a-z -]{2,30}?)(?=\s+(?:at|for|in)\b|[.,!?;]|$)",
        r"\bI(?:'ve| have)?\s+(?:got|started|took)\s+a\s+(?:new\s+)?job\s+as\s+((?:a|an)\s+[a-z][a-z -]{2,30}?)"
        r"(?=\s+(?:at|for|in)\b|[.,!?;]|$)",
    ),
}
_ENDINGS = (
    rf"\bI(?:'ve| have)?\s+{_ADV}(?:quit|left|cancell?ed my membership (?:at|with)|stopped going to|moved out of|"
    rf"moved away from|resigned from|dropped out of|got fired from|was laid off (?:from|by)|broke up with|"
    rf"split up with|divorced)\s+{PLACE}",
    rf"\bI(?:'m| am)\s+no longer\s+(?:at|with|working at|going to|living in|training at|dating)\s+{PLACE}",
    rf"\bI\s+(?:don't|do not)\s+(?:go to|work at|work for|live in|train at|see)\s+{PLACE}\s+(?:anymore|any more)",
)


def find(sentence: str, who: str) -> list[Found]:
    """The changeable facts, and the endings, that one sentence of `who` says."""
    found: list[Found] = []
    for attribute, phrasings in _PHRASINGS.items():
        for phrasing in phrasings:
            match = re.search(phrasing, sentence)
            if match:
                value = clean(match.group(1))
                if value and value.lower() not in ("i", "it", "there"):
                    found.append(Found(attribute, value, _TEMPLATES[attribute].format(who=who, value=value)))
                break
    for ending in _ENDINGS:
        for match in re.finditer(ending, sentence):
            value = clean(match.group(1))
            if value:
                found.append(Found("", "", f"{third_person(match.group(0), who).strip(' ,;:')}.", ends=value))
    return found


def clean(value: str) -> str:
    """A value without the words and marks around it."""
    value = re.sub(r"\s+", " ", value).strip(" ,.;:!?\"'")
    return _TRAILING.sub("", value)


def attribute_name(attribute: str) -> str:
    """An attribute as one name: "favorite band these days" → "favourite band", "new flat" → "home"."""
    words = _TRAILING.sub("", clean(attribute).lower()).replace("favorite", "favourite").replace("color", "colour")
    kept = [w for w in words.split() if w not in _MODIFIERS] or words.split()
    name = " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in kept)
    for family, names in FAMILIES.items():
        if name in names:
            return family
    return name


def same_slot(a: str, b: str) -> bool:
    """Whether two attribute names are one attribute by the rules (the embedder may still find more)."""
    return bool(a and b) and attribute_name(a) == attribute_name(b)


def same_value(a: str, b: str) -> bool:
    """Whether two values name the same thing: "the Y" and "Y", "Crunch" and "Crunch Fitness"."""
    def words(value: str) -> list[str]:
        return re.sub(r"^(?:the|a|an|my)\s+", "", clean(value).lower()).split()
    x, y = words(a), words(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    return long[: len(short)] == short
