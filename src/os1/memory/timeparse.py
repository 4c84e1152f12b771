"""Understand time in what people say: "last week", "in May", "3 days ago", "before the move". Pure functions.

Two readers: `parse_range` reads a question (its time words point back: "on Friday" is the last one), and
`said_date` a statement ("my recital is June 3rd", "I went on Thursday"), whose tense says which way they point.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from os1.memory.wording import IRREGULAR_PAST

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


def describe(at: datetime | date) -> str:
    """A date as people write it: 7 May 2023."""
    return f"{at.day} {calendar.month_name[at.month]} {at.year}"


def resolve_mentions(text: str, at: datetime) -> str | None:
    """The calendar date a sentence's own time words point at ("yesterday" said on 8 May → 7 May 2023)."""
    found = said_date(text, at)
    return found.words if found else None


@dataclass(frozen=True, slots=True)
class When:
    """The day (or span of days) a statement says something happens on, resolved against when it was said."""

    start: date
    end: date
    """The last day, inclusive."""
    words: str
    """As people write it: "3 June 2026", "the week of 18 May 2026", "July 2026", "summer 2026"."""
    future: bool
    """Whether it lies after the day it was said."""

    def iso(self) -> str:
        """"2026-06-03", or "2026-05-18/2026-05-24" for a span."""
        return self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()}/{self.end.isoformat()}"


def iso_span(value: str) -> tuple[date, date] | None:
    """The days `When.iso` wrote, or None for anything else."""
    try:
        first, _, last = value.partition("/")
        return date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        return None


_FULL_MONTH = "|".join(name.lower() for name in calendar.month_name if name)
_WEEKDAY = "|".join(WEEKDAYS)
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_YR = r"(?:,?\s+((?:19|20)\d\d))?"
_NUM = r"(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 14)}
_FUTURE = re.compile(r"\b(?:will|won't|shall|going to|gonna|plan(?:s|ning)?\s+to|about to|can't wait|looking forward|"
                     r"coming up|upcoming|scheduled|booked|tomorrow|next|soon|hop(?:e|ing) to|want to|need to|"
                     r"ha(?:ve|s) to)\b|'ll\b")
_PAST_WORDS = "|".join(sorted(IRREGULAR_PAST | {"ago", "last", "yesterday", "used to"}))
_PAST = re.compile(rf"\b(?:{_PAST_WORDS}|[a-z]{{3,}}ed)\b")
_PRESENT = re.compile(r"\b(?:is|are|am|have|has|it's|that's|he's|she's|there's|what's)\b|'re\b|'m\b")


def _tense(text: str) -> str:
    """`future`, `past`, or `` (neither said): which way a statement's bare dates point."""
    if _FUTURE.search(text):
        return "future"
    if _PAST.search(text):
        return "past"
    return "future" if _PRESENT.search(text) else ""


def _pick(options: list[date], today: date, tense: str) -> date:
    """The occurrence of a date without its year (or month) that the tense points at; else the nearest."""
    if tense == "past":
        earlier = [d for d in options if d <= today]
        if earlier:
            return max(earlier)
    elif tense == "future":
        later = [d for d in options if d >= today]
        if later:
            return min(later)
    return min(options, key=lambda d: abs((d - today).days))


def _on(d: date, today: date) -> When:
    return When(d, d, describe(d), d > today)


def _span(start: date, end: date, words: str, today: date) -> When:
    return When(start, end, words, start > today)


def _on_day(text: str, today: date, tense: str) -> When | None:
    """Dates with a day: "2026-06-03", "June 3rd", "the 3rd of June", "on the 12th"."""
    if iso := re.search(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b", text):
        found = _safe(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if found:
            return _on(found, today)
    for rx, day_group, month_group in ((rf"\b(?:the\s+)?{_ORD}\s+(?:of\s+)?({_MONTH_RE})\b\.?{_YR}", 1, 2),
                                       (rf"\b({_MONTH_RE})\.?\s+(?:the\s+)?{_ORD}\b(?!:){_YR}", 2, 1)):
        if match := re.search(rx, text):
            day, month = int(match.group(day_group)), MONTHS[match.group(month_group)]
            years = [int(match.group(3))] if match.group(3) else [today.year - 1, today.year, today.year + 1]
            options = [d for y in years if (d := _safe(y, month, day))]
            if options:
                return _on(_pick(options, today, tense), today)
    if match := re.search(r"\b(?:on|by|until|till|before|after|from|for|since)\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b",
                          text):
        months = [(today.year + (today.month + k - 1) // 12, (today.month + k - 1) % 12 + 1) for k in (-1, 0, 1)]
        options = [d for y, m in months if (d := _safe(y, m, int(match.group(1))))]
        if options:
            return _on(_pick(options, today, tense), today)
    return None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _near_days(text: str, today: date, tense: str) -> When | None:
    """"tomorrow", "the day after tomorrow", "on Thursday", "next Friday", "in two weeks", "three days ago"."""
    offsets = (("the day after tomorrow", 2), ("the day before yesterday", -2), ("tomorrow", 1), ("yesterday", -1),
               ("last night", -1), ("tonight", 0), ("today", 0), ("this morning", 0), ("this afternoon", 0),
               ("this evening", 0))
    for phrase, days in offsets:
        if re.search(rf"\b{phrase}\b", text):
            return _on(today + timedelta(days=days), today)
    if match := re.search(rf"\b(?:(this|next|last|coming|on)\s+)?({_WEEKDAY})\b(?!s)", text):
        wanted, which = WEEKDAYS[match.group(2)], match.group(1)
        monday = today - timedelta(days=today.weekday())
        ahead = today + timedelta(days=(wanted - today.weekday()) % 7)
        behind = today - timedelta(days=(today.weekday() - wanted) % 7)
        picked = {"next": monday + timedelta(days=7 + wanted), "last": behind - timedelta(days=7 * (behind == today)),
                  "coming": ahead + timedelta(days=7 * (ahead == today)),
                  "this": max(monday + timedelta(days=wanted), ahead)}.get(which or "")
        return _on(picked or _pick([behind, ahead], today, tense), today)
    step = rf"{_NUM}\s+(day|week|month|year)s?"
    for rx, sign in ((rf"\bin\s+(?:about\s+|around\s+|another\s+)?{step}\b", 1),
                     (rf"\b{step}\s+from\s+(?:now|today)\b", 1), (rf"\b{step}\s+ago\b", -1)):
        if match := re.search(rx, text):
            return _on(today + sign * timedelta(days=_count(match.group(1)) * UNITS[match.group(2)]), today)
    if match := re.search(r"\b(?:in\s+a\s+fortnight|a\s+fortnight\s+ago)\b", text):
        return _on(today + timedelta(days=-14 if "ago" in match.group(0) else 14), today)
    return None


def _weeks_and_months(text: str, today: date, tense: str) -> When | None:
    """"this weekend", "next week", "last month", "next year", "in July", "this summer", "in 2027"."""
    monday = today - timedelta(days=today.weekday())
    if match := re.search(r"\b(this|next|last|over the|the)\s+weekend\b", text):
        shift = {"next": 7, "last": -7}.get(match.group(1), 0)
        if match.group(1) in ("the", "over the") and tense == "past" and today.weekday() < 5:
            shift = -7
        saturday = monday + timedelta(days=5 + shift)
        return _span(saturday, saturday + timedelta(days=1), f"the weekend of {describe(saturday)}", today)
    if match := re.search(r"\b(this|next|last)\s+(week|month|year)\b", text):
        shift = {"this": 0, "next": 1, "last": -1}[match.group(1)]
        if match.group(2) == "week":
            start = monday + timedelta(days=7 * shift)
            return _span(start, start + timedelta(days=6), f"the week of {describe(start)}", today)
        if match.group(2) == "month":
            year, month = today.year + (today.month + shift - 1) // 12, (today.month + shift - 1) % 12 + 1
            return _month(year, month, today)
        year = today.year + shift
        return _span(date(year, 1, 1), date(year, 12, 31), str(year), today)
    if match := re.search(rf"\b(in|this|next|last|during|by|early|late|mid|since)[\s-]+({_FULL_MONTH})\b{_YR}", text):
        month = MONTHS[match.group(2)]
        if match.group(3):
            return _month(int(match.group(3)), month, today)
        options = [date(y, month, 1) for y in (today.year - 1, today.year, today.year + 1)]
        this_month = today.replace(day=1)
        which = match.group(1)
        if which == "next":
            start = min(d for d in options if d > this_month)
        elif which == "last":
            start = max(d for d in options if d < this_month)
        elif which == "this":
            start = date(today.year, month, 1)
        else:
            start = _pick(options, this_month, tense)
        return _month(start.year, start.month, today)
    if match := re.search(rf"\b(this|next|last|in the|in|over the|during the)\s+({'|'.join(_SEASONS)})\b{_YR}", text):
        first, last = _SEASONS[match.group(2)]
        year = int(match.group(3)) if match.group(3) else today.year + {"next": 1, "last": -1}.get(match.group(1), 0)
        start, end = date(year, first, 1), _month_end(year, last)
        return _span(start, end, f"{match.group(2)} {year}", today)
    if match := re.search(r"\b(?:in|during|by|since)\s+((?:19|20)\d\d)\b", text):
        year = int(match.group(1))
        return _span(date(year, 1, 1), date(year, 12, 31), str(year), today)
    return None


def _month_end(year: int, month: int) -> date:
    """The last day of a month (past 12 runs into the next year)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def _month(year: int, month: int, today: date) -> When:
    return _span(date(year, month, 1), _month_end(year, month), f"{calendar.month_name[month]} {year}", today)


_CLAUSE = re.compile(r",(?!\s*(?:19|20)\d\d\b)|[;:!?]|\s(?:and|but|so|because|though)\s")


def said_date(text: str, at: datetime) -> When | None:
    """The date a statement said at `at` puts something on ("my recital is June 3rd" → 3 June), or None.
    A bare date points the way of its own clause's tense ("the recital is June 3rd, I promised to go")."""
    lowered = text.lower().replace("’", "'")
    today, overall = at.date(), _tense(lowered)
    for clause in _CLAUSE.split(lowered):
        tense = _tense(clause) or overall
        for reader in (_on_day, _near_days, _weeks_and_months):
            found = reader(clause, today, tense)
            if found is not None:
                return found
    return None
