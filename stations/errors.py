"""Every error the project raises on purpose, in one hierarchy.

Each class also inherits the builtin a caller would naturally catch (the way gpiozero's
``BadPinFactory`` is also an ``ImportError``), and carries structured attributes so a log line
or a screen can say exactly which file, key, station or message was wrong.
"""

from __future__ import annotations

from pathlib import Path


class StationsError(Exception):
    """Base of all project errors."""


class ConfigError(StationsError, ValueError):
    """A configuration file is missing, unreadable or holds a bad value."""

    def __init__(self, path: Path | str, key: str | None, problem: str) -> None:
        self.path = Path(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else str(self.path)
        super().__init__(f"{where}: {problem}")


class ConfigNotFound(StationsError, FileNotFoundError):
    """No config file where one was named or searched for; ``path`` is the named one."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class ContractError(StationsError, ValueError):
    """An MQTT message breaks the topic and payload contract.

    ``reason`` is a short stable code (``malformed``, ``unknown_version``, ``oversized``,
    ``bad_topic``, ``invalid``, ``sender_mismatch``) used to count rejections; the message
    says what exactly was wrong.
    """

    def __init__(self, reason: str, detail: str, topic: str = "") -> None:
        self.reason = reason
        self.detail = detail
        self.topic = topic
        super().__init__(f"{reason}: {detail}" + (f" (topic {topic!r})" if topic else ""))


class BrokerError(StationsError, RuntimeError):
    """The MQTT broker could not be started, reached or used."""


class ReaderError(StationsError, OSError):
    """A badge reader failed: not found, not answering or reporting garbage."""

    def __init__(self, reader: str, problem: str) -> None:
        self.reader = reader
        self.problem = problem
        super().__init__(f"badge reader {reader}: {problem}")


class StoreError(StationsError, RuntimeError):
    """The hub's or station's SQLite store is unusable."""


class DisplayError(StationsError, RuntimeError):
    """The screen cannot be opened: no display device, or a library SDL's driver needs."""

    def __init__(self, driver: str, problems: list[str]) -> None:
        self.driver = driver
        self.problems = list(problems)
        super().__init__(f"cannot open the screen with SDL's {driver} driver: "
                         + "; ".join(self.problems))


class ImageError(StationsError, ValueError):
    """A built SD-card image is missing or is not what a tool needs (``path`` names it)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
