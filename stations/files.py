"""Writing generated files the way secrets and device configs need: atomically, with the
mode set before the first byte, and only when the content changed (so a re-run rewrites
nothing and the broker or device sees no spurious change); and leaving nothing behind when a
command fails (:func:`undo_on_failure`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_if_changed(path: Path, data: bytes | str, mode: int) -> bool:
    """Write ``data`` to ``path`` with ``mode``; True if written, False if already there."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_bytes() == content:
            if (path.stat().st_mode & 0o777) != mode:
                path.chmod(mode)
            return False
    except FileNotFoundError:
        pass
    write_atomically(path, content, mode)
    return True


def write_atomically(path: Path, content: bytes, mode: int) -> None:
    """Replace ``path`` with ``content``, whole or not at all (even through a power cut),
    through a temporary file of this writer's own: two writers of one file never rename each
    other's half-written copy."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: SQLite's files beside a database (write-ahead log, shared memory, rollback journal).
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


@contextmanager
def undo_on_failure(*paths: Path, sqlite: bool = False) -> Iterator[None]:
    """Remove those of ``paths`` (files or folders) that did not exist before the block, if
    it fails: a failed command leaves nothing behind. ``sqlite`` also removes a database's
    sidecar files."""
    targets = [Path(p) for p in paths]
    if sqlite:
        targets += [Path(f"{p}{suffix}") for p in paths for suffix in SQLITE_SIDECARS]
    new = [top for top in map(_topmost_missing, targets) if top is not None]
    try:
        yield
    except BaseException:
        for path in new:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def _topmost_missing(path: Path) -> Path | None:
    """The outermost folder (or the file) a command would create to write ``path``."""
    missing = None
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing = candidate
    return missing
