"""The web page in a real browser: Debian's Chromium, driven by Playwright, against uvicorn and a scripted model.

The test run saves docs/screenshot.png and docs/screenshot-phone.png (the README's pictures of the page).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from os1.persona import choose_name
from os1.testing import FakeLLM
from tests.browser_helpers import answer_first_boot, save_screenshot
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


def in_view(page: Page, selector: str) -> bool:
    """Whether the element is inside the viewport, top to bottom."""
    inside: bool = page.eval_on_selector(selector, """(el) => {
        const box = el.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
    }""")
    return inside


def overflowing(page: Page) -> list[Any]:
    """The visible elements that reach outside the viewport's width, and whether the page scrolls sideways."""
    found: list[Any] = page.evaluate("""() => {
        const root = document.documentElement, width = root.clientWidth, out = [];
        if (root.scrollWidth > width) out.push(['page scrolls', root.scrollWidth]);
        for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect(), name = el.id || el.tagName;
            if (box.width && (box.left < -0.5 || box.right > width + 0.5)) out.push([name, box.left, box.right]);
            if (el.scrollWidth > el.clientWidth + 1) out.push([name, 'cuts', el.scrollWidth, el.clientWidth]);
        }
        return out;
    }""")
    return found


def test_stop_interrupts_a_reply(page: Page, live_server: str, fake: FakeLLM, settings: Settings) -> None:
    first_boot(page, live_server)
    fake.delay = 0.2
    fake.enqueue(" ".join(["and"] * 100) + " never finished")
    page.locator("#text").fill("Tell me everything")
    page.keyboard.press("Enter")
    page.locator("#reply").filter(has_text="and and").wait_for()
    page.locator("#stop").click()
    page.locator("#lines li.interrupted").wait_for(state="attached")
    assert page.locator("#stop").is_hidden() and page.locator("#send").is_enabled()
    shown = page.locator("#reply").text_content() or ""
    assert shown.startswith("and and") and "never finished" not in shown
    assert turns(settings.db_path)[-1] == ("assistant", shown, "interrupted")
