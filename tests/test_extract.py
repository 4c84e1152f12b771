"""Deterministic memory extractors (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

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


def test_items_read_as_natural_words() -> None:
    # The name once, then "they": never "Theodore finalised Theodore's divorce".
    assert third_person("I finalised my divorce", "Theodore") == "Theodore finalised their divorce"
    assert third_person("I think my cat likes me", "Ana") == "Ana thinks their cat likes them"
    assert third_person("I'm taking my mum to Rome and I've booked it myself", "Ana") == \
        "Ana is taking their mum to Rome and they've booked it themself"
    assert third_person("My sister says I worry too much", "Ana") == "Ana's sister says they worry too much"
    assert third_person("I really miss my dad", "Ana") == "Ana really misses their dad"
    assert third_person("I have to go, I do", "Ana") == "Ana has to go, they do"
    assert third_person("My brother and I are going to Rome with my mum", "Ana") == \
        "Ana and their brother are going to Rome with their mum"
    assert third_person("Amy called me", "Ana") == "Amy called Ana"
    for sentence in ("I finalised my divorce last week.", "My brother and I are going to Rome with my mum next week.",
                     "I told my therapist about my dad yesterday."):
        for text in texts(sentence):
            assert text.count("Theodore") == 1, text


@pytest.mark.parametrize(("sentence", "kind", "value"), [
    ("My nephew's recital is June 3rd.", "plan", "2023-06-03"),
    ("The recital for my nephew is on the 3rd of June.", "plan", "2023-06-03"),
    ("Amy's birthday party is on Thursday.", "plan", "2023-05-11"),
    ("We fly out on Thursday!", "plan", "2023-05-11"),
    ("I start the new job in two weeks.", "plan", "2023-05-22"),
    ("Our anniversary is on the 12th.", "plan", "2023-05-12"),
    ("Next week my sister visits.", "plan", "2023-05-15/2023-05-21"),
    ("I went to the dentist on Thursday.", "event", "2023-05-04"),
    ("We got married on 3 June 2019.", "event", "2019-06-03"),
])
def test_dated_items_in_any_common_phrasing(sentence: str, kind: str, value: str) -> None:
    dated = [i for i in extract(sentence, "Theodore", AT) if i.kind in ("plan", "event")]
    assert [(i.kind, i.value) for i in dated] == [(kind, value)], sentence
    assert dated[0].text.count("Theodore") <= 1


def test_no_dated_item_without_a_date_or_a_person() -> None:
    assert [i for i in extract("The Battle of Hastings was in 1066 and water boils at 100 degrees.", "Theodore", AT)
            if i.kind in ("plan", "event")] == []
    assert extract("Mondays are the worst.", "Theodore", AT) == []
