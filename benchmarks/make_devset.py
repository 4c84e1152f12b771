"""A second development set for memory recall, of another kind than LoCoMo: a person's long chats with an assistant.

    .venv/bin/python benchmarks/make_devset.py [--out PATH] [--seed 1] [--people 8]

LoCoMo is two friends chatting, each turn short, every turn a person's. Here each conversation is one person and
their assistant over most of a year: the assistant's turns are long and chatty (they echo the person's words,
give advice, mention other places and people, and now and then misremember), most of the talk is everyday help
(recipes, emails, trips, explanations), and the person's life comes out in passing, in many phrasings: facts
that change (a gym, a job, a city, a partner, a car… said again later in other words), events with dates said
every common way ("yesterday", "on Saturday", "June 3rd", "in two weeks"), relatives, likes.

Questions, asked after the last session, in LoCoMo's JSON format (`qa`: question, answer, evidence dia_ids,
category): 1 multi-hop (two turns), 2 temporal ("when did I…", evidence the turn that dates it), 4 single-hop
(a fact said once), 6 knowledge-update (a fact that changed: the question asks the current value, the evidence
is the latest statement). Questions are asked in other words than the statements where people would.
Each conversation's `assistant` names the assistant's speaker (its turns are the OS's own words). Written with a
fixed seed: the same command always writes the same file. Never derived from LoCoMo's or anyone's test data.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _devset_text import (
    CLOSERS,
    EVENTS,
    INVENTIONS,
    OPENERS,
    PEOPLE,
    SLOTS,
    SMALL_TALK,
    TASKS,
    TIPS,
    Event,
    Slot,
)

DEFAULT_OUT = Path(__file__).parent / "data" / "assistant-life.json"


@dataclass
class Life:
    """One person's year with their assistant, being written."""

    rng: random.Random
    user: str
    assistant: str
    start: datetime
    sessions: list[tuple[datetime, list[dict[str, str]]]] = field(default_factory=list)
    qa: list[dict[str, object]] = field(default_factory=list)

    def say(self, speaker: str, text: str) -> str:
        """Add a turn to the current session; returns its dia_id."""
        number = len(self.sessions)
        turns = self.sessions[-1][1]
        dia = f"D{number}:{len(turns) + 1}"
        turns.append({"speaker": speaker, "dia_id": dia, "text": text})
        return dia

    def exchange(self, text: str, topic: str, echo: str = "", *, alternatives: list[str] | None = None) -> str:
        """The person says `text`; the assistant answers at length. Returns the person's dia_id."""
        dia = self.say(self.user, text)
        self.say(self.assistant, self.reply(topic, echo, alternatives or []))
        return dia

    def reply(self, topic: str, echo: str, alternatives: list[str]) -> str:
        """A long, chatty assistant turn: an opener, the person's words echoed, advice, maybe other names and a
        misremembered detail, a question back."""
        rng = self.rng
        parts = [rng.choice(OPENERS)]
        if echo:
            parts.append(rng.choice(ECHOES).format(echo=echo))
        parts += rng.sample(TIPS[topic], k=min(len(TIPS[topic]), rng.randint(3, 6)))
        if rng.random() < 0.7:  # and then, as assistants do, a list
            steps = rng.sample(GENERIC, k=rng.randint(3, 6))
            parts.append(rng.choice(LIST_INTROS) + " " + " ".join(f"{n}. {step}" for n, step in enumerate(steps, 1)))
        if rng.random() < 0.6:
            parts += rng.sample(TIPS["small"], k=2)
        if alternatives and rng.random() < 0.5:
            parts.append(rng.choice(ALTERNATIVES).format(other=rng.choice(alternatives)))
        if rng.random() < 0.15:
            parts.append(rng.choice(INVENTIONS))
        parts.append(rng.choice(CLOSERS))
        return " ".join(parts)

    def when(self) -> datetime:
        return self.sessions[-1][0]


LIST_INTROS = ["Here's how I'd think about it:", "A few things that might help:", "If it were me, I'd try this:",
               "Some ideas, in no particular order:", "Let me break it down a little:"]
GENERIC = ["Start small, so it's easy to keep going on a bad day.", "Write it down somewhere you'll actually see it.",
           "Give yourself a deadline, but a kind one.", "Ask someone you trust what they'd do.",
           "Notice what already works and do more of that.", "Try it for two weeks before you judge it.",
           "Keep a little buffer of time and money for surprises.",
           "Check in with how you feel, not just what you did.",
           "Celebrate the small wins, they add up.", "If something feels off, it's okay to change course.",
           "Sleep on big decisions when you can.", "Make the first step so small it feels silly.",
           "Put it in your calendar like any other appointment.", "Tell a friend, so someone can cheer you on.",
           "Take a break before you're exhausted, not after.", "Compare with your past self, not with other people.",
           "Keep the important things visible and the rest out of the way.", "Plan the hard part for your best hour.",
           "Leave some room for fun in the plan.", "Remember why you started when it gets boring."]
ECHOES = ["So {echo}, that's a real change.", "I love that {echo}.", "It sounds like {echo}, and that matters.",
          "Okay, so {echo}. Thanks for telling me.", "Hearing that {echo} makes me happy for you.",
          "Wow, {echo}! That's not nothing.", "Right, {echo}. I'll keep that in mind."]
ALTERNATIVES = ["Some people swear by {other}, too.", "I've heard good things about {other} as well.",
                "A friend of a friend type recommendation would be {other}, if you ever want to compare.",
                "Out of curiosity, have you ever looked at {other}?",
                "{other} comes up a lot when people talk about this."]
STALE_USER = ["I walked past {old} today, strange not to go in.", "Saw an ad for {old} and felt nostalgic.",
              "A friend asked me about {old}, I told her it's a long story.",
              "Do you remember when {old} was my thing?"]
STALE_ASSISTANT = ["By the way, how are things with {old}?", "Is this still the {old} situation you mentioned?",
                   "Last time you said {old} was going well, right?"]


def stamp(at: datetime) -> str:
    """LoCoMo's session date: "1:56 pm on 8 May, 2023"."""
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'am' if at.hour < 12 else 'pm'} on {at.day} {at.strftime('%B')}, {at.year}"


def words(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def plan_sessions(rng: random.Random, start: datetime, count: int) -> list[datetime]:
    """Session times over most of a year: every few days, at varied hours."""
    times, at = [], start
    for _ in range(count):
        at += timedelta(days=rng.randint(4, 13), hours=rng.randint(-3, 3), minutes=rng.randint(0, 59))
        times.append(at.replace(hour=rng.randint(7, 22)))
    return times


def fill(life: Life, exchanges: int) -> None:
    """Everyday talk: help with tasks, small talk."""
    rng = life.rng
    for _ in range(exchanges):
        if rng.random() < 0.25:
            line, topic = rng.choice(SMALL_TALK)
            life.exchange(line, topic)
            continue
        task = rng.choice(TASKS)
        values = {key: rng.choice(pool) for key, pool in task.fill.items()}
        life.exchange(rng.choice(task.asks).format(**values), task.topic)


def state_fact(life: Life, slot: Slot, value: str, old: str | None) -> str:
    """The person says a fact in passing (or that it changed, in other words)."""
    rng = life.rng
    template = rng.choice(slot.say if old is None else slot.change)
    text = template.format(v=value, old=old)
    lead = rng.choice(["", "", "Quick update: ", "Oh, by the way, ", "Random, but ", "So, ", "Anyway, "])
    if lead:
        keep = template.startswith(("{", "I ", "I'"))
        text = lead + (text if keep else text[0].lower() + text[1:])
    others = [v for v in slot.values if v not in (value, old)]
    return life.exchange(text, slot.topic, rng.choice(slot.echo).format(v=value), alternatives=others)


def say_event(life: Life, event: Event, detail: str) -> tuple[str, date, bool]:
    """The person mentions a dated event, the date said one of the common ways; returns its dia_id, the day
    and whether it is still to come."""
    rng = life.rng
    today = life.when().date()
    future = rng.random() < 0.4 and bool(event.future)
    phrasings = FUTURE_DATES if future else PAST_DATES
    label, offset = rng.choice(phrasings)
    day = _resolve(label, offset, today)
    template = rng.choice(event.future if future else event.past)
    said = label.format(md=f"{day.strftime('%B')} {_ordinal(day.day)}", dm=f"the {_ordinal(day.day)} of "
                        f"{day.strftime('%B')}", wd=day.strftime("%A"), nth=_ordinal(day.day))
    text = template.format(when=said, x=detail)
    text = text[0].upper() + text[1:]
    dia = life.exchange(text, event.topic, event.echo, alternatives=[d for d in event.details if d and d != detail])
    return dia, day, future


PAST_DATES = [("yesterday", -1), ("last {wd}", "lastwd"), ("on {wd}", "lastwd"), ("two weeks ago", -14),
              ("three days ago", -3), ("last weekend", "lastweekend"), ("on {md}", "recent"), ("on {dm}", "recent"),
              ("earlier this week", "thisweek")]
FUTURE_DATES = [("tomorrow", 1), ("next {wd}", "nextwd"), ("this {wd}", "thiswd"), ("in two weeks", 14),
                ("on {md}", "soon"), ("on {dm}", "soon"), ("on the {nth}", "soonday"), ("in three days", 3)]


def _resolve(label: str, offset: int | str, today: date) -> date:
    """The day a date phrase of PAST_DATES / FUTURE_DATES stands for, said on `today`."""
    monday = today - timedelta(days=today.weekday())
    if isinstance(offset, int):
        return today + timedelta(days=offset)
    table = {"lastwd": today - timedelta(days=(today.weekday() - 2) % 7 or 7),  # a Wednesday before today
             "lastweekend": monday - timedelta(days=2), "recent": today - timedelta(days=9),
             "thisweek": monday if today.weekday() > 1 else monday - timedelta(days=7),
             "nextwd": monday + timedelta(days=7 + 3), "thiswd": today + timedelta(days=(4 - today.weekday()) % 7 or 7),
             "soon": today + timedelta(days=17), "soonday": _next_day_of_month(today)}
    day = table[offset]
    if offset == "thiswd" and day - monday > timedelta(days=6):
        return day  # "this Friday" said at the weekend: the coming one
    return day


def _next_day_of_month(today: date) -> date:
    """A day of the month ahead, within about three weeks, that "on the Nth" names without ambiguity."""
    later = today + timedelta(days=12)
    return later if later.day > 1 else later + timedelta(days=1)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def question(life: Life, text: str, answer: str, evidence: list[str], category: int) -> None:
    life.qa.append({"question": text, "answer": answer, "evidence": evidence, "category": category})


def write_life(rng: random.Random, user: str, assistant: str, start: datetime, sessions: int) -> Life:
    life = Life(rng, user, assistant, start)
    times = plan_sessions(rng, start, sessions)
    slots = rng.sample(SLOTS, k=min(len(SLOTS), 12))
    events = [(e, rng.choice(e.details)) for e in rng.sample(EVENTS, k=min(len(EVENTS), 9))]
    repeats = [e for e, _ in events if len(e.details) > 1]  # the same kind of event again, another detail
    for event in rng.sample(repeats, k=min(len(repeats), 3)):
        events.append((event, rng.choice([d for d in event.details if (event, d) not in events])))
    relatives = rng.sample(PEOPLE, k=2)
    # What is said when: facts early, changes later, events throughout, relatives (for multi-hop) apart.
    agenda: dict[int, list[tuple[str, object]]] = {i: [] for i in range(sessions)}
    for slot in slots:
        first = rng.randrange(0, sessions // 2)
        agenda[first].append(("fact", (slot, 0)))
        changes = rng.choice([0, 0, 1, 1, 2]) if slot.change else 0
        at = first
        for n in range(1, changes + 1):
            at = rng.randrange(at + 2, min(sessions, at + 2 + sessions // 3)) if at + 2 < sessions else -1
            if at < 0:
                break
            agenda[at].append(("fact", (slot, n)))
    for event in events:
        agenda[rng.randrange(1, sessions)].append(("event", event))
    for person in relatives:
        job_at = rng.randrange(0, sessions // 2)
        agenda[job_at].append(("job", person))
        agenda[rng.randrange(job_at + 1, sessions)].append(("city", person))
    values: dict[str, list[str]] = {s.name: rng.sample(s.values, k=3) for s in slots}
    latest: dict[str, tuple[str, str]] = {}
    changed: set[str] = set()
    relative_facts: dict[str, dict[str, tuple[str, str]]] = {}
    stale: list[tuple[str, str]] = []  # old values, mentioned again later by the person or (wrongly) the assistant
    for i, at in enumerate(times):
        life.sessions.append((at, []))
        life.exchange(rng.choice(GREETINGS).format(name=assistant), "small")
        if stale and rng.random() < 0.3:
            old, topic = rng.choice(stale)
            if rng.random() < 0.5:
                life.exchange(rng.choice(STALE_USER).format(old=old), topic)
            else:
                life.exchange(rng.choice(SMALL_TALK)[0], "small")
                life.sessions[-1][1][-1]["text"] += " " + rng.choice(STALE_ASSISTANT).format(old=old)
        plan = agenda[i]
        rng.shuffle(plan)
        fill(life, rng.randint(2, 4))
        for what, detail in plan:
            if what == "fact":
                slot, n = detail  # type: ignore[misc]
                value = values[slot.name][n]
                dia = state_fact(life, slot, value, values[slot.name][n - 1] if n else None)
                latest[slot.name] = (dia, value)
                if n:
                    changed.add(slot.name)
                    stale.append((values[slot.name][n - 1], slot.topic))
            elif what == "event":
                event, x = detail  # type: ignore[misc]
                dia, day, future = say_event(life, event, x)
                ask = rng.choice(event.ask_future if future else event.ask_past).format(x=x)
                question(life, ask, words(day), [dia], 2)
            else:
                person = detail  # type: ignore[assignment]
                info = relative_facts.setdefault(person.name, {})
                if what == "job":
                    text = rng.choice(RELATIVE_JOB).format(rel=person.relation, name=person.name, job=person.job)
                    info["job"] = (life.exchange(text, "family", f"{person.name} is a {person.job}"), person.job)
                else:
                    text = rng.choice(RELATIVE_CITY).format(rel=person.relation, name=person.name, city=person.city,
                                                            pron=person.pronoun)
                    info["city"] = (life.exchange(text, "family", f"{person.name} is in {person.city}"), person.city)
            fill(life, rng.randint(1, 3))
        fill(life, rng.randint(1, 3))
    for slot in slots:
        if slot.name in latest:
            dia, value = latest[slot.name]
            question(life, rng.choice(slot.ask), value, [dia], 6 if slot.name in changed else 4)
    for person in relatives:
        info = relative_facts.get(person.name, {})
        if "job" in info and "city" in info:
            question(life, rng.choice(RELATIVE_ASK).format(rel=person.relation, job=person.job), person.city,
                     [info["job"][0], info["city"][0]], 1)
    return life


GREETINGS = ["Hey {name}, good morning.", "Hi {name}! Got a minute?", "Evening, {name}.", "Hello again.",
             "Hey, it's me. Long day.", "Morning! Coffee's brewing.", "Hi {name}, I need your help with something.",
             "Back again, {name}.", "Hey there.", "Okay {name}, I'm procrastinating, talk to me."]
RELATIVE_JOB = ["My {rel} {name} just started working as a {job}.", "{name}, my {rel}, has been a {job} for years.",
                "Did I ever tell you my {rel} {name} is a {job}?", "My {rel} {name} works as a {job}, long shifts."]
RELATIVE_CITY = ["{name} called, {pron} finally moved to {city}.", "My {rel} {name} lives in {city} now.",
                 "{name} is settled in {city}, {pron} loves it there.", "Visited {name} in {city} last month."]
RELATIVE_ASK = ["Where does my {rel} who works as a {job} live?", "Which city is my {job} {rel} in these days?",
                "My {rel} the {job}: what city are they in?"]


def to_locomo(life: Life, sample_id: str) -> dict[str, object]:
    conversation: dict[str, object] = {"speaker_a": life.user, "speaker_b": life.assistant,
                                       "assistant": life.assistant}
    for i, (at, turns) in enumerate(life.sessions, start=1):
        conversation[f"session_{i}_date_time"] = stamp(at)
        conversation[f"session_{i}"] = turns
    return {"sample_id": sample_id, "conversation": conversation, "qa": life.qa}


NAMES = [("Maya", "Nova"), ("Daniel", "Sage"), ("Priya", "Juniper"), ("Tom", "Iris"), ("Lena", "Orion"),
         ("Marcus", "Wren"), ("Aiko", "Ember"), ("Sofia", "Atlas"), ("Jonah", "Lumen"), ("Farah", "Vesper")]


def make(seed: int, people: int, sessions: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(people):
        user, assistant = NAMES[i % len(NAMES)]
        start = datetime(2024, 1, 8, 9) + timedelta(days=rng.randint(0, 60))
        out.append(to_locomo(write_life(rng, user, assistant, start, sessions), f"assistant-life-{i}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--sessions", type=int, default=36)
    args = parser.parse_args()
    data = make(args.seed, args.people, args.sessions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    turns = sum(len(v) for s in data for k, v in s["conversation"].items()  # type: ignore[attr-defined]
                if k.startswith("session_") and not k.endswith("date_time"))
    questions = [q for s in data for q in s["qa"]]  # type: ignore[attr-defined]
    kinds = {c: sum(q["category"] == c for q in questions) for c in (1, 2, 4, 6)}
    print(f"wrote {args.out}: {len(data)} conversations, {turns} turns, {len(questions)} questions {kinds}")


if __name__ == "__main__":
    main()
