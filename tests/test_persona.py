"""First boot: questions in order, answers checked, a name chosen from the shipped list and explained."""

from __future__ import annotations

import random

import pytest

from os1.errors import InputError
from os1.persona import Onboarding, choose_name
from os1.persona.data import toml
from os1.persona.naming import mother_impression, social_impression
from os1.persona.onboarding import normalise_name, normalise_voice, questions

ANSWERS = {"user.name": "Theodore", "user.social": "social", "user.mother": "we talk on Sundays",
           "user.voice": "female"}


def test_questions_come_in_the_documented_order() -> None:
    assert [q.key for q in questions()] == ["user.name", "user.social", "user.mother", "user.voice"]
    state = Onboarding({})
    for question in questions():
        assert state.next_question() == question
        state.answer(question, ANSWERS[question.key])
    assert state.next_question() is None


def test_answers_are_checked() -> None:
    state = Onboarding({})
    name_q = state.next_question()
    assert name_q is not None
    with pytest.raises(InputError):
        state.answer(name_q, "   ")
    assert normalise_name("call me theodore.") == "Theodore"
    assert normalise_voice("A female voice, please") == "female"
    assert normalise_voice("male") == "male"
    assert normalise_voice("I don't care") == "either"
    with pytest.raises(InputError, match="female, male"):
        normalise_voice("purple")


def test_impressions() -> None:
    assert social_impression("social") == "social"
    assert social_impression("anti-social") == "antisocial"
    assert social_impression("I guess I'm not that social lately") == "antisocial"
    assert mother_impression("we talk on Sundays") == "warm"
    assert mother_impression("it's complicated") == "hard"
    assert mother_impression("hmm") == "neutral"


def test_the_name_comes_from_the_list_fits_the_voice_and_is_explained() -> None:
    names = {n["name"]: n for n in toml("names.toml")["name"]}
    for seed in range(30):
        choice = choose_name(ANSWERS, random.Random(seed))
        assert choice.name in names
        assert names[choice.name]["voice"] in ("female", "either")
        assert choice.name in choice.reason and ("social" in choice.reason or "people" in choice.reason)


def test_the_choice_varies_between_installs() -> None:
    chosen = {choose_name(ANSWERS, random.Random(seed)).name for seed in range(40)}
    assert len(chosen) >= 3
    male = {choose_name({**ANSWERS, "user.voice": "male"}, random.Random(s)).name for s in range(40)}
    assert not male & {n["name"] for n in toml("names.toml")["name"] if n["voice"] == "female"}


def test_the_second_half_of_the_reason_is_not_one_template() -> None:
    """Why the OS chose its name, after the name itself: worded differently from one install to the next, and
    drawn from what this user said."""
    halves = set()
    for seed in range(40):
        choice = choose_name(ANSWERS, random.Random(seed))
        opening_end = choice.reason.index(":")  # "… {name} was the one I liked best: {meaning}. <second half>"
        halves.add(choice.reason[choice.reason.index(". ", opening_end) + 2:])
    assert len(halves) >= 6, halves
    assert len({h.split()[0] for h in halves}) >= 3  # not every one begins "Also,"
    assert any("Sundays" in h for h in halves)  # the user's own words, quoted when short
    for seed in range(20):
        hard = choose_name({**ANSWERS, "user.social": "anti-social", "user.mother": "it's complicated"},
                           random.Random(seed)).reason
        assert "you're social" not in hard and "warmth" not in hard and "fond" not in hard
    long = "we used to be close but then she moved across the country and now we barely speak"
    assert all("barely speak" not in choose_name({**ANSWERS, "user.mother": long}, random.Random(s)).reason
               for s in range(30))  # a long answer is not recited
