"""Time words in queries and sentences (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from os1.memory.timeparse import describe, parse_anchor, parse_range, resolve_mentions, said_date

NOW = datetime(2026, 5, 13, 15, 0).astimezone()  # a Wednesday


def test_relative_phrases() -> None:
    week = parse_range("what did I do last week?", NOW)
    assert week is not None and describe(week.start) == "4 May 2026" and describe(week.end) == "11 May 2026"
    yesterday = parse_range("yesterday", NOW)
    assert yesterday is not None and yesterday.contains(datetime(2026, 5, 12, 20, 0).astimezone())
    ago = parse_range("three days ago", NOW)
    assert ago is not None and ago.contains(datetime(2026, 5, 10, 12, 0).astimezone())
    assert parse_range("a couple of weeks ago", NOW) is not None
    assert parse_range("tell me a story", NOW) is None


def test_named_months_weekdays_and_years() -> None:
    may = parse_range("what happened in May?", NOW)
    assert may is not None and describe(may.start) == "1 May 2026"
    june = parse_range("in June", NOW)  # June has not come yet this year: last June
    assert june is not None and june.start.year == 2025
    friday = parse_range("on Friday", NOW)
    assert friday is not None and describe(friday.start) == "8 May 2026"
    year = parse_range("in 2024", NOW)
    assert year is not None and year.start.year == 2024 and year.end.year == 2025


def test_anchors_and_mentions() -> None:
    anchor = parse_anchor("where did I live before the move?")
    assert anchor is not None and (anchor.direction, anchor.event) == ("before", "the move")
    assert parse_anchor("since my wedding") is not None
    assert parse_anchor("I like cake") is None
    assert resolve_mentions("I went there yesterday", NOW) == "12 May 2026"
    assert resolve_mentions("I'm flying next week", NOW) == "the week of 18 May 2026"


def said(text: str) -> str | None:
    found = said_date(text, NOW)
    return found.words if found else None


@pytest.mark.parametrize(("text", "expected"), [
    ("my nephew's recital is June 3rd", "3 June 2026"),
    ("the recital is on the 3rd of June", "3 June 2026"),
    ("it's on 3 June", "3 June 2026"),
    ("the wedding is June 3rd, 2027", "3 June 2027"),
    ("my birthday was June 3rd", "3 June 2025"),
    ("my nephew's recital is on Thursday", "14 May 2026"),
    ("I went to the dentist on Thursday", "7 May 2026"),
    ("we're moving next week", "the week of 18 May 2026"),
    ("the party is tomorrow", "14 May 2026"),
    ("the day after tomorrow we fly", "15 May 2026"),
    ("I start the new job in two weeks", "27 May 2026"),
    ("my appointment is on the 12th", "12 June 2026"),
    ("I paid the rent on the 12th", "12 May 2026"),
    ("see you next Friday", "22 May 2026"),
    ("this Friday is the gig", "15 May 2026"),
    ("we're away this weekend", "the weekend of 16 May 2026"),
    ("we went camping last weekend", "the weekend of 9 May 2026"),
    ("the results come in 3 days", "16 May 2026"),
    ("I sent it two days ago", "11 May 2026"),
    ("we're going to Lisbon in July", "July 2026"),
    ("I was in Lisbon in July", "July 2025"),
    ("we'll paint the house this summer", "summer 2026"),
    ("it's on 2026-09-01", "1 September 2026"),
])
def test_dates_said_in_any_common_phrasing(text: str, expected: str) -> None:
    assert said(text) == expected


@pytest.mark.parametrize("text", ["I like Thursdays", "may I ask you something", "I have 3 cats",
                                  "the 3 of us went", "march on, soldier", "tell me a story"])
def test_no_date_where_none_is_said(text: str) -> None:
    assert said(text) is None


def test_a_said_date_has_a_span() -> None:
    week = said_date("we're moving next week", NOW)
    assert week is not None and (week.start.isoformat(), week.end.isoformat()) == ("2026-05-18", "2026-05-24")
    assert week.iso() == "2026-05-18/2026-05-24"
    day = said_date("the party is tomorrow", NOW)
    assert day is not None and day.iso() == "2026-05-14" and day.future
