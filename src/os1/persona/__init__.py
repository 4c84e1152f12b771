"""The OS's self: its prompts (package data), its first boot, and the name it chooses."""

from os1.persona.naming import NameChoice, choose_name
from os1.persona.onboarding import Onboarding, Question

__all__ = ["NameChoice", "Onboarding", "Question", "choose_name"]
