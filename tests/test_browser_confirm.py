"""A skill's question on the page, in a real browser: "Shall I …? Yes or no." comes with Yes and No buttons; No
does nothing, Yes does exactly the action named; both are stored as the user's turns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from os1.companion import Companion
from os1.config import Settings
from os1.memory.api import Memory
from os1.memory.store import Database
from os1.skills.base import Done, Skill, SkillContext
from os1.skills.executor import Executor
from os1.skills.router import Router
from os1.testing import FakeLLM
from tests.browser_helpers import TIMEOUT_MS, answer_first_boot, save_screenshot
from tests.db_helpers import turns

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ["tests.browser_fixtures"]

SENT: list[tuple[str, str]] = []


async def _send(context: SkillContext, to: str, body: str) -> Done:
    SENT.append((to, body))
    return Done(f"I sent {to} your message.")


SEND = Skill("send_message", "Send a message for you.", _send, ("(send|text) {to} [a message] saying {body}",),
             effect="acts")


@pytest.fixture
def app_kwargs(fake: FakeLLM) -> dict[str, Any]:
    SENT.clear()

    @contextmanager
    def opener(settings: Settings, user: str) -> Iterator[Companion]:
        db = Database(settings.db_path)
        memory = Memory(db.user(user))
        try:
            yield Companion(db.user(user), fake, memory=memory, flush_seconds=0.05,
                            skills=Executor(Router([SEND])))
        finally:
            memory.close()
            db.close()

    return {"opener": opener}


def ask(page: Page, words: str) -> None:
    page.fill("#text", words)
    page.press("#text", "Enter")


def test_the_page_asks_with_buttons_and_yes_does_exactly_the_action(page: Page, live_server: str,
                                                                    settings: Settings) -> None:
    from playwright.sync_api import expect

    page.goto(live_server)
    answer_first_boot(page)
    confirm = page.locator("#confirm")
    assert confirm.is_hidden()
    ask(page, "text Amy saying I'm running late")
    expect(confirm).to_be_visible(timeout=TIMEOUT_MS)
    reply = page.locator("#reply").text_content() or ""
    assert "Amy" in reply and "running late" in reply and reply.endswith("Yes or no.")
    save_screenshot(page, Path(__file__).resolve().parents[1] / "docs" / "screenshot-confirm.png")
    assert SENT == []
    page.click("#confirm-no")
    expect(page.locator("#reply")).to_have_text("Okay, I won't.", timeout=TIMEOUT_MS)
    assert confirm.is_hidden() and SENT == []
    ask(page, "text Amy saying see you at eight")
    expect(confirm).to_be_visible(timeout=TIMEOUT_MS)
    page.click("#confirm-yes")
    expect(page.locator("#reply")).to_have_text(re.compile("^I sent "), timeout=TIMEOUT_MS)
    assert SENT == [("amy", "see you at eight")] or SENT == [("Amy", "see you at eight")]
    assert confirm.is_hidden()
    said = [text for role, text, *_ in turns(settings.db_path) if role == "user"]
    assert said[-4:] == ["text Amy saying I'm running late", "no", "text Amy saying see you at eight", "yes"]
