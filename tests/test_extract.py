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


@pytest.mark.parametrize(("sentence", "attribute", "value"), [
    ("I train at the Y most mornings.", "gym", "the Y"),
    ("I lift at Crunch now.", "gym", "Crunch"),
    ("I usually work out at Gold's Gym before work.", "gym", "Gold's Gym"),
    ("I go to Equinox to work out.", "gym", "Equinox"),
    ("I joined Crunch last week, the classes are great.", "gym", "Crunch"),
    ("My gym is the Bay Club.", "gym", "the Bay Club"),
    ("I work at Google, on the maps team.", "workplace", "Google"),
    ("Big news: I started a new job at Stripe!", "workplace", "Stripe"),
    ("I'm now working for Acme Corp.", "workplace", "Acme Corp"),
    ("I joined Figma as a designer.", "workplace", "Figma"),
    ("Monzo hired me!", "workplace", "Monzo"),
    ("I'm based in Lisbon these days.", "home", "Lisbon"),
    ("We relocated to Porto, the flat is lovely.", "home", "Porto"),
    ("Our new apartment is in Brooklyn.", "home", "Brooklyn"),
    ("I moved to Portland, Oregon.", "home", "Portland, Oregon"),
    ("I'm studying at McGill.", "school", "McGill"),
    ("I work as a nurse at St. Mary's.", "occupation", "a nurse"),
    ("My favorite band these days is Big Thief.", "favourite band", "Big Thief"),
    ("My favourite colour is blue and I love hiking.", "favourite colour", "blue"),
])
def test_changeable_facts_in_many_phrasings(sentence: str, attribute: str, value: str) -> None:
    found = [(i.attribute, i.value) for i in extract(sentence, "Theodore", AT) if i.kind == "fact"]
    assert (attribute, value) in found, found


@pytest.mark.parametrize(("sentence", "ends"), [
    ("I quit the Y, I lift at Crunch now.", "the Y"), ("I left Google in March.", "Google"),
    ("I'm no longer working at Acme Corp.", "Acme Corp"), ("I don't go to Peak anymore.", "Peak"),
    ("I broke up with Amy.", "Amy"), ("I moved out of Brooklyn.", "Brooklyn"),
])
def test_endings_close_a_fact(sentence: str, ends: str) -> None:
    assert ends in [i.ends for i in extract(sentence, "Theodore", AT)]


def test_no_fact_from_how_a_thing_is() -> None:
    found = extract("My new flat is lovely. My job is exhausting.", "Theodore", AT)
    assert [i for i in found if i.kind == "fact"] == []
