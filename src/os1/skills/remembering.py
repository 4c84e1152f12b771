"""The OS's name and memory as skills: "I'll call you Juniper", "what do you remember about Amy?", "forget what I
told you about Catherine".

A new name `changes` the profile (undo gives the old one back). Recalling `reads`. Forgetting deletes for real,
everywhere (`memory/forget.py`), and cannot be undone: it `acts`, so it runs only once the user has said yes to
"Shall I forget everything you told me about …?"; the question and the request go with the rest of what
mentions the topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from os1.errors import InputError
from os1.memory.timeparse import describe
from os1.persona.onboarding import messages
from os1.skills.base import Done, Skill, SkillContext

if TYPE_CHECKING:
    from os1.memory.store import UserStore

_NAME = re.compile(r"^[A-Za-z][\w'-]{0,30}$")
_NOT_NAMES = frozenset({"later", "back", "tomorrow", "tonight", "today", "now", "again", "soon", "sometime",
                        "anytime", "sometimes", "often", "maybe", "please", "there", "here", "it", "that", "this"})
"""Words after "can I call you" that are not a name ("can I call you later?")."""


def rename(store: UserStore, new_name: str) -> str:
    """Give the OS a new name; what it says about it."""
    new_name = new_name.strip()[:40]
    if not new_name:
        raise InputError("A name can't be empty.")
    new_name = new_name[:1].upper() + new_name[1:]
    store.set("os.name", new_name)
    store.set("os.name_reason", "my name was given to me by " + (store.get("user.name") or "you"))
    return messages()["renamed"].format(new_name=new_name)


def _is_name(slots: Mapping[str, str]) -> bool:
    name = slots.get("name", "")
    return bool(_NAME.match(name)) and name.lower() not in _NOT_NAMES


async def take_name(context: SkillContext, name: str) -> Done:
    """Take the name the user gives the OS."""
    store = context.store
    before = (store.get("os.name"), store.get("os.name_reason"))
    said = rename(store, name)

    def undo() -> str:
        store.set("os.name", before[0])
        store.set("os.name_reason", before[1])
        return f"Okay, I'm {before[0]} again."
    return Done(said, undo)


async def recall_about(context: SkillContext, topic: str) -> Done:
    """Say what the OS remembers about someone or something, from its memory rather than the model."""
    if context.memory is None:
        return Done("I keep no memories in this conversation.")
    own = context.store.get("os.name")
    found = [r for r in await context.memory.recall(topic, k=12, at=context.at, distinct=False)
             if topic.lower() in r.text.lower() and r.speaker != own][:6]
    if not found:
        return Done(f"I don't remember anything about {topic} yet. Tell me?")
    lines = [r.text if r.kind != "turn" else f"On {describe(r.at)}, {r.speaker or 'you'} said: “{r.text}”"
             for r in found]
    return Done(f"Here's what I remember about {topic}:\n" + "\n".join(f"- {line}" for line in lines))


async def forget_topic(context: SkillContext, topic: str) -> Done:
    """Forget everything the user told the OS about someone or something, everywhere it was kept."""
    from os1.memory.forget import forget

    if context.memory is None:
        return Done("I keep no memories in this conversation, so there is nothing to forget.")
    report = forget(context.memory, topic)
    return Done("Done. I've forgotten it, everywhere I kept it." if report.total
                else "I didn't have anything about that to forget.")


_POLITE = "[please|can you|could you|would you]"
SKILLS = (
    Skill("rename", "Take a new name if you give me one.", take_name, (
        "[from now on] i (will|want to|would like to) call you {name} [from now on]",
        "[from now on] i am going to call you {name} [from now on]",
        "your [new] name is [now] {name}", "can i call you {name}",
        "[please] call yourself {name} [from now on]", "i am (renaming|naming) you {name}",
    ), "changes", fits=_is_name),
    Skill("memory_about", "Tell you what I remember about someone or something.", recall_about, (
        "[so] (what|tell me what|how much) do you [still] (remember|know|recall) about {topic}",
    )),
    Skill("forget", "Forget what you told me about someone or something, for good.", forget_topic, (
        f"{_POLITE} forget what i (told|said to) you about {{topic}} [please]",
        f"{_POLITE} forget everything [i told you|i said to you|you know] about {{topic}} [please]",
        f"{_POLITE} forget (all about|about) {{topic}} [please]",
    ), "acts", confirm="Shall I forget everything you told me about {topic}, everywhere I kept it? "
                       "It can't be undone. Yes or no."),
)
