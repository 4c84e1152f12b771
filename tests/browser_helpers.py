"""Driving Debian's Chromium with Playwright in tests: its switches, a fake microphone, and what went wrong on a page.

The fixtures are in `tests.browser_fixtures`; this module holds what test files import (a plugin module imported
before pytest registers it could not have its asserts rewritten).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

CHROMIUM = Path("/usr/lib/chromium/chromium")
"""Debian's Chromium binary (/usr/bin/chromium is a shell wrapper around it)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
"""Switches for a headless Chromium on a closed network (without them it keeps trying to reach Google)."""
TIMEOUT_MS = 20_000
"""How long one wait for the page may take on a loaded 2-core box before the test fails."""


def fake_microphone(wav: Path) -> list[str]:
    """Chromium switches that grant the microphone and feed it `wav` once (not in a loop)."""
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}%noloop"]


def missing(what: str) -> None:
    """A browser prerequisite is absent: fail under CI (the tests must run there), skip on a developer machine."""
    message = f"the browser tests need {what}; `make test` installs it"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class PageProblems:
    """What went wrong on a page: console errors and warnings (CSP violations among them), uncaught exceptions,
    failed requests and error responses."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Start recording `page`'s problems."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.seen.append(f"console {message.type}: {message.text} ({message.location.get('url', '')})")

    def _failed(self, request: Request) -> None:
        self.seen.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.seen.append(f"HTTP {response.status}: {response.request.method} {response.url}")


def save_screenshot(page: Page, path: Path) -> bool:
    """Save a screenshot of `page` (animations stopped) to `path`, unless the picture there looks the same.

    Chromium's software raster draws the odd anti-aliased edge pixel a shade differently from run to run, so a
    committed screenshot is rewritten only when the page really looks different; returns whether it was."""
    png = page.screenshot(animations="disabled")
    if path.is_file() and _looks_same(page.context, path.read_bytes(), png):
        return False
    path.write_bytes(png)
    return True


_COMPARE = """async ([a, b]) => {
    const pixels = async (png) => {
        const image = new Image();
        image.src = 'data:image/png;base64,' + png;
        await image.decode();
        const canvas = new OffscreenCanvas(image.width, image.height), context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        return [image.width, image.height, context.getImageData(0, 0, image.width, image.height).data];
    };
    const [[wa, ha, da], [wb, hb, db]] = await Promise.all([pixels(a), pixels(b)]);
    if (wa !== wb || ha !== hb) return false;
    let differ = 0;
    for (let i = 0; i < da.length; i++) {
        const d = Math.abs(da[i] - db[i]);
        if (d > 24 || (d && ++differ > 200)) return false;
    }
    return true;
}"""


def _looks_same(context: BrowserContext, a: bytes, b: bytes) -> bool:
    """Whether two PNGs differ at most in a few faint pixels (compared in a blank tab of the same browser)."""
    if a == b:
        return True
    tab = context.new_page()
    try:
        same: bool = tab.evaluate(_COMPARE, [base64.b64encode(a).decode(), base64.b64encode(b).decode()])
    finally:
        tab.close()
    return same


def answer_first_boot(page: Page) -> None:
    """Answer first boot's questions on an open page by typing each one, and wait for the OS's greeting."""
    from tests.server_helpers import ANSWERS

    prompt = page.locator("#prompt")
    prompt.filter(has_text="what should it call you?").wait_for()
    for answer in ANSWERS:
        before = prompt.text_content()
        page.locator("#text").fill(answer)
        page.keyboard.press("Enter")
        page.wait_for_function("(before) => document.getElementById('prompt').textContent !== before", arg=before)
    page.locator("#reply").filter(has_text="So, how are you?").wait_for()
