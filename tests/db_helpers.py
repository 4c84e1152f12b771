"""Reading a test's database from outside the process under test (a CLI run, a server thread)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """All rows of `sql` (with `params`) on the database file `db`, through a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def turns(db: Path) -> list[tuple[str, str, str]]:
    """Every stored turn as (role, text, status), oldest first."""
    return rows(db, "SELECT role, text, status FROM turns ORDER BY id")
