"""The settings page's "Other apps" card in a real browser (Debian's Chromium driven by Playwright): the key for
the OpenAI-compatible API is shown once, when it is made, and afterwards only said to exist."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx

from os1.config import Settings
from tests.db_helpers import rows

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ["tests.browser_fixtures"]


def test_a_key_is_shown_once_with_copy_and_then_only_said_to_exist(page: Page, live_server: str,
                                                                   settings: Settings) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(f"{live_server}/settings")
    page.locator("#key-state").filter(has_text="no key yet").wait_for()
    assert page.locator("#key-url").text_content() == f"{live_server}/v1"
    assert not page.locator("#key-made").is_visible()
    page.get_by_role("button", name="Make a key").click()
    page.get_by_text("it will not be shown again").wait_for()
    key = page.get_by_label("Your new API key").input_value()
    assert re.fullmatch(r"os1-[A-Za-z0-9_-]{43}", key)
    page.get_by_role("button", name="Copy").click()
    page.locator("#key-status").filter(has_text="Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert httpx.get(f"{live_server}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert rows(settings.db_path, "SELECT COUNT(*) FROM api_keys WHERE hint = ?", (key[:8],)) == [(1,)]

    page.reload()  # the key is never shown again: only that it exists
    page.locator("#key-state").filter(has_text=f"You have a key ({key[:8]}…").wait_for()
    assert not page.locator("#key-made").is_visible()
    assert key not in page.content()

    page.get_by_role("button", name="Make a new key (the old one stops working)").click()
    page.get_by_text("it will not be shown again").wait_for()
    new = page.get_by_label("Your new API key").input_value()
    assert new != key and new.startswith("os1-")
    assert httpx.get(f"{live_server}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert httpx.get(f"{live_server}/v1/models", headers={"Authorization": f"Bearer {new}"}).status_code == 200
