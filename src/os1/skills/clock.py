"""The date and time, here or in a named place: "what day is it?", "what time is it in London?"."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime

from os1.skills.base import Done, Skill, SkillContext

_ABBREVIATIONS = {"utc": "UTC", "gmt": "UTC", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
                  "pacific": "America/Los_Angeles", "est": "America/New_York", "edt": "America/New_York",
                  "eastern": "America/New_York", "cst": "America/Chicago", "cdt": "America/Chicago",
                  "central": "America/Chicago", "mst": "America/Denver", "mountain": "America/Denver",
                  "ist": "Asia/Kolkata", "india": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
                  "delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "cet": "Europe/Paris",
                  "japan": "Asia/Tokyo", "china": "Asia/Shanghai", "beijing": "Asia/Shanghai",
                  "england": "Europe/London", "uk": "Europe/London", "france": "Europe/Paris",
                  "germany": "Europe/Berlin", "spain": "Europe/Madrid", "italy": "Europe/Rome",
                  "australia": "Australia/Sydney", "washington": "America/New_York",
                  "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
                  "boston": "America/New_York", "miami": "America/New_York", "dallas": "America/Chicago",
                  "houston": "America/Chicago", "la": "America/Los_Angeles"}
_PLACE_WORDS = re.compile(r"^(?:the\s+)?|\s+(?:time(?:\s*zone)?|now|right now|today|please)$")


@functools.cache
def _zones_by_city() -> dict[str, str]:
    """'new york' → 'America/New_York', from the zones this machine knows."""
    found: dict[str, str] = {}
    for key in sorted(zoneinfo.available_timezones()):
        if "/" in key and not key.startswith(("Etc/", "SystemV/", "US/")):
            found.setdefault(key.rsplit("/", 1)[1].replace("_", " ").lower(), key)
    return found


def zone_of(place: str) -> zoneinfo.ZoneInfo | None:
    """The time zone of a city, region or abbreviation the user named, or None."""
    name = _PLACE_WORDS.sub("", place.strip().lower()).strip()
    key = _ABBREVIATIONS.get(name) or _zones_by_city().get(name)
    try:
        return zoneinfo.ZoneInfo(key) if key else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def spoken_time(at: datetime) -> str:
    """'3:05 pm on Thursday, 3 December 2026'."""
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'am' if at.hour < 12 else 'pm'} on {at:%A}, {at.day} {at:%B %Y}"


async def date_time(context: SkillContext, place: str = "") -> Done:
    """Tell the date and time, here or in a named place."""
    if not place:
        return Done(f"It's {spoken_time(context.at.astimezone())}.")
    zone = zone_of(place)
    if zone is None:
        return Done(f"I don't know the time zone of {place}. Here it's {spoken_time(context.at.astimezone())}.")
    return Done(f"In {place.title() if len(place) > 3 else place.upper()} it's "
                f"{spoken_time(context.at.astimezone(zone))}.")


_NOW = "[now|right now|please|currently|at the moment|today]"

SKILL = Skill("date_time", "Tell you the date and the time, here or anywhere.", date_time, (
    f"* what [is] [the] time is it {_NOW} {_NOW}",
    f"* what [is] [the] time is it in {{place}} {_NOW}",
    f"* what is the [current] time {_NOW} {_NOW}",
    f"* what is the [current] time in {{place}} {_NOW}",
    f"* (what|how) time [it is|is it] {_NOW}",
    f"* (tell|give|show) me the [current] time {_NOW}",
    f"* (tell|give|show) me [the] time in {{place}} {_NOW}",
    f"* (can|could) (i|you) (get|have|tell me|give me) the time {_NOW}",
    f"* (can|could) (i|you) (get|have|tell me|give me) the time in {{place}} {_NOW}",
    f"* [current] time in {{place}} {_NOW}",
    "* what does the clock say *",
    f"* what (day|date) is it {_NOW} {_NOW}",
    f"* what is [the] (today's|todays|current) (date|day) {_NOW}",
    f"* what is the (date|day) {_NOW} {_NOW}",
    f"* what is the date and [the] time {_NOW}",
    "* what [is] (today's|todays) date *",
    f"* (tell|give|show|display) [me] [the] (today's|todays|current) (date|day|time) {_NOW}",
    f"* (tell|give|show|display) [me] the (date|day|date and time|time and date) {_NOW} {_NOW}",
    "* what day of the week is it *",
    "* (time and date|date and time) [of] (today|now) *",
    "* what is the current (day|date|month|year) *",
    f"* what (year|month) is it {_NOW}",
), "reads", ("time", "date", "day", "days", "clock", "month", "year", "today", "week", "weekday", "hour",
             "tomorrow", "yesterday"))
