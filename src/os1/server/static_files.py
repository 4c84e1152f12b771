"""Where the page's files are, and the headers pages and files are served with."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"
"""The page's files (package data)."""
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
"""Headers of the pages: no cache keeps a page from being shown again after signing out."""
STATIC_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-cache"}
"""Headers of the static files: a browser revalidates them, so an upgraded OS1 is never half old."""
