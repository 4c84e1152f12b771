"""When a timer or an alarm is for, from words: "ten minutes", "an hour and a half", "7:30 am", "seven thirty
tomorrow", "noon", "in 2 hours". Pure; numbers may be words, as people say them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from os1.errors import InputError

LONGEST = timedelta(days=30)
"""The furthest ahead a timer or an alarm may be."""

_UNITS = {"ones": 0, "zero": 0, "oh": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
          "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
          "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
          "couple": 2, "few": 3}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
            "week": 604800, "year": 31536000}
_NUMBER = re.compile(r"^(?:(?P<digits>-?\d+(?:\.\d+)?)|(?P<tens>" + "|".join(_TENS) + r")(?:[ -](?P<unit>"
                     + "|".join(k for k in _UNITS if _UNITS[k] < 10 and k not in {"a", "an", "oh", "zero"})
                     + r"))?|(?P<small>" + "|".join(_UNITS) + r"))(?: of)?$")


def number(words: str) -> float | None:
    """'7' → 7, 'twenty five' → 25, 'an' → 1, 'three hundred' → 300; None if it is not a number."""
    words = words.strip().lower()
    hundreds = re.match(r"^(\w+) hundred(?: and)?(?: (.+))?$", words)
    if hundreds:
        high, low = number(hundreds[1]), number(hundreds[2]) if hundreds[2] else 0
        return None if high is None or low is None else high * 100 + low
    found = _NUMBER.match(words)
    if found is None:
        return None
    if found["digits"]:
        return float(found["digits"])
    if found["tens"]:
        return _TENS[found["tens"]] + (_UNITS[found["unit"]] if found["unit"] else 0)
    return _UNITS[found["small"]]


_PIECE = re.compile(r"(?P<n>-?[\d.]+|[a-z]+(?: hundred(?: and)?)?(?:[ -][a-z]+)?)\s+"
                    r"(?P<unit>second|sec|minute|min|hour|hr|day|week|year)s?"
                    r"(?P<half>\s+and\s+a\s+half)?\b")


def duration(text: str) -> timedelta | None:
    """'ten minutes', '1 hour 30 minutes', 'an hour and a half', 'half an hour', '90 seconds'; None if there is
    no length of time in `text`. Negative lengths come back negative, for the caller to refuse."""
    said = text.lower().strip().removeprefix("in ").replace("half an hour", "30 minutes")
    said = re.sub(r"\bhalf a(?:n)? (minute|hour|day)", r"0.5 \1", said)
    total, found = 0.0, False
    for piece in _PIECE.finditer(said):
        words = piece["n"].split()
        amount = number(piece["n"])
        if amount is None and len(words) == 2:  # "for ten" + "minutes": the first word is not part of it
            amount = number(words[1])
        if amount is None:
            continue
        found = True
        total += (amount + (0.5 if piece["half"] else 0)) * _SECONDS[piece["unit"]]
    if re.match(r"^(?:minus|negative)\b", said):
        total = -total
    return timedelta(seconds=total) if found else None


_NOT_MINUTES = r"(?!(?:a\.?m|p\.?m|in|at|tomorrow|today|tonight)\b)"
_CLOCK = re.compile(r"^(?:at |for |by )?(?P<h>\w+?)(?:(?::|\s)" + _NOT_MINUTES + r"(?P<m>\d\d|[a-z]+"
                    r"(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?))?"
                    r"(?:\s*(?P<half>a\.?m\.?|p\.?m\.?|in the morning|in the evening|at night|tonight))?"
                    r"(?P<day>\s+(?:tomorrow|today|tonight)(?: morning| evening| night)?)?$")
_NAMED = {"noon": (12, 0), "midday": (12, 0), "mid day": (12, 0), "midnight": (0, 0)}


def clock_time(text: str, now: datetime) -> datetime | None:
    """The next moment `text` names ('7', '7:30 pm', 'seven thirty am', 'noon', '6 tomorrow'); None if it names
    none. A time without am/pm is the next one on the 12-hour clock."""
    said = re.sub(r"\s+", " ", text.lower().strip())
    tomorrow = bool(re.match(r"^tomorrow\b", said))
    said = re.sub(r"^(?:tomorrow|today)(?: morning| evening)?(?: at)? ", "", said)
    said = re.sub(r"\s*o'?clock\b", "", said)
    half_past = re.match(r"^(?:at )?half past (.+)$", said)
    if half_past:
        said = f"{half_past[1]} 30"
    hour: float | None
    minute: float | None
    named = _NAMED.get(re.sub(r"^(?:at |for |by )", "", said).removesuffix(" tomorrow"))
    marker = day = None
    if named is not None:
        hour, minute = named
        day = " tomorrow" if said.endswith("tomorrow") else None
    else:
        found = _CLOCK.match(said)
        if found is None:
            return None
        hour = number(found["h"])
        minute = number(found["m"]) if found["m"] else 0
        marker, day = found["half"], found["day"]
    if hour is None or minute is None or not (0 <= hour <= 23 and 0 <= minute <= 59) or hour != int(hour):
        return None
    h, m = int(hour), int(minute)
    evening = marker is not None and (marker.startswith("p") or marker in {"in the evening", "at night", "tonight"})
    if marker and h > 12:
        return None
    if marker and h == 12:
        h = 0 if not evening else 12
    elif evening:
        h += 12
    moment = now.replace(hour=h, minute=m, second=0, microsecond=0)
    if (day and "tomorrow" in day) or tomorrow:
        return moment + timedelta(days=1) if moment.date() == now.date() else moment
    if moment <= now and not marker and h < 12 and moment + timedelta(hours=12) > now:
        return moment + timedelta(hours=12)  # "at 7" after 7 am: 7 pm
    return moment if moment > now else moment + timedelta(days=1)


def when(text: str, now: datetime) -> datetime:
    """The moment a timer or an alarm set `now` for `text` goes off; an `InputError` that says why for what
    names no moment, one in the past, or one more than `LONGEST` away."""
    length = duration(text)
    if length is not None:
        if length <= timedelta(0):
            raise InputError("That time is already past: tell me how long from now, like \"ten minutes\".")
        moment = now + length
    else:
        found = clock_time(text, now)
        if found is None:
            raise InputError(f"I couldn't tell what time \"{text}\" is. Say it like \"ten minutes\" or \"7:30 am\".")
        moment = found
    if moment - now > LONGEST:
        raise InputError("That's too far ahead for me: timers and alarms go up to 30 days.")
    return moment
