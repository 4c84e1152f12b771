"""The memory and settings pages in a real browser on a phone-sized screen: Debian's Chromium, driven by
Playwright, against uvicorn (with the gate's CSRF cookie) and a scripted model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from tests.db_helpers import rows
from tests.test_server_pages import plugin_voice, seed

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ["tests.browser_fixtures"]

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser_options() -> dict[str, Any]:
    return PHONE


@pytest.fixture
def a_voice(register_plugin: Any) -> str:
    return plugin_voice(register_plugin)


@pytest.fixture
def app_kwargs(settings: Settings) -> dict[str, Any]:
    """The user has finished first boot and said a few things before the server starts (on a thread of its own:
    Playwright's event loop is running on this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(seed, settings).result()
    return {}


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]  # type: ignore[index]


def test_the_memory_page_lists_edits_and_forgets(page: Page, live_server: str, settings: Settings) -> None:
    page.goto(f"{live_server}/memory")
    page.locator(".item .text", has_text="Theodore lives in Lisbon.").wait_for()
    assert page.locator("#groups h3").all_text_contents() == ["People", "About you", "What you like"]
    assert page.locator("#words li .text").first.text_content() == "Peak — Theodore's gym"
    fits_the_screen(page)

    page.fill("#filter", "lisbon")
    assert page.locator("#groups .item").count() == 1
    page.fill("#filter", "")

    page.locator(".item", has_text="Theodore lives in Lisbon.").get_by_role("button", name="edit").click()
    page.locator(".item textarea").fill("Theodore lives in Porto.")
    page.get_by_role("button", name="Save").click()
    page.locator(".item .text", has_text="Theodore lives in Porto.").wait_for()

    climbing = page.locator(".item", has_text="Theodore loves rock climbing.")
    climbing.get_by_role("button", name="forget").click()
    climbing.get_by_role("button", name="keep it").click()  # changed their mind: nothing happens
    climbing.get_by_role("button", name="forget").click()
    climbing.get_by_role("button", name="Forget", exact=True).click()
    page.locator("#status", has_text="Forgotten: 1 memory, 2 lines of our conversations.").wait_for()
    assert page.locator(".item", has_text="climbing").count() == 0

    page.fill("#topic", "Catherine")
    page.get_by_role("button", name="Forget…").click()
    page.get_by_role("button", name="Yes, forget it").click()
    page.locator("#forget-status", has_text="Forgotten:").wait_for()
    assert page.locator(".item", has_text="Catherine").count() == 0

    page.fill("#term", "Cocoa")
    page.fill("#meaning", "my car")
    page.get_by_role("button", name="Teach me").click()
    page.locator("#words li", has_text="Cocoa — my car").wait_for()
    fits_the_screen(page)
    assert rows(settings.db_path, "SELECT count(*) FROM turns WHERE text LIKE '%Catherine%' "
                                  "OR text LIKE '%climbing%'") == [(0,)]


def test_the_settings_page_renames_and_chooses_voice_and_model(page: Page, live_server: str, settings: Settings,
                                                               a_voice: str) -> None:
    page.goto(f"{live_server}/settings")
    page.locator("#model-current", has_text="fake").wait_for()  # the settings have arrived
    fits_the_screen(page)
    page.fill("#name-input", "Juniper")
    page.get_by_role("button", name="Call me that").click()
    page.locator("#name-status", has_text="From now on, I'm Juniper.").wait_for()

    page.get_by_label("A voice from a plugin").check()
    page.get_by_role("button", name="Use this voice").click()
    page.locator("#voice-status", has_text="I'll speak with that voice.").wait_for()

    page.fill("#model-input", "fake")
    page.get_by_role("button", name="Change").click()
    page.locator("#model-status", has_text="Now I think with fake.").wait_for()
    fits_the_screen(page)
    profile = dict(rows(settings.db_path, "SELECT key, value FROM profile"))
    assert profile["os.name"] == "Juniper" and profile["settings.voice"] == a_voice
