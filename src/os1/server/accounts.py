"""Accounts of the multi-user server: names with argon2 password hashes, sign-ins and their CSRF tokens.

Only hashes of secrets are stored: an argon2 hash of each password, a SHA-256 of each sign-in cookie's token
(a stolen database does not sign anyone in). Removing an account removes the user and everything OS1 keeps of
them: every table cascades from `users`, and their full-text index is dropped; a user's id is never given to
anyone else. A new password ends every sign-in of the account. The first account may take over an existing
user (the local user of a machine already in use), keeping its id and so all of its life.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from os1.errors import InputError
from os1.memory.store import Database, now, stamp
from os1.optional import require

SIGN_IN_DAYS = 30
"""How long a sign-in lasts."""
MIN_PASSWORD = 8
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
"""Account names: lower-case letters, digits, `.`, `_` and `-`, at most 32 characters."""


class AccountError(InputError):
    """An account that cannot be made, found or signed in to."""

    code = "input.account"


@dataclass(frozen=True, slots=True)
class Account:
    """One account, as `os1 user list` shows it."""

    name: str
    created: datetime
    signed_in: int
    """How many sign-ins (browsers) are open."""


@dataclass(frozen=True, slots=True)
class UserRef:
    """Who a connection belongs to: a user's id (never reused) and name."""

    user_id: int
    name: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """A signed-in browser."""

    user: str
    """The account's name."""
    csrf: str
    """The token its forms and scripts must send back (`X-CSRF-Token`)."""
    expires: datetime
    user_id: int = 0
    """The account's user id."""


@dataclass(frozen=True, slots=True)
class Life:
    """How much OS1 keeps of a user: what the first account is asked about before it takes it over."""

    turns: int
    memories: int


def digest(secret: str) -> str:
    """The stored form of a random token (SHA-256, hex): tokens are long and random, so no salt is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hasher() -> Any:
    """argon2's password hasher (the `server` extra)."""
    return require("argon2", what="Signing in with accounts", package="argon2-cffi", extra="server").PasswordHasher()


class Accounts:
    """The accounts in one database."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = now) -> None:
        self.db = db
        self.clock = clock
        self._hasher: Any = None
        self._dummy = ""

    @property
    def hasher(self) -> Any:
        if self._hasher is None:
            self._hasher = hasher()
        return self._hasher

    def exist(self) -> bool:
        """Whether there is at least one account (the server then needs sign-in)."""
        return self.db.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None

    def add(self, name: str, password: str, *, password_hash: str | None = None, take_over: str | None = None) -> None:
        """Make an account (a new user, or a password for an existing user's data). `take_over`: the name of a
        user without an account (such as `local`) whose life becomes this account's: same id, so every turn,
        memory, setting and key goes with it. `password_hash`: an argon2 hash already made (bulk set-ups)."""
        name = check_name(name)
        if password_hash is None:
            password_hash = self.hasher.hash(check_password(password))
        with self.db.transaction():
            user_id = self._taken_over(name, take_over) if take_over is not None else self.db.user(name).user_id
            cur = self.db.execute("INSERT OR IGNORE INTO accounts(user_id, password_hash, created_at) VALUES (?,?,?)",
                                  (user_id, password_hash, stamp(self.clock())))
            if cur.rowcount == 0:
                raise AccountError(f"There is already an account '{name}'.")

    def _taken_over(self, name: str, old: str) -> int:
        """Rename the user `old` (who has no account) to `name`; their id."""
        row = self.db.execute("SELECT u.id, a.user_id FROM users u LEFT JOIN accounts a ON a.user_id = u.id "
                              "WHERE u.name = ?", (old,)).fetchone()
        if row is None:
            raise AccountError(f"There is no user '{old}' to take over.")
        if row[1] is not None:
            raise AccountError(f"'{old}' already has an account.")
        if name != old:
            existing = self.db.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
            if existing is not None:
                if self.life(name) != Life(0, 0) or self.db.execute(
                        "SELECT 1 FROM accounts WHERE user_id = ?", (existing[0],)).fetchone():
                    raise AccountError(f"There is already a user '{name}' with a life of their own.",
                                       hint="Choose another name, or make the account without taking over.")
                self.db.execute("DELETE FROM users WHERE id = ?", (existing[0],))
            self.db.execute("UPDATE users SET name = ? WHERE id = ?", (name, row[0]))
        return int(row[0])

    def life(self, name: str) -> Life:
        """How many turns and memory items a user has (none for a name that does not exist)."""
        row = self.db.execute("SELECT (SELECT COUNT(*) FROM turns t WHERE t.user_id = u.id), "
                              "(SELECT COUNT(*) FROM memories m WHERE m.user_id = u.id) FROM users u WHERE u.name = ?",
                              (name,)).fetchone()
        return Life(int(row[0]), int(row[1])) if row else Life(0, 0)

    def has_account(self, name: str) -> bool:
        return self._account_id(name) is not None

    def set_password(self, name: str, password: str) -> int:
        """Give the account a new password and end every one of its sign-ins; how many were ended."""
        password_hash = self.hasher.hash(check_password(password))
        user_id = self._account_id(name)
        if user_id is None:
            raise AccountError(f"There is no account '{name}'.", hint="`os1 user list` shows the accounts.")
        with self.db.transaction():
            self.db.execute("UPDATE accounts SET password_hash = ? WHERE user_id = ?", (password_hash, user_id))
            return self.db.execute("DELETE FROM logins WHERE user_id = ?", (user_id,)).rowcount

    def _account_id(self, name: str) -> int | None:
        row = self.db.execute("SELECT u.id FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.name = ?",
                              (name,)).fetchone()
        return int(row[0]) if row else None

    def remove(self, name: str) -> None:
        """Remove an account with all of its user's conversations, memories, settings and sign-ins."""
        user_id = self._account_id(name)
        if user_id is None:
            raise AccountError(f"There is no account '{name}'.", hint="`os1 user list` shows the accounts.")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(f"DROP TABLE IF EXISTS search_{user_id}")
            self.db.execute("DELETE FROM users WHERE id = ?", (user_id,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def list(self) -> list[Account]:
        """Every account, by name."""
        rows = self.db.execute(
            "SELECT u.name, a.created_at, (SELECT COUNT(*) FROM logins l WHERE l.user_id = u.id AND l.expires_at > ?) "
            "FROM accounts a JOIN users u ON u.id = a.user_id ORDER BY u.name", (stamp(self.clock()),)).fetchall()
        return [Account(str(n), datetime.fromisoformat(str(c)), int(k)) for n, c, k in rows]

    def verify(self, name: str, password: str) -> bool:
        """Whether `password` is the account's. Slow on purpose (argon2), and as slow for a name that does not
        exist, so the time does not tell which names do."""
        from argon2.exceptions import InvalidHashError, VerificationError

        row = self.db.execute("SELECT a.password_hash FROM accounts a JOIN users u ON u.id = a.user_id "
                              "WHERE u.name = ?", (name,)).fetchone()
        if row is None:
            if not self._dummy:
                self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
            stored = self._dummy
        else:
            stored = str(row[0])
        try:
            return bool(self.hasher.verify(stored, password)) and row is not None
        except (VerificationError, InvalidHashError):
            return False

    def sign_in(self, name: str) -> tuple[str, SignIn]:
        """A new sign-in for the account: the cookie's token (kept nowhere but in the browser) and its record."""
        user_id = self._account_id(name)
        if user_id is None:
            raise AccountError(f"There is no account '{name}'.")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        at = self.clock()
        expires = datetime.fromisoformat(stamp(at + timedelta(days=SIGN_IN_DAYS)))
        self.db.execute("DELETE FROM logins WHERE expires_at <= ?", (stamp(at),))
        self.db.execute("INSERT INTO logins(token_hash, user_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
                        (digest(token), user_id, csrf, stamp(at), stamp(expires)))
        return token, SignIn(name, csrf, expires, user_id)

    def signed_in(self, token: str) -> SignIn | None:
        """The sign-in a cookie's token belongs to; None when forged, signed out or expired."""
        if not token or len(token) > 128:
            return None
        row = self.db.execute("SELECT u.name, l.csrf, l.expires_at, u.id FROM logins l "
                              "JOIN users u ON u.id = l.user_id WHERE l.token_hash = ?", (digest(token),)).fetchone()
        if row is None:
            return None
        expires = datetime.fromisoformat(str(row[2]))
        if expires <= self.clock():
            self.sign_out(token)
            return None
        return SignIn(str(row[0]), str(row[1]), expires, int(row[3]))

    def live_sign_ins(self, token_hashes: set[str]) -> set[tuple[str, int]]:
        """Which of these sign-ins (by their token's hash) have not ended: (token hash, user id) of each."""
        hashes, live = sorted(token_hashes), set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            rows = self.db.execute(f"SELECT token_hash, user_id FROM logins WHERE expires_at > ? AND token_hash IN "
                                   f"({','.join('?' * len(chunk))})", (stamp(self.clock()), *chunk)).fetchall()
            live |= {(str(h), int(u)) for h, u in rows}
        return live

    def sign_out(self, token: str) -> None:
        """End one sign-in."""
        self.db.execute("DELETE FROM logins WHERE token_hash = ?", (digest(token),))

    def user(self, user_id: int) -> UserRef | None:
        """The user with this id now (None once removed)."""
        row = self.db.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()
        return UserRef(user_id, str(row[0])) if row else None


def check_password(password: str) -> str:
    """A password long enough, or `AccountError`."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")
    return password


def check_name(name: str) -> str:
    """A valid account name, or `AccountError`."""
    if not NAME.fullmatch(name):
        raise AccountError(f"'{name}' cannot be an account name.",
                           hint="Use lower-case letters, digits, '.', '_' or '-' (at most 32).")
    return name
