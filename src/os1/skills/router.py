"""The embedded router: which skill a line asks for, and its slots, by the skills' own intent patterns. Pure.

A pattern is matched against the whole line, normalised (lower case, contractions spelt out, punctuation
gone). Its pieces: a word; `{slot}`, one or more words captured; `[a|b c]`, optional words; `(a|b c)`, one of
them; `*`, any words or none. When several patterns match, the one with the most words of its own wins (it is
the most specific); a tie goes to the skill registered first. With no pattern, a learnt classifier
(`skills/classifier.py`) may name the skill, if it is sure enough and the line holds one of that skill's
keywords; its slots are then empty, for the executor to ask for. Else the line is conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from os1.errors import SkillError
from os1.skills.base import Skill
from os1.skills.words import CONTRACTIONS as _CONTRACTIONS
from os1.skills.words import normalise

if TYPE_CHECKING:
    from os1.skills.classifier import Classifier

_PIECE = re.compile(r"\{(\w+)\}|\[([^\]]+)\]|\(([^)]+)\)|(\*)|([^\s\[\](){}*]+)")
__all__ = ["Match", "Pattern", "Router", "compile_pattern", "normalise"]
def _words(choice: str) -> str:
    return " ".join(re.escape(word) for word in choice.split())


@dataclass(frozen=True, slots=True)
class Pattern:
    """One intent pattern of one skill, compiled."""

    skill: Skill
    source: str
    regex: re.Pattern[str]
    words: int
    """How many words of its own it asks for (its specificity)."""
    order: int


def compile_pattern(skill: Skill, source: str, order: int = 0) -> Pattern:
    """A pattern ready to match; a `SkillError` names what is wrong with a bad one."""
    parts: list[str] = []
    words = 0
    slots: set[str] = set()
    position = 0
    for piece in _PIECE.finditer(source):
        if source[position:piece.start()].strip():
            raise SkillError(f"Skill '{skill.name}': cannot read pattern {source!r} at "
                             f"{source[position:piece.start()].strip()!r}.")
        position = piece.end()
        slot, optional, choice, anything, word = piece.groups()
        if slot is not None:
            if slot in slots:
                raise SkillError(f"Skill '{skill.name}': slot {{{slot}}} twice in {source!r}.")
            slots.add(slot)
            parts.append(rf"(?P<{slot}>[^ ]+(?: [^ ]+)*?) ")
        elif optional is not None:
            parts.append("(?:(?:" + "|".join(_words(o) for o in optional.split("|")) + ") )?")
        elif choice is not None:
            parts.append("(?:" + "|".join(_words(c) for c in choice.split("|")) + ") ")
            words += 1
        elif anything is not None:
            parts.append("(?:[^ ]+ )*?")
        else:
            parts.append(re.escape(normalise(word)) + " ")
            words += 1
    if source[position:].strip() or not parts:
        raise SkillError(f"Skill '{skill.name}': cannot read pattern {source!r}.")
    return Pattern(skill, source, re.compile("^" + "".join(parts) + "$"), words, order)


_SPELT_OUT: dict[str, list[str]] = {}
for _short, _long in _CONTRACTIONS.items():
    _SPELT_OUT.setdefault(_long, []).append(_short)


def _said_pattern(words: list[str]) -> str:
    """A regex for normalised `words` as a user may have written them: "i am" may have been "I'm" or "I’m"."""
    parts: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if pair in _SPELT_OUT:
            shorts = [re.escape(short).replace("'", "['\u2019]?") for short in _SPELT_OUT[pair]]
            parts.append("(?:" + "|".join([*shorts, re.escape(words[i]) + r"\W+" + re.escape(words[i + 1])]) + ")")
            i += 2
            continue
        parts.append(re.escape(words[i]).replace("'", "['\u2019]"))
        i += 1
    return r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)"


def _as_said(text: str, words: str) -> str:
    """A slot's words as the user wrote them ("Catherine", not "catherine"; "I'm", not "i am"), where they can
    be found so."""
    if not words:
        return words
    found = re.search(_said_pattern(words.split()), text, re.IGNORECASE)
    return found.group(0) if found else words


@dataclass(frozen=True, slots=True)
class Match:
    """The skill a line asks for and what its slots captured."""

    skill: Skill
    slots: dict[str, str]
    pattern: str


class Router:
    """Matches lines to skills (`match`); built once from the skills there are."""

    def __init__(self, skills: Iterable[Skill], classifier: Classifier | None = None, *,
                 sure: float = 0.65) -> None:
        self.skills = tuple(skills)
        self.classifier = classifier
        self.sure = sure
        """The probability the classifier must give a skill for a line no pattern reads."""
        self._by_name = {skill.name: skill for skill in self.skills}
        names = [skill.name for skill in self.skills]
        if len(set(names)) != len(names):
            raise SkillError("Two skills have the same name: " + ", ".join(sorted({n for n in names
                                                                                     if names.count(n) > 1})))
        self._patterns = [compile_pattern(skill, source, order)
                          for order, skill in enumerate(self.skills) for source in skill.intents]
        self._patterns.sort(key=lambda p: (-p.words, p.order))

    def match(self, text: str) -> Match | None:
        """The most specific pattern that matches the whole of `text`, else the classifier's sure choice, or
        None (conversation)."""
        line = normalise(text) + " "
        if not line.strip():
            return None
        for pattern in self._patterns:
            found = pattern.regex.match(line)
            if found:
                slots = {k: _as_said(text, v.strip()) for k, v in found.groupdict().items() if v is not None}
                if pattern.skill.fits is None or pattern.skill.fits(slots):
                    return Match(pattern.skill, slots, pattern.source)
        if self.classifier is None:
            return None
        label, probability = self.classifier.best(text)
        skill = self._by_name.get(label)
        words = set(line.split())
        if skill is None or probability < self.sure or not words.intersection(skill.keywords):
            return None
        return Match(skill, {}, "(learnt)")
