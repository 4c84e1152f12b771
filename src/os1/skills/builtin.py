"""OS1's own skills, registered through the `register_skills` hook exactly as a plugin's would be."""

from __future__ import annotations

from os1.plugins import RegisterSkill, hookimpl
from os1.skills import clock, lists, remembering, timers
from os1.skills.base import Done, Skill, SkillContext


async def capabilities(context: SkillContext) -> Done:
    """Say what the OS can do, from the skills there are."""
    seen: list[str] = []
    for skill in context.skills:
        if skill.name not in {"capabilities", "undo"} and skill.description not in seen:
            seen.append(skill.description)
    doing = "\n".join(f"- {line}" for line in seen)
    return Done("I'm here to talk with you, and I remember what you tell me"
                + (". I can also:\n" + doing if doing else ".")
                + "\nIf I change something for you, say \"undo that\" and I'll put it back.")


async def undo(context: SkillContext) -> Done:
    """Undo the last thing a skill changed in this conversation."""
    if context.undo is None:
        return Done("There's nothing for me to undo.")
    return Done(context.undo())


CAPABILITIES = Skill("capabilities", "Say what I can do.", capabilities, (
    "* what (can|could) you do *", "* what are you (able|capable) [of] [to do] *", "* what (else) can you do *",
    "* what (skills|abilities|features|commands) do you have *", "* how can you help [me] *",
    "help", "help me", "what do you do",
))
UNDO = Skill("undo", "Undo what I just changed.", undo, (
    "[please] undo [that|it|this|the last one|the last thing] [please]",
    "* (undo|reverse|revert) (that|it|this|what you just did|the last change) *",
    "* put it back [please]",
), "changes")


@hookimpl
def register_skills(register: RegisterSkill) -> None:
    register(clock.SKILL)
    for skill in (*remembering.SKILLS, *lists.SKILLS, *timers.SKILLS):
        register(skill)
    register(CAPABILITIES)
    register(UNDO)
