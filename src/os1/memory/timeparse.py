"""Understand time in what people say: "last week", "in May", "3 days ago", "before the move". Pure functions."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A span of time a query or a sentence refers to; `start` inclusive, `end` exclusive."""

    start: datetime
    end: datetime
    phrase: str
    """The words that gave it."""

    def contains(self, at: datetime) -> bool:
        """Whether `at` falls inside."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Anchor:
    """ "before the move" / "after the wedding": a time relative to an event found in memory."""

    direction: str
    """`before` or `after`."""
    event: str
    """The words naming the event ("the move")."""


def _day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_span(year: int, month: int, at: datetime) -> tuple[datetime, datetime]:
    start = at.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=year + (month == 12), month=month % 12 + 1)
    return start, end


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS.get(word, 1)


def _relative(text: str, now: datetime) -> TimeRange | None:
    """today, yesterday, last night, this/last week|month|year, recently."""
    today = _day(now)
    week_start = today - timedelta(days=today.weekday())
    simple = {
        "today": (today, today + timedelta(days=1)),
        "tonight": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "last night": (today - timedelta(days=1), today + timedelta(hours=6)),
        "tomorrow": (today + timedelta(days=1), today + timedelta(days=2)),
        "this weekend": (week_start + timedelta(days=5), week_start + timedelta(days=7)),
        "next week": (week_start + timedelta(days=7), week_start + timedelta(days=14)),
        "this week": (week_start, week_start + timedelta(days=7)),
        "last week": (week_start - timedelta(days=7), week_start),
        "recently": (today - timedelta(days=14), today + timedelta(days=1)),
        "lately": (today - timedelta(days=14), today + timedelta(days=1)),
        "this month": _month_span(now.year, now.month, now),
        "next month": _month_span(now.year + (now.month == 12), now.month % 12 + 1, now),
        "last month": _month_span(now.year - (now.month == 1), (now.month - 2) % 12 + 1, now),
        "this year": (today.replace(month=1, day=1), today.replace(year=now.year + 1, month=1, day=1)),
        "last year": (today.replace(year=now.year - 1, month=1, day=1), today.replace(month=1, day=1)),
    }
    for phrase, (start, end) in simple.items():
        if re.search(rf"\b{phrase}\b", text):
            return TimeRange(start, end, phrase)
    return None


def _ago(text: str, now: datetime) -> TimeRange | None:
    """"3 days ago", "a couple of weeks ago": the unit around that point."""
    match = re.search(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)\s+"
                      r"(day|week|month|year)s?\s+ago\b", text)
    if not match:
        return None
    days = _count(match.group(1)) * UNITS[match.group(2)]
    width = UNITS[match.group(2)]
    centre = _day(now) - timedelta(days=days)
    return TimeRange(centre - timedelta(days=width / 2), centre + timedelta(days=width / 2 + 1), match.group(0))


def _named(text: str, now: datetime) -> TimeRange | None:
    """"in May", "in May 2023", "on Friday", "in 2022"."""
    month = re.search(rf"\b(?:in|during|on|since|of)\s+({_MONTH_RE})\b\.?(?:\s+(\d{{4}}))?", text)
    if month:
        number = MONTHS[month.group(1)]
        year = int(month.group(2)) if month.group(2) else (now.year if number <= now.month else now.year - 1)
        start, end = _month_span(year, number, now)
        return TimeRange(start, end, month.group(0))
    weekday = re.search(r"\b(?:on|last)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", text)
    if weekday:
        back = (now.weekday() - WEEKDAYS[weekday.group(1)]) % 7 or 7
        start = _day(now) - timedelta(days=back)
        return TimeRange(start, start + timedelta(days=1), weekday.group(0))
    in_year = re.search(r"\b(?:in|during|since)\s+((?:19|20)\d{2})\b", text)
    if in_year:
        start = _day(now).replace(year=int(in_year.group(1)), month=1, day=1)
        return TimeRange(start, start.replace(year=start.year + 1), in_year.group(0))
    return None


def parse_range(text: str, now: datetime) -> TimeRange | None:
    """The span of time `text` talks about, relative to `now`, or None."""
    lowered = text.lower()
    return _relative(lowered, now) or _ago(lowered, now) or _named(lowered, now)


def parse_anchor(text: str) -> Anchor | None:
    """"before the move" → Anchor('before', 'the move')."""
    match = re.search(r"\b(before|after|since)\s+((?:the|my|our|his|her|their)\s+[\w' -]{2,40}?)(?=[?.!,]|$)",
                      text.lower())
    if not match:
        return None
    return Anchor("after" if match.group(1) == "since" else match.group(1), match.group(2).strip())


def describe(at: datetime) -> str:
    """A date as people write it: 7 May 2023."""
    return f"{at.day} {calendar.month_name[at.month]} {at.year}"


def resolve_mentions(text: str, at: datetime) -> str | None:
    """The calendar date a sentence's own relative time words point at ("yesterday" said on 8 May → 7 May 2023)."""
    span = parse_range(text, at)
    if span is None:
        return None
    if span.end - span.start <= timedelta(days=1, hours=7):
        return describe(span.start)
    if span.end - span.start <= timedelta(days=8):
        return f"the week of {describe(span.start)}"
    return f"{calendar.month_name[span.start.month]} {span.start.year}" if span.end - span.start <= timedelta(days=31) \
        else None
