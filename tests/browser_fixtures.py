"""Real-browser fixtures: the web app under uvicorn on loopback, and Debian's Chromium driven by Playwright.

Use them with `pytest_plugins = ["tests.browser_fixtures"]` in a test module (helpers to import are in
`tests.browser_helpers`). Override a fixture by name in the module, or per test with `@pytest.mark.parametrize`:

- `fake`: the scripted model (conftest's plain echo by default);
- `app_kwargs`: keywords for `create_app` (accounts, a speech stack, an `opener` …); the default opener wraps `fake`;
- `chromium_args`: extra Chromium switches, e.g. a microphone fed from a WAV file (`fake_microphone(path)`);
- `browser_options`: Playwright context options over a 1280×800 desktop (a phone: viewport, `is_mobile` …).

Chromium comes from Debian (`make deb`) and Playwright from PyPI (the dev extra); no browser is ever downloaded.
Where either is missing the tests fail under CI=true, and are skipped with the reason on a developer machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from os1.config import Settings
from os1.testing import FakeLLM
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, PageProblems, missing
from tests.server_helpers import opener_for, serving

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


@pytest.fixture
def app_kwargs() -> dict[str, Any]:
    """Keywords for `create_app` besides the settings; override to add accounts, a speech stack, an opener."""
    return {}


@pytest.fixture
def live_server(settings: Settings, fake: FakeLLM, app_kwargs: dict[str, Any]) -> Iterator[str]:
    """OS1's web app under uvicorn on a free 127.0.0.1 port, around `fake`; yields the base URL."""
    pytest.importorskip("uvicorn", reason="needs os1[server]")
    from os1.server.app import create_app

    with serving(create_app(settings, **{"opener": opener_for(fake), **app_kwargs})) as url:
        yield url


@pytest.fixture
def chromium_args() -> list[str]:
    """Extra Chromium switches for this test (override or parametrize; see `fake_microphone`)."""
    return []


@pytest.fixture
def browser_options() -> dict[str, Any]:
    """Playwright's browser-context options for this test (a viewport, `is_mobile` …), over a 1280×800 desktop."""
    return {}


@pytest.fixture
def browser(tmp_path: Path, chromium_args: list[str], browser_options: dict[str, Any]) -> Iterator[BrowserContext]:
    """Headless Debian Chromium with a fresh profile in `tmp_path`, driven by Playwright's sync API.

    Playwright starts and stops with each test: while it runs, its event loop counts as this thread's running
    loop, which would break the asyncio tests that run after a session-wide one."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package playwright (the dev extra: pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        missing(f"Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    options = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US", "timezone_id": "UTC", **browser_options}
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_ARGS, *chromium_args], **options)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page_problems() -> PageProblems:
    """The `page` fixture's console errors and failed requests (its teardown asserts there were none)."""
    return PageProblems()


@pytest.fixture
def page(live_server: str, browser: BrowserContext, page_problems: PageProblems) -> Iterator[Page]:
    """A tab of `browser`, not yet opened on `live_server`; it must end with no console error or failed request.

    The server (and whatever `app_kwargs` prepares) starts before Playwright, whose loop then counts as this
    thread's running loop."""
    tab = browser.pages[0] if browser.pages else browser.new_page()
    page_problems.watch(tab)
    yield tab
    assert not page_problems.seen, "the page had problems:\n" + "\n".join(page_problems.seen)
    tab.close()
