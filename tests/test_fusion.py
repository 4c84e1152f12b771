"""Fused memory ranking: the documented formula, its boosts, and de-duplication by source turn."""

from __future__ import annotations

from datetime import date

import pytest

from os1.memory.fusion import (
    DEFAULT_WEIGHTS,
    Ranked,
    Signals,
    Weights,
    dedupe,
    fuse,
    in_time_range,
    lexical_scale,
    score,
    search_order,
)


def test_score_follows_the_formula() -> None:
    w = Weights(lexical={"turns": 1.0, "facts": 0.5}, dense=2.0, speaker=0.7, time=0.4, recency=0.2,
                recency_half_life_days=10.0, importance=0.1)
    c = Signals(key=1, sources=(1,), bm25={"turns": 4.0, "facts": 3.0}, cosine=0.5, speaker_match=True,
                time_match=True, age_days=10.0, importance=0.5)
    expected = 1.0 * 4 / 8 + 0.5 * 3 / 3 + 2.0 * 0.5 + 0.7 + 0.4 + 0.2 * 0.5 + 0.1 * 0.5
    assert score(c, {"turns": 8.0, "facts": 3.0}, w) == pytest.approx(expected)


def test_missing_signals_contribute_nothing() -> None:
    assert score(Signals(key=1, sources=(1,)), {}) == 0.0
    # A table without a weight, or a zero scale, is ignored rather than dividing by zero.
    assert score(Signals(key=1, sources=(1,), bm25={"other": 2.0}), {"other": 2.0}) == 0.0
    assert score(Signals(key=1, sources=(1,), bm25={"turns": 2.0}), {"turns": 0.0}) == 0.0


def test_default_weights_are_the_tuned_recipe() -> None:
    assert (DEFAULT_WEIGHTS.dense, DEFAULT_WEIGHTS.speaker, DEFAULT_WEIGHTS.time) == (2.5, 0.7, 0.7)
    assert DEFAULT_WEIGHTS.lexical == {"turns": 1.0}
    assert DEFAULT_WEIGHTS.recency == 0.0 and DEFAULT_WEIGHTS.importance == 0.0


def test_lexical_scale_is_the_best_score_per_table() -> None:
    cands = [Signals(key=1, sources=(1,), bm25={"turns": 2.0}),
             Signals(key=2, sources=(2,), bm25={"turns": 5.0, "facts": 1.0}),
             Signals(key=3, sources=(3,))]
    assert lexical_scale(cands) == {"turns": 5.0, "facts": 1.0}


def test_fuse_ranks_best_first_and_dense_can_beat_a_weak_lexical_match() -> None:
    cands = [Signals(key="lex", sources=("t1",), bm25={"turns": 10.0}, cosine=0.1),
             Signals(key="half", sources=("t2",), bm25={"turns": 5.0}, cosine=0.2),
             Signals(key="dense", sources=("t3",), cosine=0.55)]
    ranked = fuse(cands)
    assert [r.key for r in ranked] == ["dense", "lex", "half"]
    assert ranked[0].score == pytest.approx(2.5 * 0.55)
    assert ranked[1].score == pytest.approx(1.0 + 2.5 * 0.1)
    assert ranked[2].score == pytest.approx(0.5 + 2.5 * 0.2)


def test_speaker_and_time_boosts_reorder_near_equals() -> None:
    a = Signals(key="a", sources=("a",), bm25={"turns": 4.0}, cosine=0.40)
    b = Signals(key="b", sources=("b",), bm25={"turns": 3.6}, cosine=0.40, speaker_match=True)
    c = Signals(key="c", sources=("c",), bm25={"turns": 3.0}, cosine=0.40, speaker_match=True, time_match=True)
    assert [r.key for r in fuse([a, b, c])] == ["c", "b", "a"]
    assert [r.key for r in fuse([a, b, c], Weights(speaker=0.0, time=0.0))] == ["a", "b", "c"]


def test_ties_keep_input_order() -> None:
    cands = [Signals(key=k, sources=(k,), cosine=0.3) for k in (3, 1, 2)]
    assert [r.key for r in fuse(cands)] == [3, 1, 2]


def test_recency_prior_halves_every_half_life() -> None:
    w = Weights(dense=0.0, recency=1.0, recency_half_life_days=7.0)
    new, old = Signals(key=1, sources=(1,), age_days=0.0), Signals(key=2, sources=(2,), age_days=14.0)
    assert score(new, {}, w) == pytest.approx(1.0)
    assert score(old, {}, w) == pytest.approx(0.25)
    assert score(Signals(key=3, sources=(3,), age_days=-5.0), {}, w) == pytest.approx(1.0)


def test_dedupe_returns_each_turn_once() -> None:
    ranked = [Ranked("fact", 3.0, ("t1", "t2")), Ranked("t1", 2.5, ("t1",)), Ranked("t3", 2.0, ("t3",)),
              Ranked("fact2", 1.5, ("t3", "t4")), Ranked("t4", 1.0, ("t4",)), Ranked("bare", 0.5, ())]
    assert [r.key for r in dedupe(ranked)] == ["fact", "t3", "t4", "bare"]
    assert [r.key for r in dedupe(ranked, limit=2)] == ["fact", "t3"]


def test_search_order_fuses_dedupes_and_cuts() -> None:
    cands = [Signals(key="fact", sources=(1, 2), cosine=0.6), Signals(key=1, sources=(1,), cosine=0.5),
             Signals(key=3, sources=(3,), cosine=0.4), Signals(key=4, sources=(4,), cosine=0.3)]
    assert [r.key for r in search_order(cands, limit=2)] == ["fact", 3]


def test_in_time_range_extends_the_span_a_week_past_its_end() -> None:
    span = (date(2023, 8, 1), date(2023, 8, 31))
    assert in_time_range(date(2023, 8, 15), span)
    assert in_time_range(date(2023, 9, 7), span)
    assert not in_time_range(date(2023, 9, 8), span)
    assert not in_time_range(date(2023, 7, 31), span)
    assert not in_time_range(date(2023, 9, 1), span, after_days=0)
    assert not in_time_range(date(2023, 8, 15), None)


def test_the_os_own_words_rank_below_the_users_equal_ones() -> None:
    users = Signals(key="user", sources=(1,), bm25={"turns": 3.0}, cosine=0.5)
    own = Signals(key="os", sources=(2,), bm25={"turns": 3.0}, cosine=0.5, own_words=True)
    ranked = fuse([own, users], Weights(own_words=-0.5))
    assert [r.key for r in ranked] == ["user", "os"] and ranked[0].score - ranked[1].score == pytest.approx(0.5)
