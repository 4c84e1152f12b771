"""Time words in queries and sentences (pure)."""

from __future__ import annotations

from datetime import datetime

from os1.memory.timeparse import describe, parse_anchor, parse_range, resolve_mentions

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
