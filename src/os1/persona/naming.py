"""The OS chooses its own name from the shipped list, by its first impression of the user."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from os1.persona.data import toml

_ANTI = re.compile(r"\b(anti|not|un|introvert\w*|shy|alone|myself|loner|quiet|private|hermit)", re.I)
_SOCIAL = re.compile(r"\b(social|extrovert\w*|outgoing|people person|friends|party)", re.I)
_HARD = re.compile(r"\b(complicated|difficult|hard|bad|distant|strained|don'?t talk|never talk|fight|"
                   r"argue|toxic|passed|died|gone|estranged|tense|angry|frustrat\w*|mess)", re.I)
_WARM = re.compile(r"\b(love|loving|close|great|good|best|wonderful|talk|call|sundays?|friend|"
                   r"supportive|kind|warm|fine|okay|ok)\b", re.I)


@dataclass(frozen=True, slots=True)
class NameChoice:
    """The name the OS chose and why, in its own words."""

    name: str
    reason: str


def social_impression(answer: str) -> str:
    """`social`, `antisocial` or `mixed`, from the answer to "Are you social or anti-social?"."""
    anti, social = bool(_ANTI.search(answer)), bool(_SOCIAL.search(answer))
    if anti and social and re.search(r"\bboth|depends|bit of|sometimes|mix", answer, re.I):
        return "mixed"
    if anti:
        return "antisocial"
    return "social" if social else "mixed"


def mother_impression(answer: str) -> str:
    """`warm`, `hard` or `neutral`, from the answer about the user's mother."""
    if _HARD.search(answer):
        return "hard"
    return "warm" if _WARM.search(answer) else "neutral"


_MOODS = {
    "social": ("social", "playful", "warm"), "antisocial": ("quiet", "gentle", "curious"),
    "mixed": ("curious", "steady"), "warm": ("warm", "gentle"), "hard": ("steady", "gentle"),
    "neutral": (),
}


def choose_name(answers: Mapping[str, str], rng: random.Random | None = None) -> NameChoice:
    """Pick a name that suits the user's answers, with chance among the best fits, and explain it."""
    rng = rng or random.SystemRandom()
    names = toml("names.toml")["name"]
    reasons = toml("reasons.toml")
    social = social_impression(answers.get("user.social", ""))
    mother = mother_impression(answers.get("user.mother", ""))
    wanted = set(_MOODS[social]) | set(_MOODS[mother])
    voice = answers.get("user.voice", "either")
    fitting = [n for n in names if voice == "either" or n["voice"] in (voice, "either")] or names
    scores = [len(wanted & set(n["moods"])) for n in fitting]
    best = max(scores)
    pool = [(n, s) for n, s in zip(fitting, scores, strict=True) if s >= best - 1]
    chosen = rng.choices([n for n, _ in pool], weights=[1 + s * 2 for _, s in pool])[0]
    opening = rng.choice(reasons["opening"]["lines"]).format(
        count=len(names), name=chosen["name"], meaning=chosen["meaning"])
    return NameChoice(chosen["name"], f"{opening} {_because(reasons, social, mother, answers, rng)}")


QUOTE_WORDS = 6
"""The user's answer about their mother is quoted back only when it is this short."""


def _because(reasons: Mapping[str, Any], social: str, mother: str, answers: Mapping[str, str],
             rng: random.Random) -> str:
    """The second half: why, in one of several wordings, quoting the user's own words when they are short."""
    said = re.sub(r"\s+", " ", answers.get("user.mother", "")).strip().rstrip(".!?")
    lines = [line for line in reasons["mother"][mother] if "{mother_said}" not in line
             or 0 < len(said.split()) <= QUOTE_WORDS]
    join = rng.choice(reasons["join"]["lines"])
    return str(join.format(social=rng.choice(reasons["social"][social]),
                           mother=rng.choice(lines).format(mother_said=said)))
