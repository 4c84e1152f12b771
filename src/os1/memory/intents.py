"""Things said to the OS about its memory: "what do you remember about Amy?", "forget what I told you about X"."""

from __future__ import annotations

import re

_ABOUT = re.compile(r"^(?:so,?\s+)?(?:what|tell me what|how much)\s+do\s+you\s+(?:still\s+)?(?:remember|know|recall)\s+"
                    r"about\s+(.{1,80}?)\s*[?.!]*$", re.IGNORECASE)
_FORGET = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?forget\s+(?:what\s+i\s+(?:told|said to)\s+you\s+about|"
                     r"everything\s+(?:i\s+(?:told|said to)\s+you\s+)?about|all\s+about|about)\s+(.{1,80}?)"
                     r"(?:,?\s+please)?\s*[?.!]*$", re.IGNORECASE)


def asks_about(text: str) -> str | None:
    """The topic of "what do you remember about X?", or None."""
    match = _ABOUT.match(text.strip())
    return match.group(1).strip() if match else None


def asks_to_forget(text: str) -> str | None:
    """The topic of "forget what I told you about X", or None."""
    match = _FORGET.match(text.strip())
    return match.group(1).strip() if match else None
