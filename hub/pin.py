"""The teacher's PIN and the console's passwords: hashed with scrypt, kept as one PHC-style
string, never in plain text.

``stations teacher pin`` asks for a PIN twice and prints the line for the hub's config
(``[display] teacher_pin_hash``) or the inventory (``[rooms.hub] teacher_pin_hash``);
``stations teacher add`` hashes a console password the same way, with more memory
(:data:`PASSWORD_LOG2_N`). The string holds the parameters, so a hash made with stronger
ones later still verifies:

    $scrypt$ln=15,r=8,p=1$<salt, base64>$<key, base64>

scrypt comes from ``cryptography`` (OpenSSL's), which the project already needs for TLS and
which ships arm64 wheels. A PIN has few digits, so the hash alone would not hold against
someone who copied the file; the config is mode 0640 root:stations and the keypad pauses
after a few wrong tries (:mod:`hub.teacher`).
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

#: 2**15 blocks of 1 KiB (r=8): 32 MiB and about 0.07 s on a laptop core, 0.25 s on a Pi 4.
LOG2_N, R, P = 15, 8, 1
#: A console password: 2**17 blocks, 128 MiB (OWASP's scrypt minimum), about 0.3 s on a
#: laptop core and 1 s on a Pi 4; the console checks one at a time.
PASSWORD_LOG2_N = 17
KEY_BYTES = 32
MIN_DIGITS, MAX_DIGITS = 4, 12
_HASH = re.compile(r"^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$"
                   r"([A-Za-z0-9+/]+)$")


def check_pin(pin: str) -> str:
    """The PIN if it is 4-12 digits (what the keypad can type), else ValueError saying why."""
    if not (pin.isascii() and pin.isdigit()):
        raise ValueError("a PIN is digits only: the hub's keypad has no letters")
    if not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        raise ValueError(f"a PIN has {MIN_DIGITS} to {MAX_DIGITS} digits")
    return pin


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _kdf(salt: bytes, log2_n: int, r: int, p: int) -> Scrypt:
    return Scrypt(salt=salt, length=KEY_BYTES, n=2 ** log2_n, r=r, p=p)


def hash_secret(secret: str, *, log2_n: int = LOG2_N) -> str:
    """A new salted scrypt hash of ``secret``, as a PHC-style string."""
    salt = os.urandom(16)
    key = _kdf(salt, log2_n, R, P).derive(secret.encode())
    return f"$scrypt$ln={log2_n},r={R},p={P}${_b64(salt)}${_b64(key)}"


def hash_pin(pin: str, *, log2_n: int = LOG2_N) -> str:
    """A new salted hash of ``pin`` (4-12 digits)."""
    return hash_secret(check_pin(pin), log2_n=log2_n)


def parse_pin_hash(text: str, *, made_by: str = "a PIN hash made by `stations teacher pin`",
                   secret: str = "PIN") -> tuple[int, int, int, bytes, bytes]:
    """(log2 n, r, p, salt, key) of a stored hash, or ValueError saying what is wrong."""
    match = _HASH.match(text)
    if match is None:
        raise ValueError(f"is not {made_by} ($scrypt$ln=…,r=…,p=…$salt$key); never put the "
                         f"{secret} itself here")
    log2_n, r, p = (int(match.group(k)) for k in (1, 2, 3))
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError(f"scrypt parameters ln={log2_n}, r={r}, p={p} are out of range")
    try:
        salt, key = _unb64(match.group(4)), _unb64(match.group(5))
    except binascii.Error as err:
        raise ValueError(f"is not valid base64 ({err})") from None
    if len(salt) < 8 or len(key) != KEY_BYTES:
        raise ValueError("salt or key has the wrong length")
    return log2_n, r, p, salt, key


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` (or any secret hashed here) matches the stored hash (in constant
    time)."""
    log2_n, r, p, salt, key = parse_pin_hash(stored)
    try:
        _kdf(salt, log2_n, r, p).verify(pin.encode(), key)
    except InvalidKey:
        return False
    return True
