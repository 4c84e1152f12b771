"""Driving Debian's Chromium with Playwright in tests: its switches, a fake microphone, what went wrong on a page,
and what a reader of the page can see (in view, whole, not cut off).

The fixtures are in `tests.browser_fixtures`; this module holds what test files import (a plugin module imported
before pytest registers it could not have its asserts rewritten).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


SHOWN = """([selector, which]) => {
    // Whether the first or last character of `selector`'s text can be seen: inside the viewport, not cut off by
    // an ancestor that clips it, not under something else (the input bar). With `which` 'first', every
    // scrolling ancestor is scrolled to its top first, as a reader scrolling up to the beginning would.
    const el = document.querySelector(selector);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), nodes = [];
    while (walker.nextNode()) if (walker.currentNode.textContent.trim()) nodes.push(walker.currentNode);
    const node = which === 'first' ? nodes[0] : nodes[nodes.length - 1], text = node.textContent;
    if (which === 'first') for (let up = el; up; up = up.parentElement) up.scrollTop = 0;
    const at = which === 'first' ? text.search(/\\S/) : text.trimEnd().length - 1;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    const box = range.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return Boolean(hit && el.contains(hit));
}"""

WHOLE = """(selector) => {
    // Whether the element can be seen whole: five points across it all hit it (nothing clips or covers it).
    const el = document.querySelector(selector), box = el.getBoundingClientRect();
    return box.width > 20 && [[0.5, 0.5], [0.5, 0.2], [0.5, 0.8], [0.2, 0.5], [0.8, 0.5]].every(([x, y]) => {
        const hit = document.elementFromPoint(box.left + x * box.width, box.top + y * box.height);
        return Boolean(hit && el.contains(hit));
    });
}"""


ORB = """() => {
    // What is wrong with the orb, if anything: squashed out of round, or its soft glow cut by a clipping box.
    const presence = document.getElementById('presence'), box = presence.getBoundingClientRect();
    if (box.width < 24 || Math.abs(box.width - box.height) > 1) return `squashed to ${box.width}×${box.height}`;
    const [x = 0, y = 0, blur = 0, spread = 0] = (getComputedStyle(presence.firstElementChild).boxShadow
        .match(/-?[\\d.]+px/g) || []).map(parseFloat);
    const reach = Math.max(Math.abs(x), Math.abs(y)) + blur + spread;
    for (let up = presence.parentElement; up !== document.body; up = up.parentElement) {
        const style = getComputedStyle(up), clip = up.getBoundingClientRect();
        if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
        if (box.top - reach < clip.top || box.bottom + reach > clip.bottom || box.left - reach < clip.left
            || box.right + reach > clip.right) return `its glow is cut by ${up.id || up.tagName}`;
    }
    const viewport = [box.top - reach, innerHeight - box.bottom - reach, box.left, innerWidth - box.right];
    return viewport.every((room) => room >= 0) ? '' : 'it leaves the screen';
}"""


def orb_problem(page: Page) -> str:
    """What cuts or squashes the presence, or '' when it is whole and round (see ORB)."""
    problem: str = page.evaluate(ORB)
    return problem


def shown(page: Page, selector: str, which: str) -> bool:
    """Whether the first or last character of `selector` can be read (see SHOWN)."""
    seen: bool = page.evaluate(SHOWN, [selector, which])
    return seen


def whole(page: Page, selector: str) -> bool:
    """Whether `selector` is seen whole (see WHOLE)."""
    seen: bool = page.evaluate(WHOLE, selector)
    return seen
