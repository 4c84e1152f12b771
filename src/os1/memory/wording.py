"""Memory items in natural words: a first-person sentence retold in the third person. Pure.

"I told my therapist about my dad" becomes "Theodore told their therapist about their dad": the speaker's name
once, then the singular "they" (OS1 does not know the user's pronouns), so an item never reads "Theodore told
Theodore's therapist". The verb after the name agrees with it ("I think" → "Theodore thinks").
"""

from __future__ import annotations

import re

MODALS = frozenset("can could will would shall should may might must ought".split())
IRREGULAR_PAST = frozenset("""
was were had did got saw made took came gave found left told felt thought bought brought met ran sat said knew
began became kept lost paid sent spent won wrote drove ate drank slept woke swam sang fell forgot heard held hurt
let put quit read rode set shut stood taught understood wore broke chose caught built flew grew hid hung led lent
meant sold shot threw spoke stole fought dealt dug fed forgave froze hit lay lit rang rose sank shook slid split
spun spread stuck swore swept swung tore upset wept cut cost bet beat bit blew bent bled burst crept dreamt learnt
burnt leapt knelt went used
""".split())
BASE_ENDING_ED = frozenset("need feed bleed breed proceed succeed exceed speed heed weed shred wed embed shed".split())
ADVERBS = frozenset("""
really just finally still also always never often usually sometimes now recently actually totally honestly
already even only truly definitely probably barely hardly rarely seriously absolutely
""".split())
NOT_VERBS = frozenset("and or but too alone myself personally who that as in at on to for with from not".split())
_CONTRACTIONS = {"'m": ("is", "are"), "'ve": ("has", "'ve"), "'d": ("would", "'d"), "'ll": ("will", "'ll")}
_SELF = re.compile(r"\b(?:I(?:'m|'ve|'d|'ll|’m|’ve|’d|’ll)?|[Mm]y|[Mm]ine|[Mm]yself|[Mm]e)\b")
_WORD = re.compile(r"\s*([A-Za-z’']+)")


def third_person(sentence: str, name: str) -> str:
    """ "I moved to Paris with my sister" → "Ana moved to Paris with their sister"."""
    # "my brother and I are…" → "I and my brother are…": the name leads, and the plural verb still agrees.
    sentence = re.sub(r"\b[Mm]y ([\w' -]{1,30}?) and I\b(?!')", r"I and my \1", sentence)
    out: list[str] = []
    pos = 0
    named = False
    for match in _SELF.finditer(sentence):
        out.append(sentence[pos:match.start()])
        word = match.group(0).replace("’", "'")
        pos = match.end()
        if not named:
            replacement, pos = _first(word, name, sentence, pos)
            named = True
        else:
            replacement = _later(word)
        out.append(replacement)
    out.append(sentence[pos:])
    return "".join(out)


def _first(word: str, name: str, sentence: str, pos: int) -> tuple[str, int]:
    """The first self-reference: the name, with the verb after it made to agree; returns where to go on."""
    lower = word.lower()
    if lower in ("my", "mine"):
        return f"{name}'s", pos
    if lower in ("me", "myself"):
        return name, pos
    if word != "I":
        return f"{name} {_CONTRACTIONS[word[1:]][0]}", pos
    return _agree(name, sentence, pos)


def _later(word: str) -> str:
    """A later self-reference, as the singular they."""
    lower = word.lower()
    if lower in ("my", "mine"):
        return "their" if lower == "my" else "theirs"
    if lower == "me":
        return "them"
    if lower == "myself":
        return "themself"
    if word == "I":
        return "they"
    suffix = word[1:]
    return "they're" if suffix == "'m" else f"they{suffix}"


def _agree(name: str, sentence: str, pos: int) -> tuple[str, int]:
    """ "I am" → "Ana is", "I really miss" → "Ana really misses": the verb after the name, in the third person."""
    words: list[str] = []
    at = pos
    while (match := _WORD.match(sentence, at)) is not None:
        token = match.group(1)
        lower = token.lower()
        if lower in ADVERBS and token == lower:
            words.append(match.group(0))
            at = match.end()
            continue
        verb = _third_person_verb(token)
        if verb is None:
            break
        return name + "".join(words) + match.group(0)[: match.start(1) - match.start()] + verb, match.end()
    return name, pos


def _third_person_verb(token: str) -> str | None:
    """The third-person present of a verb after "I" (am → is, do → does, miss → misses), or None to leave it."""
    lower = token.lower()
    if token != lower or not lower.replace("'", "").isalpha():
        return None
    fixed = {"am": "is", "have": "has", "do": "does", "don't": "doesn't", "haven't": "hasn't", "go": "goes"}
    if lower in fixed:
        return fixed[lower]
    if lower in MODALS or lower in IRREGULAR_PAST or lower in NOT_VERBS or "'" in lower:
        return None
    if lower.endswith("ed") and lower not in BASE_ENDING_ED:
        return None
    if re.search(r"(?:s|sh|ch|x|z|o)$", lower):
        return lower + "es"
    if re.search(r"[^aeiou]y$", lower):
        return lower[:-1] + "ies"
    return lower + "s"
