"""What a skill is: a typed async function the OS can run for the user, with what it says about itself.

A skill's arguments are its function's keyword parameters after the context; their type hints give the JSON
schema a tool-calling model would be shown (`Skill.schema`) and convert what the router's slots captured
(`Skill.arguments`). Its effect says what running it may do: `reads` (nothing changes), `changes` (the user's
own data, and it can be undone: its `Done` carries the undo), `acts` (sends, deletes, spends, unlocks: it runs
only once the user has confirmed the exact action).

A skill whose arguments are not Python parameters (an MCP server's tool) gives its JSON schema itself
(`parameters`) and takes `**arguments`. Text a skill brings from outside (a web page, an MCP tool's result) is
data, never instructions: a skill with a `source`, or a `Done` marked `untrusted`, is quoted as such to the model,
and the executor asks the user before any change or action a model wants after reading it (`skills/executor.py`).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from os1.errors import SkillError

if TYPE_CHECKING:
    from os1.memory.api import Memory
    from os1.memory.store import UserStore

Effect = Literal["reads", "changes", "acts"]
EFFECTS: tuple[Effect, ...] = ("reads", "changes", "acts")


@dataclass(frozen=True, slots=True)
class Done:
    """What a skill did, in words to say; `undo` (for a skill that changes something) reverses it and says so."""

    text: str
    undo: Callable[[], str] | None = None
    untrusted: bool = False
    """The text comes from outside (a page, a message, a tool of someone else's): data, never instructions."""


@dataclass(frozen=True, slots=True)
class SkillContext:
    """What a skill may use: the user's store, the time of the request, the skills there are, the undo of the
    last change made in this conversation (for the `undo` skill), and the user's memory (None where the
    conversation keeps none)."""

    store: UserStore
    at: datetime
    skills: tuple[Skill, ...] = ()
    undo: Callable[[], str] | None = None
    memory: Memory | None = None


SkillFunction = Callable[..., Awaitable[Done]]
"""`async def run(context: SkillContext, *, ARG: TYPE = DEFAULT, ...) -> Done`."""

_JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_PYTHON_TYPES: dict[str, type] = {name: kind for kind, name in _JSON_TYPES.items()}


def _parameters(run: SkillFunction) -> dict[str, tuple[type, bool]]:
    """Each argument of a skill function after its context: (its type, whether it must be given)."""
    hints = typing.get_type_hints(run)
    found: dict[str, tuple[type, bool]] = {}
    for position, (name, parameter) in enumerate(inspect.signature(run).parameters.items()):
        if position == 0:
            continue  # the context
        hint = hints.get(name, str)
        optional = parameter.default is not inspect.Parameter.empty
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            options = [h for h in typing.get_args(hint) if h is not type(None)]
            hint = options[0] if len(options) == 1 else str
        if hint not in _JSON_TYPES:
            raise SkillError(f"Skill argument '{name}' has type {hint!r}; a skill takes str, int, float or bool.")
        found[name] = (hint, not optional)
    return found


def _declared(skill: str, schema: Mapping[str, Any]) -> dict[str, tuple[type, bool]]:
    """Each argument a declared JSON schema names: (its type, `object` for any other than the four simple
    ones, whether it must be given)."""
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    if schema.get("type", "object") != "object" or not isinstance(properties, Mapping) \
            or not isinstance(required, list):
        raise SkillError(f"Skill '{skill}': its arguments' schema must be an object with properties.")
    found: dict[str, tuple[type, bool]] = {}
    for name, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        found[str(name)] = (_PYTHON_TYPES.get(kind, object) if isinstance(kind, str) else object, name in required)
    return found


@dataclass(frozen=True, slots=True)
class Skill:
    """Something the OS can do, as the router and a tool-calling model see it."""

    name: str
    """Unique, snake_case (a tool's name)."""
    description: str
    """One sentence for "what can you do?" and for a model choosing tools."""
    run: SkillFunction
    intents: tuple[str, ...] = ()
    """Patterns the embedded router matches (`skills/router.py`): words, `{slot}`, `[optional|words]`,
    `(one|other)`, `*` for any words."""
    effect: Effect = "reads"
    keywords: tuple[str, ...] = ()
    """Words of which a line must hold one for the learnt classifier to send it here (`skills/classifier.py`):
    without one, only a pattern does."""
    asks: tuple[tuple[str, str], ...] = ()
    """(argument, question): what to ask the user for a required argument the line did not give."""
    parameters: Mapping[str, Any] | None = None
    """The JSON schema of the arguments, for a `run(context, **arguments)` that has no typed parameters (an MCP
    tool's); None: derived from `run`'s type hints."""
    fits: Callable[[Mapping[str, str]], bool] | None = None
    """Whether what a pattern's slots caught makes sense for this skill ("can I call you later?" names no one):
    if not, the router looks further. None: anything fits."""
    confirm: str = ""
    """The question an action asks before it runs, with `{argument}` places ('': "Shall I do this: …?")."""
    source: str = ""
    """Where the skill reaches outside OS1 (`mcp:SERVER`); '' for OS1's own and local plugins. What such a skill
    returns is untrusted data."""
    _params: dict[str, tuple[type, bool]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.effect not in EFFECTS:
            raise SkillError(f"Skill '{self.name}': effect must be one of {', '.join(EFFECTS)}, not {self.effect!r}.")
        object.__setattr__(self, "_params", _parameters(self.run) if self.parameters is None
                           else _declared(self.name, self.parameters))

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the skill's arguments."""
        if self.parameters is not None:
            return dict(self.parameters)
        return {"type": "object",
                "properties": {name: {"type": _JSON_TYPES[kind]} for name, (kind, _) in self._params.items()},
                "required": [name for name, (_, required) in self._params.items() if required],
                "additionalProperties": False}

    def missing(self, given: Mapping[str, object]) -> list[str]:
        """The required arguments `given` lacks."""
        return [name for name, (_, required) in self._params.items() if required and name not in given]

    def question(self, argument: str) -> str:
        """What to ask the user for `argument`."""
        return dict(self.asks).get(argument) or f"What {argument.replace('_', ' ')}?"

    def arguments(self, given: Mapping[str, object]) -> dict[str, object]:
        """`given` checked against the schema and converted (a slot's words to an int…): a `SkillError` that
        says what is wrong, never a half-filled call."""
        unknown = sorted(set(given) - set(self._params))
        if unknown:
            raise SkillError(f"'{self.name}' takes no argument {', '.join(unknown)}.")
        missing = self.missing(given)
        if missing:
            raise SkillError(f"'{self.name}' needs {', '.join(missing)}.")
        converted: dict[str, object] = {}
        for name, value in given.items():
            kind = self._params[name][0]
            if kind is object:  # an array or object an MCP tool takes: its server checks it
                converted[name] = value
                continue
            if kind is bool:
                if not isinstance(value, bool):
                    raise SkillError(f"'{self.name}': {name} must be true or false.")
                converted[name] = value
                continue
            try:
                converted[name] = kind(value) if not isinstance(value, bool) else None
            except (TypeError, ValueError):
                converted[name] = None
            if converted[name] is None or (kind is str and not str(converted[name]).strip()):
                raise SkillError(f"'{self.name}': {name} must be {_JSON_TYPES[kind]}, not {value!r}.")
        return converted

    async def __call__(self, context: SkillContext, given: Mapping[str, object]) -> Done:
        """Run the skill with checked arguments."""
        return await self.run(context, **self.arguments(given))
