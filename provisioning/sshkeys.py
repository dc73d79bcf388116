"""Each device's SSH host key, made at provisioning time so IT can trust it before first boot."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


class _Writes(Protocol):
    written: list[Path]


@dataclass(frozen=True)
class HostKey:
    private_openssh: str = field(repr=False)
    public_line: str

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -lf`` prints it: SHA256:<base64 without padding>."""
        blob = base64.b64decode(self.public_line.split()[1])
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_or_create(path: Path, result: _Writes) -> HostKey:
    """The key stored at ``path`` (0600), made on first use; kept on every later run."""
    from provisioning.provision import write_file

    if path.exists():
        # Kept byte for byte: OpenSSH's format has a random check word, so re-encoding the
        # same key would change the card's files on every run.
        private = path.read_text()
        key = serialization.load_ssh_private_key(private.encode(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path}: not an ed25519 key")
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    public_line = f"{public} root@{path.name.removesuffix('_ed25519')}"
    write_file(path, private, 0o600, result)  # type: ignore[arg-type]
    return HostKey(private, public_line)
