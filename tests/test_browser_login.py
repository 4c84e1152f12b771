"""Signing in to a server with accounts, in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from os1.memory import Database
from os1.server.accounts import Accounts
from os1.testing import FakeLLM
from tests.browser_helpers import answer_first_boot

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser_helpers import PageProblems

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "a long walk on the beach"


@pytest.fixture
def app_kwargs(settings: Settings) -> dict[str, Any]:
    """A server with two accounts, so everyone must sign in."""
    db = Database(settings.db_path)
    try:
        for name in ("theodore", "amy"):
            Accounts(db).add(name, PASSWORD)
    finally:
        db.close()
    return {"accounts": True}


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM(answers={"letters": "Which letter did you write today?"}, delay=0.02)


def sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url)
    assert page.url.endswith("/login")
    page.get_by_label("name").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="sign in").click()


def test_sign_in_then_talk_then_sign_out(page: Page, live_server: str, page_problems: PageProblems) -> None:
    sign_in(page, live_server, "theodore", "not it at all")
    page.get_by_role("alert").filter(has_text="do not match").wait_for()
    assert page_problems.seen[0] == f"HTTP 401: POST {live_server}/login"  # the refusal, and nothing else
    assert all("401" in problem for problem in page_problems.seen)
    page_problems.seen.clear()
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="sign in").click()
    page.wait_for_url(f"{live_server}/")
    answer_first_boot(page)
    page.locator("#text").fill("I wrote letters all day")
    page.keyboard.press("Enter")
    page.locator("#reply").filter(has_text="Which letter did you write today?").wait_for()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["os1_session"]["httpOnly"] and cookies["os1_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").count("os1_session") == 0  # scripts cannot read the sign-in
    page.goto(f"{live_server}/settings")
    page.locator("#account-name").filter(has_text="theodore").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/")
    assert page.url.endswith("/login")  # signed out for real


def test_another_account_starts_its_own_first_boot(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "amy", PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.locator("#prompt").filter(has_text="what should it call you?").wait_for()
