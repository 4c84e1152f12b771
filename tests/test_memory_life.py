"""Memory that holds, through a scripted life: changed facts however they are said, the OS's own words kept but
never taken for the user's, dates that come back near the day, and recall that returns only what is relevant."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from os1.companion import Companion
from os1.memory import UserStore
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder
from os1.memory.forget import forget
from os1.testing import FakeLLM

DAY1 = datetime(2026, 3, 2, 19, 30).astimezone()  # a Monday
FIRST_BOOT = ("Theodore", "social", "fine", "female")


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=1)


@pytest.fixture
def memory(store: UserStore, embedder: MiniLMEmbedder) -> Iterator[Memory]:
    mem = Memory(store, embedder=embedder)
    yield mem
    mem.close()


def said(memory: Memory, text: str, at: datetime = DAY1) -> int:
    return memory.remember(text, speaker="Theodore", at=at)


async def booted(store: UserStore, memory: Memory, fake: FakeLLM) -> Companion:
    companion = Companion(store, fake, memory=memory)
    for answer in FIRST_BOOT:
        [e async for e in companion.say(answer, at=DAY1)]
    return companion


def note(fake: FakeLLM) -> list[str]:
    """The memory lines of the note the model was given last."""
    return [line[2:] for line in fake.calls[-1][-2].content.splitlines() if line.startswith("- ")]


CHANGES = [
    # (first said, said weeks later, question, the value now, the old value)
    ("I train at the Y most mornings.", "I quit the Y, I lift at Crunch now.", "where do I work out these days?",
     "Crunch", "the Y"),
    ("I work at Google, on the maps team.", "Big news: I started a new job at Stripe!", "where am I working now?",
     "Stripe", "Google"),
    ("I'm based in Lisbon these days.", "We relocated to Porto, the flat is lovely.", "which city do I live in?",
     "Porto", "Lisbon"),
    ("My favourite band is Low.", "My favorite band these days is Big Thief.", "what's my favourite band?",
     "Big Thief", "Low"),
    ("My favourite film is Her.", "My favourite movie is Arrival now.", "which film do I love most?",
     "Arrival", "Her"),  # found by the embedder: film and movie are one attribute
    ("My girlfriend Amy teaches piano.", "I broke up with Amy. My girlfriend Bea is a painter.",
     "who am I dating?", "Bea", "Amy"),
]


@pytest.mark.parametrize(("first", "then", "question", "new", "old"), CHANGES)
async def test_a_changed_fact_is_recognised_however_it_is_said(memory: Memory, first: str, then: str, question: str,
                                                                 new: str, old: str) -> None:
    said(memory, first, DAY1)
    said(memory, then, DAY1 + timedelta(days=30))
    await memory.flush()
    facts = [i for i in memory.items() if i.kind in ("fact", "person")]
    olds = [i for i in facts if old.lower() in i.text.lower() and new.lower() not in i.text.lower()]
    news = [i for i in facts if new.lower() in i.text.lower()]
    assert olds and all(i.valid_until == DAY1 + timedelta(days=30) for i in olds), facts
    assert news and any(i.valid_until is None for i in news), facts
    found = await memory.recall(question, k=5, at=DAY1 + timedelta(days=31))
    assert new in found[0].render(), [r.render() for r in found]
    for r in found:
        if old in r.text and new not in r.text:
            assert "no longer true" in r.render()


async def test_different_facts_of_one_person_stay_current(memory: Memory) -> None:
    said(memory, "My favourite colour is green. I work at the bakery on Elm Street.", DAY1)
    said(memory, "My favourite food is ramen. I train at Crunch.", DAY1 + timedelta(days=3))
    said(memory, "My sister Ana lives in Rome.", DAY1 + timedelta(days=4))
    await memory.flush()
    assert all(i.valid_until is None for i in memory.items()), [(i.text, i.valid_until) for i in memory.items()]


async def test_the_os_own_words_are_kept_but_never_taken_for_the_users(store: UserStore, memory: Memory) -> None:
    inventions = ["Good luck at your office at 42 Elm Street! I'll bring coffee at nine, as we planned.",
                  "Your office on Elm Street has such a lovely view of the park.",
                  "Remember we planned the office party at the Elm Street office for Friday?",
                  "I booked us a table near your Elm Street office, like we planned."]
    fake = FakeLLM(inventions)
    companion = await booted(store, memory, fake)
    companion.start_session(DAY1)
    for line in ("I have a big meeting at the office tomorrow.", "My office is on Harbour Road, by the fish market.",
                 "The office was busy today.", "Lunch near the office again."):
        [e async for e in companion.say(line, at=DAY1)]
    for day in range(1, 46):  # weeks of other talk: the office turns leave the history the model sees
        companion.start_session(DAY1 + timedelta(days=day))
        fake.enqueue("Mm-hm.")
        [e async for e in companion.say(f"Cooked dinner and read a bit, day {day}.", at=DAY1 + timedelta(days=day))]
    await memory.flush()
    assert [t.text for t in store.recent_turns(200) if t.text in inventions] == inventions  # kept verbatim
    assert all("Elm" not in i.text for i in memory.items())  # never a fact about the user
    found = await memory.recall("where is my office?", k=10, at=DAY1 + timedelta(days=50))
    assert "Harbour Road" in found[0].text and not found[0].own, [r.render() for r in found]
    assert sum(r.own for r in found[:4]) <= 1, [r.render() for r in found]  # the user's words come first
    companion.start_session(DAY1 + timedelta(days=50))
    fake.enqueue("It's on Harbour Road.")
    [e async for e in companion.say("Where is my office again?", at=DAY1 + timedelta(days=50))]
    lines = note(fake)
    harbour = [i for i, line in enumerate(lines) if "Harbour Road" in line]
    elm = [i for i, line in enumerate(lines) if "Elm Street" in line]
    assert harbour and all(harbour[0] < i for i in elm), lines  # the user's word wins
    assert len(elm) <= 2, lines
    assert all("You said: " in line for line in lines if "Elm Street" in line), lines  # shown as the OS's own words


async def test_a_date_comes_back_near_the_day(memory: Memory) -> None:
    said(memory, "My nephew's recital is June 3rd, I promised to go.", datetime(2026, 5, 8, 9).astimezone())
    for day in range(9, 30):
        said(memory, f"Tomorrow I'll cook pasta again, that's day {day + 1} of my plan.",
             datetime(2026, 5, day, 20).astimezone())
    await memory.flush()
    [recital] = [i for i in memory.items() if "recital" in i.text]
    assert recital.kind == "plan" and recital.value == "2026-06-03" and "3 June 2026" in recital.text
    for question, at in (("anything on tomorrow?", datetime(2026, 6, 2, 18)),
                         ("what am I doing this week?", datetime(2026, 6, 1, 9)),
                         ("what do I have on June 3rd?", datetime(2026, 5, 20, 9))):
        found = await memory.recall(question, k=3, at=at.astimezone())
        assert any("recital" in r.text for r in found), (question, [r.text for r in found])


FILLER = ["I cooked {food} with {name} and we watched {show}.", "{name} called about {show}, we laughed a lot.",
          "Walked to the {place} after work, the weather was {weather}.", "Bought {food} at the {place} for dinner.",
          "{name} and I argued about {show} again.", "It was {weather} all day, I stayed near the {place}."]
WORDS = {"food": ["ramen", "tacos", "risotto", "dumplings", "curry", "soup"],
         "name": ["Paul", "Amy", "Olivia", "Charles", "Priya", "Hugo"],
         "show": ["a documentary", "the news", "a quiz show", "an old western", "a cooking show"],
         "place": ["market", "harbour", "park", "library", "station", "bakery"],
         "weather": ["rainy", "sunny", "windy", "foggy", "grey"]}


@pytest.mark.parametrize("filler", [0, 300])
async def test_recall_returns_only_what_is_relevant(store: UserStore, memory: Memory, filler: int) -> None:
    rng = random.Random(filler)
    for i in range(filler):
        line = rng.choice(FILLER).format(**{k: rng.choice(v) for k, v in WORDS.items()})
        said(memory, line, DAY1 - timedelta(days=40) + timedelta(hours=3 * i))
    fake = FakeLLM(["She sounds lovely.", "Mm.", "Mm.", "Mm."])
    companion = await booted(store, memory, fake)
    [e async for e in companion.say("My sister Catherine signed the divorce papers.", at=DAY1)]
    [e async for e in companion.say("I adopted a grey cat called Pixel.", at=DAY1)]
    await memory.flush()
    forget(memory, "Catherine")
    assert await memory.recall("Catherine") == []
    for unrelated in ("what is the boiling point of mercury on Venus?", "quantum chromodynamics lattice"):
        assert await memory.recall(unrelated) == [], [r.text for r in await memory.recall(unrelated)]
    for relevant, word in (("what's my cat called?", "Pixel"), ("Pixel", "Pixel"), ("my kitten", "Pixel")):
        found = await memory.recall(relevant)
        assert found and word in found[0].text, (relevant, [r.text for r in found])
    [e async for e in companion.say("Do you know anything about quantum chromodynamics?", at=DAY1)]
    assert note(fake) == []


async def test_a_capable_model_changes_facts_in_its_own_words(memory: Memory) -> None:
    from os1.memory.llm_extract import LLMExtractor

    memory.extractor = LLMExtractor(FakeLLM([
        '{"kind": "fact", "subject": "Theodore", "attribute": "gym", "value": "the Y", '
        '"text": "Theodore trains at the Y."}',
        '{"kind": "fact", "subject": "Theodore", "attribute": "fitness club", "value": "Crunch", '
        '"text": "Theodore lifts at Crunch."}\n'
        '{"kind": "event", "subject": "Theodore", "attribute": "", "value": "", "ended": "the Y", '
        '"text": "Theodore left the Y."}',
    ]))
    said(memory, "Mornings at the Y are my thing.", DAY1)
    said(memory, "Done with the Y. Crunch is where I lift these days.", DAY1 + timedelta(days=30))
    await memory.flush()
    by_text = {i.text: i for i in memory.items()}
    assert by_text["Theodore trains at the Y."].valid_until == DAY1 + timedelta(days=30)
    assert by_text["Theodore lifts at Crunch."].valid_until is None
    found = await memory.recall("where do I work out these days?", k=3, at=DAY1 + timedelta(days=31))
    assert "Crunch" in found[0].render()
