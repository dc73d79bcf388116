"""Mosquitto password files: the ``$7$`` PBKDF2-SHA512 hash format that Mosquitto 2 writes.

``mosquitto_passwd`` (2.0) writes ``user:$7$<iterations>$<base64 salt>$<base64 hash>`` with a
12-byte salt, 101 iterations and a 64-byte PBKDF2-HMAC-SHA512 hash; the broker reads the
iteration count from each line. We generate 256-bit random secrets, so the hash's cost does not
protect them; matching ``mosquitto_passwd`` byte for byte keeps the file easy to audit and edit
with Mosquitto's own tool.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path

from stations.errors import ConfigError

ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64


def new_secret() -> str:
    """A random password: 32 bytes, URL-safe base64 (43 characters, no ``:`` or spaces)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str, *, salt: bytes | None = None,
                  iterations: int = ITERATIONS) -> str:
    """The ``$7$`` hash of ``password`` as ``mosquitto_passwd -H sha512-pbkdf2`` writes it."""
    if not password:
        raise ValueError("password must not be empty")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations,
                                 HASH_BYTES)
    return (f"$7${iterations}${base64.b64encode(salt).decode('ascii')}"
            f"${base64.b64encode(digest).decode('ascii')}")


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (constant-time comparison)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        return False
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except (ValueError, binascii.Error):
        return False
    if iterations <= 0 or not expected:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations,
                                 len(expected))
    return hmac.compare_digest(digest, expected)


def check_username(username: str) -> str:
    if not username or ":" in username or any(c.isspace() for c in username):
        raise ValueError(f"username {username!r} must be non-empty, without ':' or spaces")
    return username


def format_password_file(entries: Mapping[str, str]) -> str:
    """Lines ``user:hash``, sorted by user so that regenerating gives a stable diff."""
    return "".join(f"{check_username(user)}:{entries[user]}\n" for user in sorted(entries))


def parse_password_file(path: Path) -> dict[str, str]:
    """Read ``user:hash`` lines; an absent file is empty. Blank lines and ``#`` comments skip."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, None, f"password file cannot be read ({err})") from err
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        user, sep, encoded = line.partition(":")
        if not sep or not user or not encoded.startswith("$"):
            raise ConfigError(path, f"line {number}", "not a 'user:$7$...' password line")
        entries[user] = encoded
    return entries
