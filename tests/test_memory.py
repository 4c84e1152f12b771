"""Long-term memory through its public API: durable, searchable, changing facts, forgetting, isolation."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from os1.companion import Companion
from os1.errors import InputError
from os1.events import Confirm
from os1.llm.kvstate import STATE_DIR
from os1.memory import Database
from os1.memory.api import Memory
from os1.memory.embeddings import MiniLMEmbedder
from os1.memory.forget import ForgetReport, forget, forget_item, forget_term
from os1.memory.transfer import export_memory, import_memory, read_export
from os1.skills.executor import Executor, installed_router
from os1.testing import FakeLLM

DAY1 = datetime(2026, 3, 2, 19, 30).astimezone()


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=1)


@pytest.fixture
def memory(store, embedder) -> Memory:
    mem = Memory(store, embedder=embedder)
    yield mem
    mem.close()


def said(memory: Memory, text: str, at: datetime = DAY1, speaker: str = "Theodore") -> int:
    return memory.remember(text, speaker=speaker, at=at, session_id=None)


async def test_a_turn_is_durable_and_searchable_at_once(memory: Memory, settings) -> None:
    turn = said(memory, "I adopted a grey cat called Pixel today.")
    raw = sqlite3.connect(settings.db_path).execute("SELECT text, speaker FROM turns WHERE id = ?", (turn,)).fetchall()
    assert raw == [("I adopted a grey cat called Pixel today.", "Theodore")]
    found = await memory.recall("Pixel", k=3)  # before any background work
    assert found and found[0].turn_ids == (turn,)


async def test_background_work_derives_items_and_vectors(memory: Memory) -> None:
    said(memory, "My friend Amy is moving to Boston. I love rock climbing.")
    await memory.flush()
    texts = {i.text for i in memory.items()}
    assert "Amy is Theodore's friend." in texts and "Theodore loves rock climbing." in texts
    assert len(memory.tables.vectors()) == 3  # the turn and two items
    meaning = await memory.recall("bouldering hobby", k=3)  # no shared word: found by meaning
    assert any("climbing" in r.text for r in meaning)


async def test_a_changed_fact_keeps_its_old_value(memory: Memory) -> None:
    said(memory, "I live in Los Angeles.", DAY1)
    said(memory, "Big news: I moved to San Francisco!", DAY1 + timedelta(days=40))
    await memory.flush()
    homes = {i.value: i for i in memory.items(kind="fact") if i.attribute == "home"}
    assert homes["Los Angeles"].valid_until == DAY1 + timedelta(days=40)
    assert homes["San Francisco"].valid_until is None
    now = await memory.recall("Where do I live?", k=3, at=DAY1 + timedelta(days=41))
    assert now[0].text == "Theodore lives in San Francisco."
    before = await memory.recall("Where did I live before?", k=3, at=DAY1 + timedelta(days=41))
    stale = next(r for r in before if "Los Angeles" in r.text and r.kind == "fact")
    assert "no longer true" in stale.render()


async def test_time_words_prefer_the_right_days(memory: Memory) -> None:
    said(memory, "I went hiking with Paul.", DAY1)  # 2 March
    said(memory, "I went hiking alone.", DAY1 + timedelta(days=30))  # 1 April
    later = DAY1 + timedelta(days=33)
    found = await memory.recall("who did I go hiking with last month?", k=1, at=later)
    assert "Paul" in found[0].text
    found = await memory.recall("did I go hiking this month?", k=1, at=later)
    assert found[0].text == "I went hiking alone."
    found = await memory.recall("hiking in March", k=1, at=later)
    assert "Paul" in found[0].text


async def test_personal_vocabulary(memory: Memory) -> None:
    said(memory, "Leaving Peak now. Peak is my gym.")
    await memory.flush()
    assert memory.vocabulary() == {"Peak": "Theodore's gym"}
    assert memory.read("just got back from peak") == "just got back from Peak"
    memory.teach("Cocoa", "my car")
    assert memory.read("cocoa broke down") == "Cocoa broke down"


async def test_forget_removes_the_words_from_the_database_file(store, memory: Memory, settings) -> None:
    fake = FakeLLM(["She sounds lovely.", "Noted."])
    companion = Companion(store, fake, memory=memory, skills=Executor(installed_router()))
    for answer in ("Theodore", "social", "fine", "female"):
        [e async for e in companion.say(answer)]
    [e async for e in companion.say("My sister Catherine signed the divorce papers.")]
    [e async for e in companion.say("I had pasta with Amy.")]
    await memory.flush()
    assert any("Catherine" in i.text for i in memory.items())
    events = [e async for e in companion.say("Forget what I told you about Catherine.")]
    assert events[-1] == Confirm(events[-2].text) and "Catherine" in events[-1].question  # it asks first
    assert any("Catherine" in i.text for i in memory.items())
    events = [e async for e in companion.say("yes")]
    assert "forgotten" in events[-1].text  # type: ignore[union-attr]
    await memory.flush()
    data = settings.db_path.read_bytes() + Path(f"{settings.db_path}-wal").read_bytes()
    for needle in (b"Catherine", b"catherine", b"catherin", b"CATHERINE"):
        assert needle not in data
    assert await memory.recall("Catherine divorce papers", k=5) == [] or all(
        "Catherine" not in r.text for r in await memory.recall("Catherine divorce papers", k=5))
    assert any("pasta" in t.text for t in store.recent_turns())  # the rest stays


async def test_forgetting_words_of_the_persona_deletes_a_local_models_saved_reading_of_it(
        store, memory: Memory, settings) -> None:
    companion = Companion(store, FakeLLM(["Noted."] * 4), memory=memory, skills=Executor(installed_router()))
    for answer in ("Theodore", "social", "Catherine calls me on Sundays", "female"):
        [e async for e in companion.say(answer)]
    saved = settings.home / STATE_DIR / "persona.kv"  # what `llm/kvstate.py` keeps: the persona's tokens
    saved.parent.mkdir()
    saved.write_bytes(b"Catherine")
    [e async for e in companion.say("I had pasta with Amy.")]
    await memory.flush()
    [e async for e in companion.say("Forget what I told you about pasta.")]  # not in the persona: kept
    [e async for e in companion.say("yes")]
    assert saved.exists()
    [e async for e in companion.say("Forget what I told you about Catherine.")]
    assert saved.exists()  # not before the user says yes
    [e async for e in companion.say("yes")]
    assert "Catherine" not in store.profile().get("user.mother", "") and not saved.exists()


async def test_what_do_you_remember_about(store, memory: Memory) -> None:
    companion = Companion(store, FakeLLM(), memory=memory, skills=Executor(installed_router()))
    for answer in ("Theodore", "social", "fine", "female"):
        [e async for e in companion.say(answer)]
    [e async for e in companion.say("My friend Amy is learning the cello.")]
    await memory.flush()
    events = [e async for e in companion.say("What do you remember about Amy?")]
    reply = events[-1].text  # type: ignore[union-attr]
    assert "Amy is Theodore's friend." in reply and "cello" in reply
    await memory.flush()
    assert store.recent_turns()[-1].text == reply  # kept verbatim…
    assert all("Here's what I remember" not in r.text for r in await memory.recall("Amy cello", k=20))  # …not recalled


async def test_companion_recalls_old_and_new_facts_days_later(store, memory: Memory) -> None:
    fake = FakeLLM(["Mm-hm."] * 20)
    companion = Companion(store, fake, memory=memory)
    for answer in ("Theodore", "social", "fine", "female"):
        [e async for e in companion.say(answer, at=DAY1)]
    companion.start_session(DAY1)
    [e async for e in companion.say("I live in Los Angeles, near the beach.", at=DAY1)]
    companion.start_session(DAY1 + timedelta(days=20))
    [e async for e in companion.say("I just moved to San Francisco.", at=DAY1 + timedelta(days=20))]
    for day in range(21, 31):
        companion.start_session(DAY1 + timedelta(days=day))
        [e async for e in companion.say(f"Day {day}: work was busy, I ate noodles.", at=DAY1 + timedelta(days=day))]
    await memory.flush()
    [e async for e in companion.say("Where did I live before I moved?", at=DAY1 + timedelta(days=32))]
    slot = fake.calls[-1][-2].content
    seen = "\n".join(m.content for m in fake.calls[-1])  # turns the history shows are not repeated as memories
    assert "San Francisco" in seen
    assert "Los Angeles" in slot and "no longer true" in slot
    [e async for e in companion.say("Where do I live now?", at=DAY1 + timedelta(days=33))]
    slot = fake.calls[-1][-2].content
    assert "San Francisco" in "\n".join(m.content for m in fake.calls[-1])
    assert all("no longer true" in line for line in slot.splitlines() if "Los Angeles" in line), slot


def test_users_cannot_reach_each_other(db: Database, embedder) -> None:
    async def scenario() -> None:
        alice, bob = Memory(db.user("alice"), embedder=embedder), Memory(db.user("bob"), embedder=embedder)
        secret = alice.remember("My friend Zorro hides the treasure in Lisbon. Zorro is my parrot.", speaker="Alice")
        bob.remember("I like tea.", speaker="Bob")
        await alice.flush()
        await bob.flush()
        bob.index_turn(secret)  # another user's turn id: nothing happens
        assert bob.store.turns_by_id([secret]) == {} and bob.tables.items([i.id for i in alice.items()]) == []
        assert bob.tables.text_search('"zorro"', 10) == {} and bob.tables.neighbour(secret, after=False) is None
        assert all("Zorro" not in r.text for r in await bob.recall("Zorro treasure Lisbon parrot", k=50))
        assert all("Zorro" not in i.text for i in bob.items())
        assert bob.vocabulary() == {} and bob.read("zorro") == "zorro"
        assert bob.speakers() == ["Bob"]
        assert "Zorro" not in json.dumps(export_memory(bob))
        assert forget(bob, "Zorro").total == 0 and forget(bob, "tea").turns == 1
        assert any("Zorro" in r.text for r in await alice.recall("Zorro", k=5))
        alice.close()
        bob.close()

    import asyncio

    asyncio.run(scenario())


async def test_export_import_round_trips_exactly(memory: Memory, tmp_path: Path, embedder) -> None:
    said(memory, "I live in Oslo. My brother Nils plays drums.", DAY1)
    said(memory, "I moved to Bergen.", DAY1 + timedelta(days=3))
    memory.teach("Hytta", "our cabin")
    memory.store.add_list_item("shopping", "Oat milk", DAY1)
    memory.store.add_list_item("notes", "the plumber comes on Tuesday", DAY1)
    memory.store.add_timer("alarm", DAY1 + timedelta(days=1), "dentist", DAY1)
    await memory.flush()
    first = export_memory(memory)
    assert [entry["item"] for entry in first["lists"]] == ["Oat milk", "the plumber comes on Tuesday"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(first))
    other = Database(tmp_path / "other.db")
    fresh = Memory(other.user("local"), embedder=embedder)
    assert import_memory(fresh, read_export(path)) == 2
    await fresh.flush()
    second = export_memory(fresh)
    first.pop("exported_at"), second.pop("exported_at")
    assert second == first
    assert any("Bergen" in r.text for r in await fresh.recall("where do I live", k=3))
    assert [text for _, text in fresh.store.list_items("shopping")] == ["Oat milk"]
    assert [(t.kind, t.label) for t in fresh.store.timers()] == [("alarm", "dentist")]
    with pytest.raises(InputError, match="fresh"):
        import_memory(fresh, read_export(path))
    fresh.close()
    other.close()


def test_bad_import_files_change_nothing(tmp_path: Path, memory: Memory) -> None:
    good = export_memory(memory)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**good, "version": 99}))
    with pytest.raises(InputError, match="newer OS1"):
        read_export(newer)
    half = tmp_path / "half.json"
    half.write_text(json.dumps({**good, "turns": [{"role": "user", "text": "x" * 100}] * 50})[:700])
    with pytest.raises(InputError, match="half-written"):
        read_export(half)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**good, "turns": [{"role": "user"}]}))
    with pytest.raises(InputError, match="damaged"):
        read_export(broken)
    assert memory.store.count_turns() == 0


LANGUAGES = {
    "en": "My grandmother's garden is full of roses", "fr": "Le jardin de ma grand-mère est plein de roses",
    "de": "Der Garten meiner Großmutter ist voller Rosen", "es": "El jardín de mi abuela está lleno de rosas",
    "it": "Il giardino di mia nonna è pieno di rose", "pt": "O jardim da minha avó está cheio de rosas",
    "nl": "De tuin van mijn oma staat vol rozen", "sv": "Min mormors trädgård är full av rosor",
    "pl": "Ogród mojej babci jest pełen róż", "tr": "Büyükannemin bahçesi güllerle dolu",
    "ru": "Сад моей бабушки полон роз", "uk": "Сад моєї бабусі повний троянд",
    "el": "Ο κήπος της γιαγιάς μου είναι γεμάτος τριαντάφυλλα",
    "ar": "حديقة جدتي مليئة بالورود", "he": "הגינה של סבתא שלי מלאה בורדים",
    "hi": "मेरी दादी का बगीचा गुलाबों से भरा है",
    "zh": "我奶奶的花园里开满了玫瑰", "ja": "祖母の庭はバラでいっぱいです", "ko": "할머니의 정원은 장미로 가득하다",
    "th": "สวนของยายเต็มไปด้วยดอกกุหลาบ", "vi": "Khu vườn của bà tôi đầy hoa hồng",
}


async def test_twenty_languages_are_kept_and_found(memory: Memory) -> None:
    ids = {lang: said(memory, text) for lang, text in LANGUAGES.items()}
    await memory.flush()
    for lang, text in LANGUAGES.items():
        stored = memory.store.turns_by_id([ids[lang]])[ids[lang]]
        assert stored.text == text
        found = await memory.recall(text, k=3)
        assert ids[lang] in {t for r in found for t in r.turn_ids}, lang


@pytest.mark.parametrize("junk", [
    '"AND (', "NEAR(a b", "*", "^start", "a OR", "'; DROP TABLE turns; --", "owner:u1", "col:val \"",
    "😀😀😀", "🫠 melt", "\x01\x02\x7f", "",
])
async def test_hostile_text_is_stored_and_searched_safely(memory: Memory, junk: str) -> None:
    text = junk or "empty-looking"
    turn = said(memory, text)
    await memory.recall(junk, k=5)  # must not raise
    assert memory.store.turns_by_id([turn])[turn].text == text
    assert memory.store.count_turns() == 1


async def test_huge_and_binary_turns(memory: Memory) -> None:
    rng = random.Random(7)
    binary = bytes(rng.randrange(256) for _ in range(20_000)).decode("utf-8", "replace")
    huge = "the quick brown fox jumps over the lazy dog " * 25_000
    for text in (binary, huge):
        turn = said(memory, text)
        assert memory.store.turns_by_id([turn])[turn].text == text
    await memory.flush()
    assert (await memory.recall("quick brown fox", k=1))[0].text == huge


async def test_a_corrupt_vector_is_redone(store, memory: Memory, embedder) -> None:
    said(memory, "I keep bees on the roof.")
    await memory.flush()
    memory.tables.db.execute("UPDATE vectors SET vec = ? WHERE user_id = ?", (b"\x00garbage", store.user_id))
    again = Memory(store, embedder=embedder)
    found = await again.recall("bees roof", k=1)
    assert found and "bees" in found[0].text
    assert again.corrupt_vectors >= 1
    await again.flush()
    assert all(len(v) == 384 * 4 for _, v in again.tables.vectors())
    again.close()


async def test_a_capable_model_extracts_beside_the_rules(memory: Memory) -> None:
    from os1.memory.llm_extract import LLMExtractor

    script = ('{"kind": "fact", "subject": "Theodore", "attribute": "job", "value": "letter writer", '
              '"text": "Theodore writes letters for other people."}\nnot json\n{"kind": "bogus", "text": "x"}')
    memory.extractor = LLMExtractor(FakeLLM([script]))
    said(memory, "I write beautiful handwritten letters for a living.")
    await memory.flush()
    jobs = [i for i in memory.items() if i.attribute == "job"]
    assert [j.text for j in jobs] == ["Theodore writes letters for other people."]
    assert jobs[0].turn_ids == (1,)
    failing = LLMExtractor(FakeLLM(fail="unavailable"))
    memory.extractor = failing
    said(memory, "My friend Paul likes jazz.")
    await memory.flush()
    assert any(i.text == "Paul is Theodore's friend." for i in memory.items())


async def test_the_users_own_terms_shape_what_the_model_reads(store, memory: Memory) -> None:
    fake = FakeLLM()
    companion = Companion(store, fake, memory=memory)
    for answer in ("Theodore", "social", "fine", "female"):
        [e async for e in companion.say(answer)]
    memory.teach("Peak", "Theodore's gym")
    [e async for e in companion.say("leaving peak now")]
    assert fake.calls[-1][-1].content == "leaving Peak now"
    assert "Peak is Theodore's gym." in fake.calls[-1][-2].content
    assert store.recent_turns()[-2].text == "leaving peak now"  # stored verbatim


async def test_before_and_after_an_event(memory: Memory) -> None:
    said(memory, "I worked at a bakery and sang in the shower every morning.", DAY1)
    said(memory, "We finally did the move to Portland!", DAY1 + timedelta(days=30))
    said(memory, "I started at a bookshop and sing in a choir every Thursday.", DAY1 + timedelta(days=40))
    await memory.flush()
    later = DAY1 + timedelta(days=50)
    before = await memory.recall("where did I work and sing before the move?", k=1, at=later)
    assert "bakery" in before[0].text
    after = await memory.recall("where did I work and sing after the move?", k=1, at=later)
    assert "bookshop" in after[0].text


async def test_an_edited_item_is_found_by_its_new_words(memory: Memory) -> None:
    said(memory, "I live in Lisbon.")
    await memory.flush()
    item = next(i for i in memory.items() if i.kind == "fact")
    old_vector = dict(memory.tables.vectors())[2 * item.id + 1]
    edited = memory.edit_item(item.id, "Theodore lives in Porto, by the river Douro.")
    assert edited is not None and (edited.id, edited.text) == (item.id, "Theodore lives in Porto, by the river Douro.")
    assert memory.edit_item(item.id + 1000, "Not mine.") is None
    await memory.flush()
    new_vector = dict(memory.tables.vectors()).get(2 * item.id + 1)
    assert new_vector is not None and new_vector != old_vector  # embedded again, from the new words
    found = await memory.recall("Douro", k=3)
    assert found and found[0].text == "Theodore lives in Porto, by the river Douro."


async def test_forgetting_one_item_takes_the_words_it_came_from(memory: Memory, settings) -> None:
    said(memory, "My friend Amy is moving to Boston. I love rock climbing.")
    memory.remember("Good for you, climber.", speaker="Samantha", role="assistant")
    said(memory, "I live in Lisbon.")
    await memory.flush()
    climbing = next(i for i in memory.items() if "climbing" in i.text)
    assert forget_item(memory, climbing.id) == ForgetReport(turns=2, items=1, terms=0, profile=0)
    assert forget_item(memory, climbing.id) is None
    texts = {i.text for i in memory.items()}
    assert "Amy is Theodore's friend." in texts  # found in the same words, but not what was asked to go
    assert [t.text for t in memory.store.recent_turns()] == ["I live in Lisbon."]
    await memory.flush()
    data = settings.db_path.read_bytes() + Path(f"{settings.db_path}-wal").read_bytes()
    assert b"climb" not in data


async def test_forgetting_a_term(memory: Memory) -> None:
    said(memory, "Leaving Peak now. Peak is my gym.")
    await memory.flush()
    memory.teach("Cocoa", "my car")
    assert forget_term(memory, "peak") == ForgetReport(turns=1, items=1, terms=1, profile=0)
    assert memory.vocabulary() == {"Cocoa": "my car"} and memory.items() == []
    assert forget_term(memory, "Peak") is None


async def test_forgetting_a_words_item_forgets_the_word(memory: Memory) -> None:
    said(memory, "Leaving Peak now. Peak is my gym.")
    await memory.flush()
    [item] = memory.items(kind="vocabulary")
    assert forget_item(memory, item.id) == ForgetReport(turns=1, items=1, terms=1, profile=0)
    assert memory.vocabulary() == {}



def test_a_word_in_too_many_memories_finds_the_newest_of_them(tmp_path: Path) -> None:
    """Scoring every row a very common word matches is what makes a search slow at 100k memories; above the
    postings budget the full-text search takes the newest matching documents (the vectors still see them all)."""
    db = Database(tmp_path / "os1.db")
    memory = Memory(db.user("ada"))
    for i in range(30):
        memory.remember(f"I went to the market, visit number {i}.", speaker="Ada")
    every = memory.tables.text_search('"market"', 100)
    newest = memory.tables.text_search('"market"', 5, newest=True)
    assert len(every) == 30 and sorted(newest) == sorted(every)[-5:]
    assert all(score > 0 for score in newest.values())
    memory.close()
    db.close()
