"""Timers and alarms: "set a timer for ten minutes", "wake me at 7", "what alarms do I have?", "cancel my alarm".

Each is a row in the user's store, durable before the OS answers, so it survives a restart; it goes off on
whatever surface the user has open (`Companion.rings`: the page, the terminal), once, even with several open,
and one that fell due while OS1 was off goes off at the next start, saying when it was due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from os1.errors import InputError
from os1.memory.store import Timer
from os1.skills.base import Done, Skill, SkillContext
from os1.skills.when import when


def _clock(at: datetime) -> str:
    return f"{at.hour % 12 or 12}:{at.minute:02d} {'am' if at.hour < 12 else 'pm'}"


def _day(at: datetime, now: datetime) -> str:
    if at.date() == now.date():
        return "today"
    if at.date() == (now + timedelta(days=1)).date():
        return "tomorrow"
    return f"on {at:%A}, {at.day} {at:%B}"


def _length(delta: timedelta, *, rough: bool = False) -> str:
    """'1 hour and 30 minutes'; `rough`: to the nearest minute from two minutes on (as said aloud)."""
    seconds = round(delta.total_seconds())
    if rough and seconds >= 120:
        seconds = round(seconds / 60) * 60
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((hours, "hour"), (minutes, "minute"),
                                                                   (seconds, "second")) if n]
    return " and ".join(parts) or "no time"


def describe(timer: Timer, now: datetime) -> str:
    """'a timer for 10 minutes (tea), 4 minutes left' / 'an alarm at 7:00 am tomorrow'."""
    due = timer.due_at.astimezone(now.tzinfo)
    label = f" ({timer.label})" if timer.label else ""
    if timer.kind == "timer":
        return f"a timer for {_length(timer.due_at - timer.created_at)}{label}, {_length(due - now, rough=True)} left"
    return f"an alarm at {_clock(due)} {_day(due, now)}{label}"


def ringing(timer: Timer, now: datetime) -> str:
    """What the OS says when it goes off (late, if OS1 was not running then)."""
    due = timer.due_at.astimezone(now.tzinfo)
    label = f": {timer.label}" if timer.label else ""
    what = (f"Your timer for {_length(timer.due_at - timer.created_at)} is done{label}." if timer.kind == "timer"
            else f"It's {_clock(due)}: your alarm{label}.")
    if now - due > timedelta(minutes=1):
        what += f" (It was due at {_clock(due)} {_day(due, now)}; I wasn't running then.)"
    return what


async def _set(context: SkillContext, kind: Literal["timer", "alarm"], moment: str, label: str) -> Done:
    now = context.at.astimezone()
    try:
        due = when(moment, now)
    except InputError as exc:
        return Done(exc.message)
    store = context.store
    timer_id = store.add_timer(kind, due, label.strip(), now)
    added = next(t for t in store.timers() if t.id == timer_id)

    def undo() -> str:
        store.remove_timers([timer_id])
        return f"Okay, I cancelled {describe(added, now).split(',')[0]}."

    if kind == "timer":
        said = f"Timer set for {_length(due - now)}{f' ({label.strip()})' if label.strip() else ''}."
    else:
        said = f"Alarm set for {_clock(due)} {_day(due, now)}{f' ({label.strip()})' if label.strip() else ''}."
    return Done(said, undo)


async def set_timer(context: SkillContext, duration: str, label: str = "") -> Done:
    """Start a timer."""
    return await _set(context, "timer", duration, label)


async def set_alarm(context: SkillContext, time: str, label: str = "") -> Done:
    """Set an alarm."""
    return await _set(context, "alarm", time, label)


async def show_timers(context: SkillContext) -> Done:
    """Say which timers and alarms are set."""
    now = context.at.astimezone()
    pending = context.store.timers()
    if not pending:
        return Done("You have no timers or alarms set.")
    return Done("You have " + "; ".join(describe(t, now) for t in pending) + ".")


async def _cancel(context: SkillContext, kind: str, which: str) -> Done:
    """Cancel the user's timers or alarms (`kind`): all of them, or the one at the time `which` names."""
    now, store = context.at.astimezone(), context.store
    pending = store.timers()
    chosen = [t for t in pending if t.kind == kind]
    moment = which.lower().replace("all", "").strip()
    if moment and chosen:
        try:
            due = when(moment, now)
        except InputError as exc:
            return Done(exc.message)
        chosen = [t for t in chosen if _clock(t.due_at.astimezone(now.tzinfo)) == _clock(due)]
    if not chosen:
        return Done(f"There's no such {kind} set." if pending else "You have no timers or alarms set.")
    store.remove_timers([t.id for t in chosen])

    def undo() -> str:
        for t in chosen:
            store.add_timer("alarm" if t.kind == "alarm" else "timer", t.due_at, t.label, t.created_at)
        return "Okay, " + ("it's" if len(chosen) == 1 else "they're") + " set again."

    return Done("Cancelled " + "; ".join(describe(t, now).split(",")[0] for t in chosen) + ".", undo)


async def cancel_timers(context: SkillContext, which: str = "") -> Done:
    """Cancel timers."""
    return await _cancel(context, "timer", which)


async def cancel_alarms(context: SkillContext, which: str = "") -> Done:
    """Cancel alarms."""
    return await _cancel(context, "alarm", which)


TIME_WORDS = ("timer", "timers", "alarm", "alarms", "wake", "countdown")
_TAIL = "[please|for me|thanks|thank you]"
_STOP = "(cancel|stop|delete|remove|turn off|disable|clear|unset|switch off|get rid of|forget)"

SKILLS = (
    Skill("timer_set", "Set timers.", set_timer, (
        f"* (set|start|make|create|put on) [a|an|the|me a] (timer|countdown) for {{duration}} {_TAIL}",
        f"* (set|start|make|create) [a|an] {{duration}} (timer|countdown) {_TAIL}",
        f"* (timer|countdown) for {{duration}} {_TAIL}",
        f"* (set|start) [a|an|the] (timer|countdown) for {{duration}} (for|called|named) [the|my] {{label}} {_TAIL}",
        f"* (remind|tell|alert) me in {{duration}} (to|that|about) {{label}} {_TAIL}",
    ), "changes", TIME_WORDS, (("duration", "For how long?"),)),
    Skill("alarm_set", "Set alarms and wake you up.", set_alarm, (
        f"* (set|make|create|add|put|schedule|fix) [me] [an|a|my|the] (alarm|wake up call) (for|at|to) {{time}} "
        f"{_TAIL}",
        f"* (set|make|create|add|schedule) [an|a] {{time}} alarm {_TAIL}",
        f"* (wake|get) me up (at|by|for) {{time}} {_TAIL}",
        f"* (wake|get) me (at|by|for) {{time}} {_TAIL}",
        f"* (wake|get) me up in {{time}} {_TAIL}",
        f"* alarm (for|at) {{time}} {_TAIL}",
        f"* i (want|need|have) to (wake|get) up at {{time}} {_TAIL}",
    ), "changes", TIME_WORDS, (("time", "For what time?"),)),
    Skill("timers_show", "Tell you which timers and alarms are set.", show_timers, (
        "* what (timers|alarms|timers and alarms|alarms and timers) [do] i have *",
        "* what (timers|alarms) are [currently] set *",
        "* (show|list|check|tell me|read) [me] [all] [of] [my|the] (timers|alarms|timer|alarm) *",
        "* (do i have|are there|is there) (any|an) (timers|alarms|timer|alarm) *",
        "* how (long|much time) [is] left on [my|the] timer *",
        "* how long until [my|the] (timer|alarm) *",
    ), "reads", TIME_WORDS),
    Skill("timers_cancel", "Cancel timers and alarms.", cancel_timers, (
        f"* {_STOP} [all] [of] [my|the] (timer|timers|countdown) {_TAIL}",
    ), "changes", TIME_WORDS),
    Skill("alarms_cancel", "Cancel timers and alarms.", cancel_alarms, (
        f"* {_STOP} [all] [of] [my|the] (alarm|alarms|wake up call|wake up calls) {_TAIL}",
        f"* {_STOP} [all] [of] [my|the] {{which}} (alarm|alarms|wake up call) {_TAIL}",
        f"* {_STOP} [all] [of] [my|the] (alarm|alarms) (for|at|of) {{which}} {_TAIL}",
    ), "changes", TIME_WORDS),
)
