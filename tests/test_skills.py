"""Skills (src/os1/skills): the Skill type and its schema, the embedded router, the executor's confirmation,
undo and limits, the built-in date/time, lists, notes and "what can you do?", through the companion as
`os1 chat` uses it, durable across a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from os1.companion import Companion
from os1.errors import SkillError
from os1.events import Confirm, ReplyDone, TurnStored
from os1.memory.store import Database
from os1.plugins import hookimpl
from os1.skills.base import Done, Skill, SkillContext
from os1.skills.classifier import Classifier
from os1.skills.clock import spoken_time, zone_of
from os1.skills.executor import CONFIRM_FOR_S, Executor, installed_router, installed_skills
from os1.skills.router import Router, compile_pattern, normalise

from .test_companion import ONBOARDING, collect, onboarded

AT = datetime(2026, 12, 3, 15, 5, tzinfo=UTC)


async def _nothing(context: SkillContext) -> Done:
    return Done("done")


async def _typed(context: SkillContext, minutes: int, label: str = "", loud: bool = False) -> Done:
    return Done(f"{minutes} {label} {loud}")


def test_a_skills_schema_comes_from_its_type_hints_and_arguments_are_checked() -> None:
    skill = Skill("timer", "Set a timer.", _typed, ("set a timer for {minutes} minutes",))
    assert skill.schema() == {"type": "object", "additionalProperties": False, "required": ["minutes"],
                              "properties": {"minutes": {"type": "integer"}, "label": {"type": "string"},
                                             "loud": {"type": "boolean"}}}
    assert skill.arguments({"minutes": "10"}) == {"minutes": 10}
    with pytest.raises(SkillError, match="needs minutes"):
        skill.arguments({"label": "tea"})
    with pytest.raises(SkillError, match="no argument colour"):
        skill.arguments({"minutes": 3, "colour": "red"})
    with pytest.raises(SkillError, match="minutes must be integer"):
        skill.arguments({"minutes": "ten"})
    with pytest.raises(SkillError, match="loud must be true or false"):
        skill.arguments({"minutes": 1, "loud": "yes"})
    with pytest.raises(SkillError, match="effect must be one of"):
        Skill("x", "X.", _nothing, effect="deletes")  # type: ignore[arg-type]


def test_patterns_match_whole_lines_fill_slots_and_the_most_specific_wins() -> None:
    general = Skill("general", "G.", _typed, ("* {label} for {minutes} minutes",))
    timer = Skill("timer", "T.", _typed, ("[please] set a (timer|countdown) for {minutes} minutes [please]",))
    router = Router([general, timer])
    found = router.match("Please, set a countdown for 10 minutes!")
    assert found is not None and found.skill is timer and found.slots == {"minutes": "10"}
    found = router.match("boil eggs for 7 minutes")
    assert found is not None and found.skill is general and found.slots == {"label": "boil eggs", "minutes": "7"}
    assert router.match("set a timer for minutes") is None  # a slot takes one word or more
    said = Skill("say", "S.", _typed, ("tell {label} that {minutes}",))
    found = Router([said]).match("Tell Amy that I’m late, don't wait")
    assert found is not None and found.slots == {"label": "Amy", "minutes": "I’m late, don't wait"}  # as typed
    assert router.match("") is None and router.match("?!") is None
    assert normalise("What's the TIME, “now”?") == "what is the time now"
    with pytest.raises(SkillError, match="cannot read pattern"):
        compile_pattern(general, "set a {timer")
    with pytest.raises(SkillError, match="twice"):
        compile_pattern(general, "{a} and {a}")
    with pytest.raises(SkillError, match="same name"):
        Router([general, general])


def test_the_built_in_skills_are_registered_through_the_plugin_hook() -> None:
    names = {skill.name for skill in installed_skills()}
    assert {"date_time", "list_add", "list_show", "list_remove", "note_add", "capabilities", "undo"} <= names
    router = installed_router()
    cases = {"What time is it?": ("date_time", {}), "what's the time in New York": ("date_time",
                                                                                     {"place": "New York"}),
             "add oat milk to my shopping list": ("list_add", {"item": "oat milk", "list": "shopping"}),
             "what's on my shopping list?": ("list_show", {"list": "shopping"}),
             "what can you do?": ("capabilities", {}), "undo that": ("undo", {}),
             "take a note that the plumber comes on Tuesday": ("note_add", {"note": "the plumber comes on Tuesday"})}
    for line, (name, slots) in cases.items():
        found = router.match(line)
        assert found is not None and (found.skill.name, found.slots) == (name, slots), line
    for line in ["I had a rough day at work", "what time did you say Amy called?", "my list of worries is long"]:
        assert router.match(line) is None, line


def test_the_time_anywhere() -> None:
    assert spoken_time(AT) == "3:05 pm on Thursday, 3 December 2026"
    assert str(zone_of("new york")) == "America/New_York" and str(zone_of("PST")) == "America/Los_Angeles"
    assert zone_of("narnia") is None


async def test_a_list_through_the_companion_is_durable_and_can_be_undone(settings, fake) -> None:
    db = Database(settings.db_path)
    try:
        companion = await onboarded(db.user("local"), fake)
        companion.skills = Executor(installed_router())
        calls = len(fake.calls)
        events = await collect(companion, "Add oat milk to my shopping list")
        assert isinstance(events[0], TurnStored)
        assert events[-1] == ReplyDone("I've added oat milk to your shopping list.", events[-1].turn_id, "complete")
        await collect(companion, "put bread on the list")  # "the list": the one used last
        assert (await collect(companion, "what's on my shopping list?"))[-1].text == \
            "On your shopping list: oat milk and bread."
        assert (await collect(companion, "undo that"))[-1].text == "Okay, I took bread off your shopping list again."
        assert (await collect(companion, "undo that"))[-1].text == "There's nothing for me to undo."
        assert (await collect(companion, "take milk off my grocery list"))[-1].text == \
            "I've taken oat milk off your shopping list."
        assert (await collect(companion, "undo"))[-1].text.startswith("Okay, oat milk is back")
        await collect(companion, "take a note that the plumber comes on Tuesday")
        told = (await collect(companion, "What can you do?"))[-1].text
        assert "Keep your lists" in told and "date and the time" in told
        assert len(fake.calls) == calls  # not one of these lines went to the model
        said = [t.text for t in companion.store.recent_turns(40)]
        assert "Add oat milk to my shopping list" in said and "On your shopping list: oat milk and bread." in said
    finally:
        db.close()
    db = Database(settings.db_path)  # a restart
    try:
        companion = Companion(db.user("local"), fake, skills=Executor(installed_router()))
        assert (await collect(companion, "read me my shopping list"))[-1].text == "On your shopping list: oat milk."
        assert "the plumber comes on Tuesday" in (await collect(companion, "read me my notes"))[-1].text
        assert (await collect(companion, "tell me about your day"))  # conversation still goes to the model
        assert len(fake.calls) == 1
    finally:
        db.close()


async def test_an_action_runs_only_after_a_clear_yes_and_its_question_lapses(store, fake) -> None:
    ran: list[str] = []

    async def send(context: SkillContext, to: str, text: str) -> Done:
        ran.append(f"{to}: {text}")
        return Done(f"Sent to {to}.")

    clock = [0.0]
    skill = Skill("send_message", "Send a message.", send, ("send {to} a message saying {text}",), "acts")
    companion = await onboarded(store, fake)
    companion.skills = Executor(Router([skill]), clock=lambda: clock[0])
    events = await collect(companion, "send amy a message saying I'm late")
    asked = events[-2].text
    assert asked == "Shall I do this: Send a message (to: amy; text: I'm late)? Yes or no." and not ran
    assert events[-1] == Confirm(asked)  # the page shows Yes and No
    unclear = (await collect(companion, "maybe later, what do you think?"))[-2].text
    assert unclear.startswith("I need a clear yes or no.")
    assert not ran
    assert (await collect(companion, "Yes, please."))[-1].text == "Sent to amy." and ran == ["amy: I'm late"]
    await collect(companion, "send amy a message saying hello")
    assert (await collect(companion, "n"))[-1].text == "Okay, I won't." and len(ran) == 1
    await collect(companion, "send amy a message saying hello")
    clock[0] += CONFIRM_FOR_S + 1
    calls = len(fake.calls)
    await collect(companion, "yes")  # the question lapsed: a plain "yes" is conversation
    assert len(ran) == 1 and len(fake.calls) == calls + 1


async def test_a_skill_that_fails_or_hangs_is_a_reply_and_the_conversation_goes_on(store, fake) -> None:
    async def broken(context: SkillContext) -> Done:
        raise RuntimeError("boom")

    async def hangs(context: SkillContext) -> Done:
        await asyncio.sleep(60)
        return Done("never")

    companion = await onboarded(store, fake)
    companion.skills = Executor(Router([Skill("broken", "B.", broken, ("break",)),
                                        Skill("hangs", "H.", hangs, ("hang",))]), timeout_s=0.05)
    assert (await collect(companion, "break"))[-1].text == "Sorry, something went wrong in broken: RuntimeError."
    assert "took too long" in (await collect(companion, "hang"))[-1].text
    fake.enqueue("Still here.")
    assert (await collect(companion, "are you there?"))[-1].text == "Still here."


async def test_a_plugin_registers_a_skill_as_the_built_ins_do(register_plugin: Any) -> None:
    async def coin(context: SkillContext) -> Done:
        return Done("Heads.")

    class Plugin:
        @hookimpl
        def register_skills(self, register: Any) -> None:
            register(Skill("coin_flip", "Flip a coin.", coin, ("flip a coin",)))

    register_plugin(Plugin())
    router = Router(installed_skills())
    found = router.match("flip a coin")
    assert found is not None and found.skill.name == "coin_flip"


def test_the_learnt_classifier_reads_what_no_pattern_does_and_leaves_talk_alone(tmp_path) -> None:
    router = installed_router()
    found = router.match("can you tell me what the items on my grocery list are")
    assert found is not None and (found.skill.name, found.slots, found.pattern) == ("list_show", {}, "(learnt)")
    for line in ["the time I spent with him was precious", "my list of worries is long",  # in its training talk
                 "we lost track of the days on holiday", "my shopping habits are out of control",  # never seen
                 "I keep a journal of the days I feel low", "what a strange week it has been"]:
        assert router.match(line) is None, line
    model = Classifier.train([("add milk to the list", "list_add"), ("hello there", "other"),
                              ("put eggs on my list", "list_add"), ("how are you", "other")], source="x")
    model.save(tmp_path / "m.json")
    again = Classifier.load(tmp_path / "m.json")
    assert again == model and again.best("add bread to the list")[0] == "list_add"
    assert again.best("how are you doing")[0] == "other"


async def test_a_missing_argument_is_asked_for_never_guessed(store, fake) -> None:
    companion = await onboarded(store, fake)
    companion.skills = Executor(installed_router())
    assert (await collect(companion, "please add to my list"))[-1].text == "What should I put on the list?"
    assert (await collect(companion, "Oat milk"))[-1].text == "I've added Oat milk to your shopping list."
    assert (await collect(companion, "add a new item to my list"))[-1].text == "What should I put on the list?"
    assert (await collect(companion, "no"))[-1].text == "Okay, never mind."
    assert (await collect(companion, "can you create a new list for me"))[-1].text.startswith("What should I call")
    companion.skills = Executor(Router([Skill("timer", "Set a timer.", _typed, ("set a timer",),
                                              asks=(("minutes", "For how many minutes?"),))]))
    assert (await collect(companion, "set a timer"))[-1].text == "For how many minutes?"
    assert (await collect(companion, "ten"))[-1].text.startswith("I couldn't do that: 'timer': minutes must be")
    await collect(companion, "set a timer")
    assert (await collect(companion, "5"))[-1].text == "5  False"
    await collect(companion, "set a timer")
    assert (await collect(companion, "never mind"))[-1].text == "Okay, never mind."


async def test_forgetting_someone_takes_them_off_the_lists_too(store, fake) -> None:
    from os1.memory.api import Memory

    memory = Memory(store)
    try:
        companion = Companion(store, fake, memory=memory, skills=Executor(installed_router()))
        for answer in ONBOARDING:
            await collect(companion, answer)
        await collect(companion, "add a present for Catherine to my shopping list")
        await collect(companion, "add bread to my shopping list")
        assert (await collect(companion, "forget everything about Catherine"))[-1].question.endswith("Yes or no.")
        assert (await collect(companion, "yes"))[-1].text.startswith("Done.")
        assert [text for _, text in store.list_items("shopping")] == ["bread"]
        assert (await collect(companion, "what's on my shopping list?"))[-1].text == "On your shopping list: bread."
    finally:
        memory.close()


async def test_the_readme_session_holds(store, fake) -> None:
    from os1.memory.api import Memory

    memory = Memory(store)
    companion = await onboarded(store, fake)
    companion.skills, companion.memory = Executor(installed_router()), memory
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    session = readme.split("## Things it does", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    lines = [line.split("> ", 1) for line in session.splitlines()]
    for (who, said), (_, expected) in zip(lines[::2], lines[1::2], strict=True):
        assert who == "you"
        reply = [e.text for e in await collect(companion, said) if isinstance(e, ReplyDone)][-1]
        if said.startswith("what time is it in"):
            assert reply.startswith("In Tokyo it's ") and reply.endswith(".")
        else:
            assert reply == expected, said
    assert all("plumber" not in text for _, text in store.list_items("notes"))
    memory.close()
