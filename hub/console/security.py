"""Sign-in state for the console, pure (``now`` passed in): sessions, the login throttle,
CSRF tokens and the opaque handles that stand for students in URLs and forms.

- **Sessions** live in the hub's memory, keyed by a SHA-256 of a 256-bit random token (the
  cookie holds the token). A session ends after ``idle_s`` without a request, after
  ``max_s`` whatever happens, at sign-out, and when the hub restarts (a teacher signs in
  again: nothing of a child's is in a session, so nothing is lost).
- **CSRF**: every session has its own random token; every change (a form's hidden field or
  the ``X-CSRF-Token`` header of a ``fetch``) must carry it, compared in constant time.
- **Login throttle**: per account, :data:`ACCOUNT_FREE` wrong passwords in a row lock it
  for :data:`ACCOUNT_LOCK_S`, twice as long after each further one (at most
  :data:`ACCOUNT_LOCK_MAX_S`); per client address, :data:`ADDRESS_FREE` wrong passwords
  within :data:`ADDRESS_WINDOW_S` block that address for :data:`ADDRESS_BLOCK_S`, so one
  laptop cannot walk through every account. A locked account or blocked address is refused
  before any password is checked.
- **Handles**: a student appears in a URL or a form as a per-session HMAC of their id, so
  no pseudonymous id (still a persistent identifier of a child) reaches an address bar,
  browser history or a log, and a handle means nothing in another session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

ACCOUNT_FREE = 5
ACCOUNT_LOCK_S = 60.0
ACCOUNT_LOCK_MAX_S = 3600.0
ADDRESS_FREE = 20
ADDRESS_WINDOW_S = 900.0
ADDRESS_BLOCK_S = 900.0
HANDLE_CHARS = 16


@dataclass
class Session:
    account: str
    created: float
    seen: float
    csrf: str
    handle_key: bytes = field(repr=False)
    #: The console shows the teacher view (flags, the teacher's group names) on this
    #: device; off at first, since the laptop may be on the projector.
    teacher_view: bool = False
    #: This session opened the teacher view on the hub's display until then.
    unlocked_display_until: float = 0.0
    #: What the next page tells the teacher: (kind, text), kind "ok" or "error".
    notes: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, student_id: str) -> str:
        return hmac.new(self.handle_key, student_id.encode(), hashlib.sha256).hexdigest()[
            :HANDLE_CHARS]

    def resolve(self, handle: str, student_ids: Iterable[str]) -> str | None:
        """The student whose handle this is, among ``student_ids``; None if none."""
        for sid in student_ids:
            if hmac.compare_digest(self.handle(sid), handle):
                return sid
        return None

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), (token or "").encode())


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, idle_s: float, max_s: float) -> None:
        self.idle_s, self.max_s = idle_s, max_s
        self._by_key: dict[str, Session] = {}

    def create(self, account: str, now: float) -> tuple[str, Session]:
        """A new session; returns (the cookie's token, the session)."""
        self.expire(now)
        token = secrets.token_urlsafe(32)
        session = Session(account, now, now, secrets.token_urlsafe(32), secrets.token_bytes(32))
        self._by_key[_key(token)] = session
        return token, session

    def get(self, token: str | None, now: float) -> Session | None:
        """The live session for a cookie's token (its idle clock restarts), else None."""
        if not token:
            return None
        key = _key(token)
        session = self._by_key.get(key)
        if session is None:
            return None
        if now - session.seen > self.idle_s or now - session.created > self.max_s:
            del self._by_key[key]
            return None
        session.seen = now
        return session

    def end(self, token: str | None) -> Session | None:
        return self._by_key.pop(_key(token), None) if token else None

    def end_account(self, account: str) -> int:
        """End every session of an account (removed from the accounts file)."""
        keys = [k for k, s in self._by_key.items() if s.account == account]
        for k in keys:
            del self._by_key[k]
        return len(keys)

    def expire(self, now: float) -> None:
        for k, s in list(self._by_key.items()):
            if now - s.seen > self.idle_s or now - s.created > self.max_s:
                del self._by_key[k]

    def __len__(self) -> int:
        return len(self._by_key)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    times: list[float] = field(default_factory=list)


class LoginThrottle:
    """Who may try a password now. Unknown account names are counted like known ones, so
    the answers never tell which names exist."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Failures] = {}
        self._addresses: dict[str, _Failures] = {}

    def refused_until(self, account: str, address: str, now: float) -> float:
        """0 if a password may be checked now, else until when this try is refused."""
        a = self._accounts.get(account)
        b = self._addresses.get(address)
        until = max(a.locked_until if a else 0.0, b.locked_until if b else 0.0)
        return until if until > now else 0.0

    def failed(self, account: str, address: str, now: float) -> float:
        """Count a wrong password; returns until when the account or address is now locked
        (0 if not)."""
        a = self._accounts.setdefault(account, _Failures())
        a.count += 1
        if a.count >= ACCOUNT_FREE:
            a.locked_until = now + min(ACCOUNT_LOCK_MAX_S,
                                       ACCOUNT_LOCK_S * 2 ** (a.count - ACCOUNT_FREE))
        b = self._addresses.setdefault(address, _Failures())
        b.times = [t for t in b.times if now - t < ADDRESS_WINDOW_S] + [now]
        if len(b.times) >= ADDRESS_FREE:
            b.locked_until, b.times = now + ADDRESS_BLOCK_S, []
        self._forget(now)
        return self.refused_until(account, address, now)

    def succeeded(self, account: str) -> None:
        self._accounts.pop(account, None)

    def _forget(self, now: float) -> None:
        """Drop records nobody needs, so a flood of made-up names cannot fill the memory."""
        if len(self._accounts) + len(self._addresses) < 10_000:
            return
        for table in (self._accounts, self._addresses):
            for k, f in list(table.items()):
                if f.locked_until <= now and not [t for t in f.times
                                                  if now - t < ADDRESS_WINDOW_S]:
                    del table[k]
