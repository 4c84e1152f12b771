"""The web page in a real browser: Debian's Chromium, driven by Playwright, against uvicorn and a scripted model.

The test run saves docs/screenshot.png and docs/screenshot-phone.png (the README's pictures of the page).
"""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from os1.persona import choose_name
from os1.testing import FakeLLM
from tests.browser_helpers import answer_first_boot, in_view, orb_problem, overflowing, save_screenshot, shown, whole
from tests.db_helpers import turns

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser_helpers import PageProblems

pytest_plugins = ["tests.browser_fixtures"]

DOCS = Path(__file__).resolve().parents[1] / "docs"
SAID = "I had a strange day. I kept thinking about the letters I write for other people."
REPLY = ("Tell me about the strange part. Was it the letters themselves, or how easily you find the words for "
         "someone else's love?")
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def same_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS picks the same name every run, so the screenshots change only when the page does."""
    monkeypatch.setattr("os1.companion.choose_name", lambda answers: choose_name(answers, random.Random(1)))


@pytest.fixture
def fake() -> FakeLLM:
    """A natural reply for the screenshot, word by word with a pause, so the stream is seen growing."""
    return FakeLLM(answers={"strange day": REPLY}, delay=0.03)


def first_boot(page: Page, url: str) -> str:
    """Open the page and answer first boot's questions by typing; returns the name the OS chose."""
    page.goto(url)
    answer_first_boot(page)
    name = page.locator("#name").text_content() or ""
    assert name and name != "OS1" and f"I'm {name}." in (page.locator("#reply").text_content() or "")
    return name


def say(page: Page, words: str) -> list[str]:
    """Type `words` and send them; returns every text the reply showed until it was done."""
    page.evaluate("""() => {
        const reply = document.getElementById('reply');
        window.seen = [];
        window.watcher?.disconnect();
        window.watcher = new MutationObserver(() => window.seen.push(reply.textContent));
        window.watcher.observe(reply, {childList: true, characterData: true, subtree: true});
    }""")
    lines = page.locator("#lines li").count()
    page.locator("#text").press_sequentially(words)
    page.keyboard.press("Enter")
    page.wait_for_function("(lines) => document.querySelectorAll('#lines li').length >= lines + 2 "
                           "&& !document.getElementById('send').disabled", arg=lines)
    seen: list[str] = page.evaluate("() => window.seen")
    return seen


def test_first_boot_then_a_streamed_reply(page: Page, live_server: str, page_problems: PageProblems) -> None:
    name = first_boot(page, live_server)
    seen = say(page, SAID)
    growing = [text for text in dict.fromkeys(seen) if text]
    assert growing[-1] == REPLY
    assert len(growing) >= 5 and all(REPLY.startswith(text) for text in growing), growing  # word by word
    assert page.locator("#text").input_value() == "" and page.locator("#prompt").text_content() == ""

    history = page.locator("#history")
    drawer = page.locator("#drawer")
    assert drawer.is_hidden() and history.get_attribute("aria-expanded") == "false"
    history.click()
    drawer.wait_for(state="visible")
    assert history.get_attribute("aria-expanded") == "true"
    assert in_view(page, "#lines li:last-child")  # the transcript opens on the newest lines
    lines = page.locator("#lines li").all_text_contents()
    assert lines[-2:] == [f"You: {SAID}", f"{name}: {REPLY}"]
    assert "You: Theodore" in lines and any(line.startswith(f"{name}: Hi Theodore. I'm {name}.") for line in lines)
    page.locator("#close").click()
    drawer.wait_for(state="hidden")
    assert history.get_attribute("aria-expanded") == "false"

    page.mouse.move(0, 400)  # no hover left on the header
    save_screenshot(page, DOCS / "screenshot.png")
    assert not page_problems.seen, page_problems.seen


@pytest.mark.parametrize("browser_options", [PHONE])
def test_the_page_fits_a_phone(page: Page, live_server: str, fake: FakeLLM, page_problems: PageProblems) -> None:
    first_boot(page, live_server)
    say(page, SAID)
    assert overflowing(page) == []
    save_screenshot(page, DOCS / "screenshot-phone.png")
    fake.enqueue("Here it is: https://example.org/a/very/long/address/that/does/not/break/anywhere/at/all/ok")
    say(page, "Where did you read that?")
    assert overflowing(page) == []
    page.locator("#history").click()
    page.locator("#drawer").wait_for(state="visible")
    assert overflowing(page) == [] and in_view(page, "#lines li:last-child")
    assert not page_problems.seen, page_problems.seen


def interrupt_a_reply(page: Page, fake: FakeLLM) -> None:
    """Ask for a slow reply and press stop once its first words show."""
    fake.delay = 0.2
    fake.enqueue(" ".join(["and"] * 100) + " never finished")
    page.locator("#text").fill("Tell me everything")
    page.keyboard.press("Enter")
    page.locator("#reply").filter(has_text="and and").wait_for()
    page.locator("#stop").click()
    page.locator("#lines li.interrupted").wait_for(state="attached")


def test_stop_interrupts_a_reply(page: Page, live_server: str, fake: FakeLLM, settings: Settings) -> None:
    first_boot(page, live_server)
    interrupt_a_reply(page, fake)
    assert page.locator("#stop").is_hidden() and page.locator("#send").is_enabled()
    cut = page.locator("#reply").text_content() or ""
    assert cut.startswith("and and") and "never finished" not in cut
    assert turns(settings.db_path)[-1] == ("assistant", cut, "interrupted")


# The page's findings of issue 11 -------------------------------------------------------------------------

STORY = " ".join(f"Sentence {i} of a long answer goes on about letters, the sea and the people who write them."
                 for i in range(1, 13))
"""A reply of 204 words, about as long as the embedded model's replies run (they stop at 256 tokens)."""

def open_drawer(page: Page) -> None:
    page.locator("#history").click()
    page.locator("#drawer").wait_for(state="visible")


def stored_lines(settings: Settings, name: str) -> list[str]:
    """The stored conversation as the transcript shows it."""
    return [f"{'You' if role == 'user' else name}: {text}" for role, text, _ in turns(settings.db_path)]


def test_the_opening_lines_are_all_shown_in_order(page: Page, live_server: str) -> None:
    from os1.persona.onboarding import intro

    page.goto(live_server)
    prompt = page.locator("#prompt")
    prompt.filter(has_text="what should it call you?").wait_for()
    opening = [*intro(), "First, what should it call you?"]
    assert [line for line in prompt.inner_text().split("\n") if line.strip()] == opening
    assert shown(page, "#prompt", "first") and shown(page, "#prompt", "last")
    assert page.locator("#lines li").all_text_contents() == [f"OS1: {line}" for line in opening]
    page.locator("#text").fill("Theodore")
    page.keyboard.press("Enter")
    prompt.filter(has_text="social").wait_for()
    assert prompt.inner_text().strip() == "Are you social or anti-social?"  # the next question, alone


def test_the_transcript_comes_back_after_a_reload_and_in_a_new_tab(
        page: Page, live_server: str, fake: FakeLLM, settings: Settings, page_problems: PageProblems) -> None:
    name = first_boot(page, live_server)
    say(page, SAID)
    interrupt_a_reply(page, fake)
    fake.delay = 0
    stored = stored_lines(settings, name)
    assert stored[-1].startswith(f"{name}: and and") and turns(settings.db_path)[-1][2] == "interrupted"

    page.reload()
    page.locator("#reply").filter(has_text="Theodore").wait_for()  # welcome back
    open_drawer(page)
    page.wait_for_function("(n) => document.querySelectorAll('#lines li').length >= n", arg=len(stored))
    assert page.locator("#lines li").all_text_contents() == stored
    assert page.locator("#lines li.interrupted").all_text_contents() == [stored[-1]]  # marked as cut short
    assert in_view(page, "#lines li:last-child")

    tab = page.context.new_page()  # a new tab has it too
    page_problems.watch(tab)
    tab.goto(live_server)
    open_drawer(tab)
    tab.wait_for_function("(n) => document.querySelectorAll('#lines li').length >= n", arg=len(stored))
    assert tab.locator("#lines li").all_text_contents() == stored
    tab.close()

    # The socket drops and comes back: the history is asked again (aria-busy is set again once it has come).
    page.evaluate("() => { document.getElementById('lines').removeAttribute('aria-busy'); socket.close(); }")
    page.wait_for_function("() => document.getElementById('lines').getAttribute('aria-busy') === 'false'")
    say(page, "One more thing about the letters")
    lines = page.locator("#lines li").all_text_contents()
    assert lines == [*stored, "You: One more thing about the letters",
                     f"{name}: You said: One more thing about the letters"]
    assert lines == stored_lines(settings, name)


def test_lines_said_before_the_history_arrives_are_not_doubled(page: Page, live_server: str,
                                                               settings: Settings) -> None:
    name = first_boot(page, live_server)
    say(page, SAID)
    held: list[Any] = []
    page.route("**/api/history*", lambda route: held.append(route))  # the history is slow to come: the user talks first
    page.reload()
    page.locator("#reply").filter(has_text="Theodore").wait_for()
    page.wait_for_function("() => !document.getElementById('send').disabled")
    open_drawer(page)
    say(page, "Are you still there?")
    assert held, "the page did not ask for the history"
    for route in held:
        route.continue_()
    page.wait_for_function("() => document.getElementById('lines').getAttribute('aria-busy') === 'false'")
    assert page.locator("#lines li").all_text_contents() == stored_lines(settings, name)


def test_a_long_transcript_keeps_its_close_button_in_view(page: Page, live_server: str, fake: FakeLLM) -> None:
    first_boot(page, live_server)
    fake.delay = 0
    for part in range(4):
        fake.enqueue(STORY)
        say(page, f"Tell me more, part {part}")
    open_drawer(page)
    assert page.evaluate("() => document.getElementById('lines').getBoundingClientRect().height > innerHeight")
    assert in_view(page, "#lines li:last-child")  # it opens on the newest lines
    assert whole(page, "#close")  # and its head stays in view
    say(page, "And the ending?")  # it follows the conversation while open
    assert in_view(page, "#lines li:last-child") and whole(page, "#close")
    page.locator("#close").click()
    page.locator("#drawer").wait_for(state="hidden")


@pytest.mark.parametrize("browser_options", [{}, PHONE], ids=["desktop", "phone"])
def test_a_long_reply_stays_readable(page: Page, live_server: str, fake: FakeLLM) -> None:
    first_boot(page, live_server)
    fake.delay = 0.005
    fake.enqueue(STORY)
    say(page, "Tell me a long story")
    assert page.locator("#reply").text_content() == STORY
    assert whole(page, "#presence") and orb_problem(page) == ""  # the orb is not cut off
    assert shown(page, "#reply", "last")  # the end of the reply is in view, above the input bar
    assert whole(page, "#talk")
    assert shown(page, "#reply", "first")  # and its beginning can be scrolled back to
    assert whole(page, "#presence") and orb_problem(page) == "" and whole(page, "#talk")
    assert overflowing(page) == []


def test_a_long_paste_is_sent_whole_and_the_notice_shown(page: Page, live_server: str, settings: Settings) -> None:
    first_boot(page, live_server)
    pasted = " ".join(f"word{i}" for i in range(5000))  # 43,890 characters
    box = page.locator("#text")
    box.fill(pasted)
    assert box.input_value() == pasted  # nothing cut
    page.keyboard.press("Enter")
    page.locator("#status").filter(has_text="Your message is long (").wait_for()  # the model reads only the start
    assert box.input_value() == ""
    page.wait_for_function("() => !document.getElementById('send').disabled")
    assert ("user", pasted, "complete") in turns(settings.db_path)


FRAME = '{"v":1,"type":"say","text":""}'
"""A `say` frame around empty text: the bytes the page adds to what it sends."""


def test_a_message_too_long_to_send_stays_in_the_box(page: Page, live_server: str, settings: Settings) -> None:
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    first_boot(page, live_server)
    box = page.locator("#text")
    limit = 64 * 1024 - len(FRAME)  # the most text bytes one frame carries
    over = "é" * (limit // 2 + 1)  # fewer characters than bytes: the page counts what goes on the wire
    box.fill(over)
    page.locator("#status").filter(has_text="too long").wait_for()  # said before anything is sent
    says = sum('"say"' in frame for frame in sent)
    page.keyboard.press("Enter")
    page.locator("#send").click()
    assert box.input_value() == over  # kept, every character
    assert "too long" in (page.locator("#status").text_content() or "")
    assert sum('"say"' in frame for frame in sent) == says and not any(over in t for _, t, _ in turns(settings.db_path))

    fits = "é" * (limit // 2 - 1) + "ab"  # exactly 64 KiB on the wire
    box.fill(fits)
    page.wait_for_function("() => !document.getElementById('status').textContent.includes('too long')")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('send').disabled && "
                           "document.getElementById('text').value === ''")
    assert ("user", fits, "complete") in turns(settings.db_path)
    assert sum('"say"' in frame for frame in sent) == says + 1  # the one that fits, and only that
    assert not any(over in text for _, text, _ in turns(settings.db_path))


def test_the_context_drawer_shows_what_the_model_read(page: Page, live_server: str, fake: FakeLLM) -> None:
    sent: list[str] = []
    received: list[str] = []
    sockets: list[Any] = []

    def watch(ws: Any) -> None:
        sockets.append(ws)
        ws.on("framesent", lambda frame: sent.append(str(frame)))
        ws.on("framereceived", lambda frame: received.append(str(frame)))

    page.on("websocket", watch)
    name = first_boot(page, live_server)
    fake.delay = 0
    say(page, SAID)
    open_drawer(page)
    assert page.locator("#context").is_hidden()  # hidden by default, and never asked for
    assert not any('"debug"' in frame for frame in sent) and not any('"context"' in f for f in received)

    page.get_by_role("button", name="context").click()
    page.locator("#context").wait_for(state="visible")
    assert page.locator("#lines").is_hidden()
    say(page, "What did I say about letters?")
    page.locator("#context .message").first.wait_for()
    model_read = fake.calls[-1]
    messages = page.locator("#context .message")
    assert messages.count() == len(model_read)
    assert [messages.nth(i).locator(".content").inner_text() for i in range(len(model_read))] == [
        m.content for m in model_read]
    roles = page.locator("#context .message .role").all_text_contents()
    assert roles[0] == "system · prompt" and roles[-2] == "system · note" and roles[-1] == "user · now"
    assert "user · history" in roles and f"assistant · history ({name})" in roles
    assert any(SAID in m.content for m in model_read[1:-2])  # the history the model read is on the page
    assert in_view(page, "#context .message:last-child") and whole(page, "#close")

    with sockets[-1].expect_event("framesent", lambda frame: '"debug"' in str(frame)) as off:
        page.get_by_role("button", name="context").click()  # off: the transcript again, and no more contexts
    assert '"context":false' in str(off.value)
    page.locator("#lines").wait_for(state="visible")
    assert page.locator("#context").is_hidden()


def test_debug_in_the_address_opens_the_context(page: Page, live_server: str, fake: FakeLLM) -> None:
    first_boot(page, live_server)
    page.goto(live_server + "/?debug")
    page.locator("#context").wait_for(state="visible")
    fake.delay = 0
    page.locator("#text").fill("Hello again")
    page.keyboard.press("Enter")
    page.locator("#context .message .content").last.filter(has_text="Hello again").wait_for()
    page.locator("#reply").filter(has_text="You said: Hello again").wait_for()  # the model has been called
    assert page.locator("#context .message").count() == len(fake.calls[-1])


def test_a_line_the_server_refuses_is_marked_not_sent(page: Page, live_server: str, settings: Settings) -> None:
    first_boot(page, live_server)
    before = turns(settings.db_path)
    page.locator("#text").fill("\x00\x00")  # nothing left once cleaned: the server refuses it with an error
    page.keyboard.press("Enter")
    page.locator("#lines li.unsent").wait_for(state="attached")
    assert "empty" in (page.locator("#status").text_content() or "") and page.locator("#send").is_enabled()
    assert turns(settings.db_path) == before
    say(page, SAID)  # the next line is stored and shown as usual
    assert page.locator("#lines li.unsent").count() == 1
    assert page.locator("#lines li:not(.unsent)").all_text_contents()[-2] == f"You: {SAID}"
    assert turns(settings.db_path)[-2] == ("user", SAID, "complete")


def test_the_page_sends_what_is_typed_as_drafts_at_most_twice_a_second(page: Page, live_server: str) -> None:
    """The OS may read a line as it is typed (`draft`); drafts must never crowd out the line itself (the
    socket takes 20 messages a second), however fast the typing."""
    sent: list[tuple[float, dict[str, str]]] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append((time.monotonic(),
                                                                                 json.loads(str(frame))))))
    first_boot(page, live_server)
    sent.clear()
    line = "My friend Amy is coming over tonight and I want to cook something nice for her, any ideas?"
    page.locator("#text").press_sequentially(line)  # 18 words at once: far faster than anyone types
    page.wait_for_timeout(700)  # the last word's pause
    drafts = [(at, event["text"]) for at, event in sent if event["type"] == "draft"]
    assert drafts and all(line.startswith(text) for _, text in drafts)
    assert drafts[-1][1] == line  # after the pause, all of it
    assert all(b[0] - a[0] >= 0.45 for a, b in itertools.pairwise(drafts))
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('send').disabled "
                           "&& document.querySelectorAll('#lines li').length >= 2")
    assert [e["text"] for _, e in sent if e["type"] == "say"] == [line]
    assert sum(e["type"] == "draft" for _, e in sent) == len(drafts)  # none once the line is sent
