"""First boot: the short questionnaire before the OS is initialised, as a pure state machine."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from os1.errors import InputError
from os1.persona.data import toml

QuestionKind = Literal["name", "text", "voice"]
VOICES = {
    "female": ("female", "woman", "f", "feminine", "her", "she"),
    "male": ("male", "man", "m", "masculine", "him", "he"),
    "either": ("either", "any", "no preference", "whatever", "don't care", "dont care", "both", "neither",
               "you choose", "surprise me"),
}


@dataclass(frozen=True, slots=True)
class Question:
    """One first-boot question."""

    key: str
    """Profile key the answer is stored under."""
    prompt: str
    """What the OS asks."""
    kind: QuestionKind
    """How the answer is checked."""


def questions() -> list[Question]:
    """The questions, in order, from `onboarding.toml`."""
    return [Question(q["key"], q["prompt"], q["kind"]) for q in toml("onboarding.toml")["question"]]


def messages() -> dict[str, str]:
    """Fixed first-boot lines (welcome back, renamed…)."""
    return dict(toml("onboarding.toml")["messages"])


def intro() -> list[str]:
    """What the installer says before the first question."""
    return list(toml("onboarding.toml")["intro"])


def normalise_voice(answer: str) -> str:
    """`"a female voice please"` → `female`; raise InputError when it is none of the three."""
    words = answer.lower().strip(" .!")
    for voice, forms in VOICES.items():
        if words in forms:
            return voice
    for voice in ("female", "male"):  # "female" contains "male": test it first
        if re.search(rf"\b{voice}\b", words):
            return voice
    if any(re.search(rf"\b{re.escape(f)}\b", words) for f in VOICES["either"]):
        return "either"
    raise InputError(messages()["voice_again"])


def normalise_name(answer: str) -> str:
    """`"call me theodore."` → `Theodore`; first letters capitalised, at most 40 characters."""
    name = re.sub(r"^(?:(?:you can )?call me|i'?m|i am|my name is|it'?s)\s+", "", answer.strip(),
                  flags=re.IGNORECASE).strip(" .!,")
    if not name:
        raise InputError("I didn't catch your name.")
    name = name[:40]
    return " ".join(w[:1].upper() + w[1:] for w in name.split())


class Onboarding:
    """Which question comes next, given the answers stored so far; answers are checked here."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self._answers = dict(answers)
        self._questions = questions()

    def next_question(self) -> Question | None:
        """The first question not yet answered, or None when first boot is done."""
        return next((q for q in self._questions if not self._answers.get(q.key)), None)

    def answer(self, question: Question, raw: str) -> str:
        """Check and normalise an answer (InputError to ask again) and remember it."""
        text = raw.strip()
        if not text:
            raise InputError(messages()["again"].format(prompt=question.prompt))
        if question.kind == "name":
            text = normalise_name(text)
        elif question.kind == "voice":
            text = normalise_voice(text)
        else:
            text = text[:500]
        self._answers[question.key] = text
        return text
