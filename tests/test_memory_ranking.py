"""Reading a query and the relevance floor (pure)."""

from __future__ import annotations

from datetime import datetime

from os1.memory import fusion, ranking

NOW = datetime(2026, 5, 13, 15, 0).astimezone()


def signals(**kw: object) -> fusion.Signals:
    return fusion.Signals(key=1, sources=(1,), **kw)  # type: ignore[arg-type]


def test_a_query_that_is_only_a_name_is_matched_by_the_name_alone() -> None:
    plan = ranking.read_query("Catherine?", NOW, ["Theodore", "Samantha"])
    assert plan.names_only and plan.words == ["catherine"]
    assert not ranking.relevant(plan, signals(cosine=0.6))  # close in meaning says nothing about a name
    assert ranking.relevant(plan, signals(bm25={"turns": 1.0}, cosine=0.1))
    assert not ranking.read_query("when did Catherine sign the papers?", NOW, []).names_only
    assert not ranking.read_query("What Console does Nate own?", NOW, ["Nate"]).names_only  # a question, not a name
    assert ranking.read_query("Shia Labeouf", NOW, []).names_only


def test_the_floor_is_the_same_in_any_store() -> None:
    plan = ranking.read_query("which film do I love most?", NOW, [])
    assert ranking.relevant(plan, signals(cosine=ranking.RELEVANT_COSINE))
    assert not ranking.relevant(plan, signals(cosine=ranking.RELEVANT_COSINE - 0.01))
    assert ranking.relevant(plan, signals(bm25={"turns": 0.001}, cosine=-0.2))  # a shared word is relevance
    named = ranking.read_query("what does Amy like?", NOW, ["Amy"])
    assert ranking.relevant(named, signals(cosine=ranking.RELEVANT_COSINE - ranking.NAMED_EASING,
                                           speaker_match=True))


def test_time_words_say_when_not_what() -> None:
    plan = ranking.read_query("anything on tomorrow?", NOW, [])
    assert plan.words == [] and plan.span is not None and ranking.days_asked(plan) is not None
    assert ranking.relevant(plan, signals(cosine=0.0, time_match=True))  # a question only about a time
    dated = ranking.read_query("what did I do in January 2022?", NOW, [])
    assert "january" in dated.words and "2022" in dated.words  # said in so many words, they may be written so
    assert ranking.read_query("where do I work out these days?", NOW, []).words == ["work"]
