"""Text processing for memory retrieval: safe FTS5 queries, CJK, turn documents, query analysis, dates."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import pytest

from os1.memory import textproc as tp


@pytest.fixture
def fts() -> sqlite3.Connection:
    """An in-memory turn table with the recipe's tokenizer and columns."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE turns USING fts5({', '.join(tp.FTS_COLUMNS)}, tokenize='{tp.FTS_TOKENIZE}')")
    return conn


def _insert(conn: sqlite3.Connection, rowid: int, doc: tp.TurnDocument) -> None:
    conn.execute("INSERT INTO turns(rowid, speaker, body, context) VALUES (?, ?, ?, ?)",
                 (rowid, doc.speaker, doc.body, doc.context))


def _match(conn: sqlite3.Connection, query: str | None) -> list[int]:
    if query is None:
        return []
    weights = ", ".join(map(str, tp.FTS_COLUMN_WEIGHTS))
    sql = f"SELECT rowid FROM turns WHERE turns MATCH ? ORDER BY bm25(turns, {weights})"
    return [r[0] for r in conn.execute(sql, (query,))]


def test_tokens_fold_case_and_diacritics_and_split_like_unicode61() -> None:
    assert tp.tokens("Café_au-LAIT, it's 2023!") == ["cafe", "au", "lait", "it", "s", "2023"]


def test_cjk_characters_become_tokens_of_their_own() -> None:
    assert tp.space_cjk("我喜欢猫 and 犬") == "我 喜 欢 猫 and 犬"
    assert tp.tokens("東京タワーへ") == ["東", "京", "タ", "ワ", "ー", "へ"]
    assert tp.space_cjk("plain text") == "plain text"
    assert tp.is_cjk("한") and not tp.is_cjk("a")


def test_keywords_drop_stopwords_duplicates_and_excluded_names() -> None:
    assert tp.keywords("What did Caroline do at the LGBTQ support group? The group!", exclude=["Caroline"]) == [
        "lgbtq", "support", "group"]
    assert tp.keywords("what is it?") == []


def test_query_keywords_drop_question_frame_words_and_speaker_names() -> None:
    q = "What kind of pottery did Melanie's kids make recently?"
    assert tp.query_keywords(q, ["Melanie", "Caroline"]) == ["pottery", "kids", "make"]


@pytest.mark.parametrize("hostile", ['"AND (', "NEAR(a b) OR", "col:* ^x", '""', "a\"b'c", "NOT -x +y *"])
def test_every_query_is_a_valid_match_expression(fts: sqlite3.Connection, hostile: str) -> None:
    _insert(fts, 1, tp.turn_document("Ann", "and near col x y b c"))
    query = tp.fts_query(tp.keywords(hostile))
    _match(fts, query)  # must not raise
    assert tp.fts_phrase('a"b') == '"a""b"'
    _match(fts, tp.fts_query(['a"b', "(", "AND"]))


def test_empty_and_stopword_only_queries_give_none() -> None:
    assert tp.fts_query([]) is None
    assert tp.fts_query(tp.keywords("what was it that they did?")) is None
    assert tp.fts_query(["  "]) is None


def test_fts_query_ors_quoted_tokens_and_can_target_a_column(fts: sqlite3.Connection) -> None:
    assert tp.fts_query(["cat", "dog", "cat"]) == '"cat" OR "dog"'
    _insert(fts, 1, tp.turn_document("Ann", "my cat sleeps", following="Bob: a dog barks"))
    _insert(fts, 2, tp.turn_document("Bob", "a dog barks", previous="Ann: my cat sleeps"))
    assert _match(fts, tp.fts_query(["dog"], column="body")) == [2]
    assert sorted(_match(fts, tp.fts_query(["dog"]))) == [1, 2]


def test_own_words_outrank_neighbouring_context(fts: sqlite3.Connection) -> None:
    _insert(fts, 1, tp.turn_document("Ann", "We adopted a puppy", following="Bob: So cute!"))
    _insert(fts, 2, tp.turn_document("Bob", "So cute!", previous="Ann: We adopted a puppy"))
    assert _match(fts, tp.fts_query(tp.query_keywords("When did Ann adopt a puppy?", ["Ann", "Bob"]))) == [1, 2]


def test_cjk_documents_match_cjk_queries(fts: sqlite3.Connection) -> None:
    _insert(fts, 1, tp.turn_document("Yui", "昨日は東京で猫カフェに行った"))
    _insert(fts, 2, tp.turn_document("Yui", "今日は雨"))
    assert _match(fts, tp.fts_query(tp.keywords("猫カフェ"))) == [1]


def test_turn_body_line_and_documents() -> None:
    body = tp.turn_body(" Look! ", "a photo of a dog")
    assert body == "Look! [shared an image: a photo of a dog]"
    assert tp.turn_body("hi", None) == "hi" and tp.turn_body("hi", "  ") == "hi"
    assert tp.turn_line("Ann", "hi") == "Ann: hi"
    doc = tp.turn_document("Ann", "hi", previous="Bob: hey", following=None)
    assert (doc.speaker, doc.body, doc.context) == ("Ann", "hi", "Bob: hey")
    assert tp.dense_document("Ann: hi", "Bob: hey", "Bob: bye") == "Bob: hey \n Ann: hi \n Bob: bye"
    assert tp.dense_document("Ann: hi") == "Ann: hi"


def test_mentioned_names_are_whole_words_with_possessives() -> None:
    speakers = ["Ann", "Jo", "Mary Kate"]
    assert tp.mentioned_names("What did Ann's dog eat with jo?", speakers) == ["Ann", "Jo"]
    assert tp.mentioned_names("Did Annie join the joint?", speakers) == []
    assert tp.mentioned_names("Where is Mary Kate?", speakers) == ["Mary Kate"]


def test_dense_query_strips_speaker_names() -> None:
    assert tp.dense_query("When did Caroline's mom visit Melanie?", ["Caroline", "Melanie"]) == "When did mom visit?"
    assert tp.dense_query("Caroline?", ["Caroline"]) == "Caroline?"  # nothing left: keep the original


@pytest.mark.parametrize(("query", "span"), [
    ("What did Sam make on 18 August, 2023?", (date(2023, 8, 18), date(2023, 8, 18))),
    ("What news did Evan share on 9th December 2023?", (date(2023, 12, 9), date(2023, 12, 9))),
    ("Where was John on April 10, 2022?", (date(2022, 4, 10), date(2022, 4, 10))),
    ("What did we do on 2024-02-29?", (date(2024, 2, 29), date(2024, 2, 29))),
    ("Which city was Calvin visiting in August 2023?", (date(2023, 8, 1), date(2023, 8, 31))),
    ("What happened in Feb 2024?", (date(2024, 2, 1), date(2024, 2, 29))),
    ("What did he do in summer 2023?", (date(2023, 6, 1), date(2023, 8, 31))),
    ("Plans for winter 2023?", (date(2023, 12, 1), date(2024, 2, 29))),
    ("What did she do in 2023?", None),
    ("What did she do last week?", None),
    ("Maybe in May?", None),
])
def test_parse_time_range(query: str, span: tuple[date, date] | None) -> None:
    assert tp.parse_time_range(query) == span


def test_parse_stamp() -> None:
    assert tp.parse_stamp("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56)
    assert tp.parse_stamp("12:09 am on 1 January, 2024") == datetime(2024, 1, 1, 0, 9)
    assert tp.parse_stamp("yesterday") is None


def test_prune_common_drops_frequent_words_and_keeps_the_rarest() -> None:
    df = {"feel": 300, "like": 250, "pottery": 3, "kids": 40, "class": 20, "clay": 2, "summer": 15}
    words = ["feel", "pottery", "kids", "like", "class", "clay", "summer"]
    assert tp.prune_common(words, df, 1000, max_ratio=0.2, max_terms=None) == [
        "pottery", "kids", "class", "clay", "summer"]
    assert tp.prune_common(words, df, 1000, max_ratio=0.2, max_terms=3) == ["pottery", "clay", "summer"]
    assert tp.prune_common(["feel", "like"], df, 1000) == ["like"]  # never empty: the rarest survives
    assert tp.prune_common([], df, 1000) == []
    assert tp.prune_common(["unseen"], {}, 0) == ["unseen"]
    assert (tp.MAX_QUERY_TERMS, tp.MAX_DOC_RATIO) == (5, 0.2)


def test_prune_common_keeps_the_rarest_words_within_a_postings_budget() -> None:
    df = {"amy": 3000, "mother": 4000, "lisbon": 900, "go": 15000}
    words = ["amy", "mother", "lisbon"]
    # the rarest first, then others while the rows to score stay within the budget
    assert tp.prune_common(words, df, 100_000, max_postings=5000) == ["amy", "lisbon"]
    assert tp.prune_common(words, df, 100_000, max_postings=None) == words
    assert tp.prune_common(["go"], df, 100_000, max_postings=5000) == ["go"]  # never empty
    assert tp.postings(["amy", "lisbon"], df) == 3900
