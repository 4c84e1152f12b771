"""Running skills for one conversation: what a line asks for, confirmation before acting, undo, limits.

One `Executor` per companion. `claims(line)` says whether a line is for a skill (or answers a pending
confirmation); `run(line, context)` does it and returns what to say. A skill that `changes` something leaves
its undo for "undo that" (the last one only, in this conversation). One that `acts` runs only after the user
answers yes to the exact action, asked in words ("Shall I …? Yes or no."); no cancels it, anything else asks
again, never guesses; the question lapses after `CONFIRM_FOR_S`. A required argument the line did not give (or
gave as "something") is asked for the same way, the next line being its value. A skill that fails or takes
longer than `timeout_s` is a reply that says so; nothing it half did is reported as done.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from os1.errors import OS1Error, SkillError
from os1.plugins import plugin_manager
from os1.skills.base import Done, Skill, SkillContext
from os1.skills.router import Match, Router, normalise

CONFIRM_FOR_S = 120.0
"""How long a question "Shall I …?" waits for its answer."""
_YES = re.compile(r"^(?:yes|yeah|yep|yup|sure|ok|okay|please do|do it|go ahead|confirm|confirmed|"
                  r"yes please|yes do it|yes go ahead|correct|that is right|absolutely)(?: please| thanks)?$")
_NO = re.compile(r"^(?:no|nope|nah|don't|do not|cancel|stop|never mind|nevermind|no thanks|no thank you|"
                 r"don't do it|do not do it|forget it)(?: please| thanks)?$")


_VAGUE = frozenset({"something", "an item", "a new item", "new item", "item", "items", "a thing", "things", "stuff",
                    "it", "this", "that", "some things", "something new", "a new one", "one"})
"""Slot words that name nothing: the argument is asked for instead."""


def installed_skills() -> tuple[Skill, ...]:
    """Every skill the installed plugins register (OS1's own through `os1.skills.builtin`)."""
    found: list[Skill] = []
    plugin_manager().hook.register_skills(register=found.append)
    return tuple(found)


@functools.cache
def installed_router() -> Router:
    """One router over the installed skills and OS1's learnt classifier, shared by every conversation."""
    from os1.skills.classifier import Classifier

    return Router(installed_skills(), Classifier.load())


@dataclass(frozen=True, slots=True)
class _Pending:
    """An action waiting for the user's yes."""

    skill: Skill
    arguments: dict[str, object]
    question: str
    asked: float
    fill: str = ""
    """The argument the answer gives; '' for a yes or no."""


def describe(skill: Skill, arguments: dict[str, object]) -> str:
    """The exact action, for its question: the skill's description and every argument it would run with."""
    shown = "; ".join(f"{name}: {value}" for name, value in arguments.items())
    return skill.description.rstrip(".") + (f" ({shown})" if shown else "")


class Executor:
    """Skills for one conversation."""

    def __init__(self, router: Router, *, timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.router = router
        self.timeout_s = timeout_s
        self._clock = clock
        self._undo: Callable[[], str] | None = None
        self._pending: _Pending | None = None

    def _waiting(self) -> _Pending | None:
        if self._pending is not None and self._clock() - self._pending.asked > CONFIRM_FOR_S:
            self._pending = None
        return self._pending

    @property
    def pending(self) -> bool:
        """Whether a skill's question waits for the user's answer (the next line answers it)."""
        return self._waiting() is not None

    def claims(self, line: str) -> bool:
        """Whether `line` is for a skill, or answers a question a skill asked."""
        return self.pending or self.router.match(line) is not None

    async def run(self, line: str, context: SkillContext) -> str:
        """Do what `line` asks (or answer the pending question) and say what was done."""
        pending = self._waiting()
        if pending is not None:
            return await self._answer(pending, line, context)
        match = self.router.match(line)
        if match is None:
            raise SkillError("That is not something a skill does.")
        return await self.call(match, context)

    async def call(self, match: Match | tuple[Skill, dict[str, object]], context: SkillContext) -> str:
        """Run a matched skill (from the router, or a model's tool call as (skill, arguments)); one that acts
        is asked about first."""
        skill, given = (match.skill, dict(match.slots)) if isinstance(match, Match) else match
        given = {k: v for k, v in given.items() if not (isinstance(v, str) and normalise(v) in _VAGUE)}
        missing = skill.missing(given)
        if missing:
            question = skill.question(missing[0])
            self._pending = _Pending(skill, given, question, self._clock(), fill=missing[0])
            return question
        try:
            arguments = skill.arguments(given)
        except SkillError as exc:
            return f"I couldn't do that: {exc.message}"
        if skill.effect == "acts":
            question = f"Shall I do this: {describe(skill, arguments)}? Yes or no."
            self._pending = _Pending(skill, arguments, question, self._clock())
            return question
        return await self._execute(skill, arguments, context)

    async def _answer(self, pending: _Pending, line: str, context: SkillContext) -> str:
        said = normalise(line)
        if pending.fill:
            self._pending = None
            if _NO.match(said):
                return "Okay, never mind."
            return await self.call((pending.skill, {**pending.arguments, pending.fill: line.strip()}), context)
        if _YES.match(said):
            self._pending = None
            return await self._execute(pending.skill, pending.arguments, context)
        if _NO.match(said):
            self._pending = None
            return "Okay, I won't."
        return "I need a clear yes or no. " + pending.question

    async def _execute(self, skill: Skill, arguments: dict[str, object], context: SkillContext) -> str:
        context = dataclasses.replace(context, skills=self.router.skills, undo=self._undo)
        try:
            done: Done = await asyncio.wait_for(skill.run(context, **arguments), self.timeout_s)
        except TimeoutError:
            return f"Sorry, that took too long ({skill.name} gave no answer in {self.timeout_s:g} s); nothing is done."
        except OS1Error as exc:
            return f"Sorry, I couldn't do that: {exc.message}"
        except Exception as exc:  # a plugin's bug is a reply, not a dead conversation
            return f"Sorry, something went wrong in {skill.name}: {type(exc).__name__}."
        if skill.name == "undo":
            self._undo = None
        elif skill.effect != "reads":
            self._undo = done.undo
        return done.text
