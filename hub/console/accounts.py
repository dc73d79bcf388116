"""Teacher accounts for the console: a small TOML file of names and scrypt password hashes.

    # /etc/stations/teachers.toml (root:stations 0640), written by `stations teacher add`
    [[teachers]]
    name = "ms-garcia"
    password_hash = "$scrypt$ln=17,r=8,p=1$…$…"

The file holds no password, only hashes (:mod:`hub.pin`); ``stations teacher add NAME`` asks
for a password twice and adds or replaces the account, ``stations teacher remove NAME``
takes it away, and the provisioning inventory writes the same file from its ``teachers``
list (hashes made by ``stations teacher hash``). The hub reads the file again when it
changes, so an account added while the hub runs can sign in at once; a removed one can no
longer sign in (its open sessions end at their next request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hub.pin import PASSWORD_LOG2_N, hash_secret, parse_pin_hash, verify_pin
from stations import tomlwriter
from stations.errors import ConfigError
from stations.files import write_if_changed
from stations.tomlconfig import Section, load_toml

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
#: Readable by the hub's group, never by everyone: it holds hashes.
FILE_MODE = 0o640
HASH_MADE_BY = "a password hash made by `stations teacher add` or `stations teacher hash`"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    password_hash: str


def check_name(name: str) -> str:
    """The account name if it is 1-32 lower-case letters, digits, '.', '_' or '-'."""
    if not NAME_RE.match(name):
        raise ValueError(f"{name!r} is not an account name: 1-32 lower-case letters, digits, "
                         "'.', '_' or '-', starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    """The password if it is long enough to stand for a teacher's access to children's data."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a console password has at least {MIN_PASSWORD} characters "
                         "(a short sentence is easy to remember)")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a console password has at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str, *, log2_n: int = PASSWORD_LOG2_N) -> str:
    return hash_secret(check_password(password), log2_n=log2_n)


def verify_password(password: str, stored: str) -> bool:
    return len(password) <= MAX_PASSWORD and verify_pin(password, stored)


def check_hash(text: str) -> str:
    parse_pin_hash(text, made_by=HASH_MADE_BY, secret="password")
    return text


def account_problem(name: str, stored: str) -> tuple[str, str] | None:
    """(key, problem) of an account entry that is wrong (its name or its hash), or None."""
    try:
        check_name(name)
    except ValueError as err:
        return "name", str(err)
    try:
        check_hash(stored)
    except ValueError as err:
        return "password_hash", str(err)
    return None


def read_accounts(path: Path) -> dict[str, Account]:
    """The accounts in ``path`` (none if the file does not exist); ConfigError on a mistake."""
    if not path.exists():
        return {}
    root = Section(path, load_toml(path))
    accounts: dict[str, Account] = {}
    for t in root.tables("teachers", required=False):
        name, stored = t.get("name", str), t.get("password_hash", str)
        problem = account_problem(name, stored)
        if problem is not None:
            raise t.error(*problem)
        if name in accounts:
            raise t.error("name", f"account {name!r} is listed twice")
        accounts[name] = Account(name, stored)
    root.check_unknown()
    return accounts


def render_accounts(accounts: dict[str, Account]) -> str:
    data = {"teachers": [{"name": a.name, "password_hash": a.password_hash}
                         for a in sorted(accounts.values(), key=lambda a: a.name)]}
    return tomlwriter.dumps(data, "Teacher accounts of the hub's console: names and scrypt "
                                  "password hashes, never a password.\nWritten by `stations "
                                  "teacher add` / `remove` (or provisioning).")


def write_accounts(path: Path, accounts: dict[str, Account]) -> None:
    write_if_changed(path, render_accounts(accounts), FILE_MODE)


class AccountBook:
    """The accounts file as the hub sees it: read again whenever it changes on disk.

    A file made unreadable or broken while the hub runs keeps the accounts last read (and
    says so in the log through the caller) rather than locking every teacher out.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self.problem = ""
        self.refresh()

    def refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp and self._stamp is not None:
            return
        try:
            self._accounts = read_accounts(self.path)
            self.problem = ""
        except ConfigError as err:
            self.problem = str(err)
        self._stamp = stamp

    def get(self, name: str) -> Account | None:
        self.refresh()
        return self._accounts.get(name)

    def names(self) -> list[str]:
        self.refresh()
        return sorted(self._accounts)
