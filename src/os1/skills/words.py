"""A line's words as the skills' patterns and the classifier see them. Pure."""

from __future__ import annotations

import re

CONTRACTIONS = {"what's": "what is", "whats": "what is", "it's": "it is", "that's": "that is",
                "there's": "there is", "i'm": "i am", "i'd": "i would", "i've": "i have", "i'll": "i will",
                "you're": "you are", "what're": "what are", "can't": "cannot", "don't": "do not",
                "won't": "will not", "let's": "let us", "where's": "where is", "who's": "who is",
                "how's": "how is", "when's": "when is"}
CONTRACTION = re.compile(r"\b(" + "|".join(re.escape(k) for k in CONTRACTIONS) + r")(?=\s|$)")


def normalise(text: str) -> str:
    """A line as patterns see it: lower case, contractions spelt out, only words, digits, `'` and `:`."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[^a-z0-9':\s]+", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # quotes, not apostrophes
    text = CONTRACTION.sub(lambda m: CONTRACTIONS[m.group(1)], " ".join(text.split()))
    return " ".join(text.split())
