"""Render the persona's prompts from package data with what the OS knows of the user."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from os1.persona.data import text


def system_prompt(profile: Mapping[str, str]) -> str:
    """The fixed part of the context: who the OS is and who the user is (changes rarely)."""
    user = profile.get("user.name", "your user")
    persona = " ".join(text("system.md").splitlines())
    parts = [persona.format(os_name=profile.get("os.name", "OS1"), user_name=user)]
    if profile.get("user.social") or profile.get("user.mother"):
        parts.append(text("profile.md").format(
            user_name=user, social=profile.get("user.social", "(not said)"),
            mother=profile.get("user.mother", "(not said)")))
    return "\n\n".join(parts)


def context_note(at: datetime, memories: list[str]) -> str:
    """The changing part, placed after the history so the fixed prefix stays cached."""
    note = text("context.md").format(date=at.strftime("%A %d %B %Y, %H:%M"))
    if memories:
        note += "\nThings you remember that may matter now:\n" + "\n".join(f"- {m}" for m in memories)
    return note
