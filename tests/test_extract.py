"""Deterministic memory extractors (pure)."""

from __future__ import annotations

from datetime import datetime

from os1.memory.extract import extract, third_person

AT = datetime(2023, 5, 8, 13, 56).astimezone()


def texts(sentence: str) -> list[str]:
    return [item.text for item in extract(sentence, "Theodore", AT)]


def test_people_and_relations() -> None:
    assert texts("My friend Amy is visiting.") == ["Amy is Theodore's friend."]
    assert texts("Catherine is my sister.") == ["Catherine is Theodore's sister."]


def test_facts_that_can_change() -> None:
    (home,) = extract("I just moved to San Francisco!", "Theodore", AT)
    assert (home.attribute, home.value) == ("home", "San Francisco")
    assert texts("I work at Google now.") == ["Theodore works at Google."]
    assert "Theodore's favourite colour is blue." in texts("My favourite colour is blue and I love hiking.")


def test_likes_vocabulary_events_and_plans() -> None:
    assert "Theodore loves hiking in the mountains." in texts("I love hiking in the mountains.")
    assert texts("Leaving Peak now. Peak is my gym.") == ["Peak is Theodore's gym."]
    assert texts("I went to a support group yesterday.") == [
        "Theodore went to a support group yesterday (on 7 May 2023)."]
    plans = [i for i in extract("I'm going to Paris next week.", "Theodore", AT) if i.kind == "plan"]
    assert plans and "planned for the week of 15 May 2023" in plans[0].text


def test_nothing_from_small_talk_or_junk() -> None:
    assert texts("hello there") == []
    assert texts("\x00\x01 ''' AND ( NEAR") == []
    assert third_person("I think my cat likes me", "Ana") == "Ana think Ana's cat likes Ana"
