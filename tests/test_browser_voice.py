"""The page's voice in a real browser: Chromium's fake microphone plays a WAV of Piper asking for tea to the page,
which streams it over the WebSocket to the default embedded stack (Silero, PocketSphinx, Piper); the transcript
and the spoken reply come back into the page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from os1.local import LOCAL_USER
from os1.memory import Database
from os1.speech.audio import concat, silence, write_wav
from os1.testing import FakeLLM
from tests.browser_helpers import fake_microphone
from tests.db_helpers import turns
from tests.speech_helpers import TEA, spoken

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from os1.speech.tts import PiperTTS

pytest_plugins = ["tests.browser_fixtures", "tests.speech_fixtures"]
REPLY = "Here is your tea."
STORY = ("Once upon a time there was a lighthouse keeper who wrote letters to the sea every single night, and the "
         "sea never answered, until one winter morning a bottle came back with a reply inside it.")
CUT_IN = "Wait, stop, I have a question about that."


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM(answers={"tea": REPLY, "story": STORY, "question": "Of course."})


@pytest.fixture
def app_kwargs(settings: Settings) -> dict[str, Any]:
    """First boot done before the server starts, with a voice preference Piper fits; the default speech stack."""
    db = Database(settings.db_path)
    store = db.user(LOCAL_USER)
    for key, value in {"user.name": "Theodore", "user.social": "social", "user.mother": "fine",
                       "user.voice": "male", "os.name": "Samantha"}.items():
        store.set(key, value)
    db.close()
    return {}


@pytest.fixture
def recording(request: pytest.FixtureRequest, steady_piper: PiperTTS, tmp_path: Path) -> Path:
    """What the fake microphone plays: a second of silence (the page is still opening it), then the test's words
    (`parametrize` `recording` with (text, seconds of silence after it) pairs)."""
    parts = [silence(1.0)]
    for text, pause in request.param:
        parts += [spoken(steady_piper, text), silence(pause)]
    return write_wav(tmp_path / "microphone.wav", concat(parts))


@pytest.fixture
def chromium_args(recording: Path) -> list[str]:
    return fake_microphone(recording)


@pytest.mark.parametrize("recording", [[(TEA, 3.0)]], indirect=True)
def test_a_spoken_request_is_heard_and_answered_aloud(page: Page, live_server: str, settings: Settings) -> None:
    page.goto(live_server + "/?mic=raw")  # the file's own level: no echo cancellation or gain control
    page.locator("#reply").filter(has_text="Theodore").wait_for()  # welcome back
    page.locator("#mic").click()
    page.locator("#heard").filter(has_text="tea").wait_for()
    page.locator("#reply").filter(has_text=REPLY).wait_for()
    page.wait_for_function("() => OS1Voice.stats.played > 0.5")  # seconds of the OS's speech played by the page
    stats: dict[str, Any] = page.evaluate("() => OS1Voice.stats")
    assert stats["sent"] > 20 and stats["received"] >= 1 and stats["samples"] > 0.8 * 22050
    lines = page.locator("#lines li").all_text_contents()
    assert any(line.startswith("You:") and "tea" in line for line in lines) and f"Samantha: {REPLY}" in lines
    assert page.locator("#mic").get_attribute("aria-pressed") == "true"
    page.locator("#mic").click()  # the microphone off
    page.wait_for_function("() => document.body.dataset.voice === 'off'")
    said = [text for role, text, status in turns(settings.db_path) if role == "user"]
    assert said and "tea" in said[-1]
    assert turns(settings.db_path)[-1] == ("assistant", REPLY, "complete")


@pytest.mark.parametrize("recording", [[("Tell me a story please.", 4.0), (CUT_IN, 3.0)]], indirect=True)
def test_cutting_in_stops_the_page_at_once(page: Page, live_server: str, settings: Settings) -> None:
    page.goto(live_server + "/?mic=raw")
    page.locator("#reply").filter(has_text="Theodore").wait_for()
    page.locator("#mic").click()
    page.locator("#lines li.interrupted").filter(has_text="Once upon").wait_for(state="attached")  # cut short
    page.wait_for_function("() => OS1Voice.stats.stops >= 1")  # the page was told to drop the rest: audio_stop
    page.locator("#lines li").filter(has_text="Of course.").wait_for(state="attached")  # the question answered
    told = next(text for role, text, status in turns(settings.db_path) if text.startswith("Once upon"))
    # What was heard before the cut-in, and no more: the story's first words (how many depends on the
    # machine's speed, from the reply's start to the cut-in being heard), never all of it.
    assert 2 <= len(told.split()) < len(STORY.split()) and STORY.startswith(told.rstrip(".…"))
    assert ("assistant", told, "interrupted") in turns(settings.db_path)


@pytest.mark.parametrize("recording", [[(TEA, 2.5)]], indirect=True)
def test_hold_the_space_bar_to_talk(page: Page, live_server: str, settings: Settings) -> None:
    page.goto(live_server + "/?mic=raw")
    page.locator("#reply").filter(has_text="Theodore").wait_for()
    page.locator("#mode").click()
    assert page.locator("#mode").text_content() == "hold to talk"
    page.keyboard.down("Space")
    page.wait_for_function("() => OS1Voice.stats.sent * 1024 / 16000 > 5")  # the request and 1.5 s of quiet
    assert page.locator("#heard").text_content() == ""  # held: the pause did not end the turn
    page.keyboard.up("Space")
    page.locator("#heard").filter(has_text="tea").wait_for()
    page.locator("#reply").filter(has_text=REPLY).wait_for()
    page.wait_for_function("() => OS1Voice.stats.played > 0.5")
    assert [t for t in turns(settings.db_path) if t[0] == "user"][-1][1].count("tea") == 1
