"""Where the health collector reads the machine: files, commands, disk usage. Injected, so tests
feed Pi-like files and ``vcgencmd`` output; the system sources work on any Linux and answer
``None`` where a Pi file or command is missing."""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence, runtime_checkable

__all__ = [
    "CommandResult",
    "CommandRunner",
    "DiskUsage",
    "FakeCommands",
    "FakeFiles",
    "FileReader",
    "HealthSources",
    "LocalFiles",
    "SubprocessRunner",
]

log = logging.getLogger(__name__)


@runtime_checkable
class FileReader(Protocol):
    def read_text(self, path: str) -> str | None:
        """The file's text, or ``None`` when it does not exist or cannot be read."""

    def exists(self, path: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class CommandResult:
    returncode: int
    stdout: str


@runtime_checkable
class CommandRunner(Protocol):
    def run(self, argv: Sequence[str], timeout_s: float = 2.0) -> CommandResult | None:
        """Run a command; ``None`` when it is not installed or did not finish in time."""


@dataclass(frozen=True, slots=True)
class DiskUsage:
    total_bytes: int
    free_bytes: int


class LocalFiles:
    """Reads the real file system."""

    def read_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return Path(path).exists()


class SubprocessRunner:
    """Runs real commands, never through a shell."""

    def run(self, argv: Sequence[str], timeout_s: float = 2.0) -> CommandResult | None:
        if not argv or shutil.which(argv[0]) is None:
            return None
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.debug("health command %s failed: %r", argv[0], exc)
            return None
        return CommandResult(done.returncode, done.stdout)


def _disk_usage(path: str) -> DiskUsage | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return DiskUsage(usage.total, usage.free)


@dataclass(frozen=True, slots=True)
class HealthSources:
    """The three ways the collector looks at the machine."""

    files: FileReader
    commands: CommandRunner
    disk_usage: Callable[[str], DiskUsage | None] = _disk_usage

    @classmethod
    def system(cls) -> HealthSources:
        return cls(LocalFiles(), SubprocessRunner(), _disk_usage)


# -- fakes for tests and the demo (shipped, like gpiozero's MockFactory) --------------------------


@dataclass
class FakeFiles:
    """Simulated file system (simulator): ``{path: text}``; missing paths read as ``None``."""

    contents: dict[str, str] = field(default_factory=dict)

    def read_text(self, path: str) -> str | None:
        return self.contents.get(path)

    def exists(self, path: str) -> bool:
        return path in self.contents


@dataclass
class FakeCommands:
    """Simulated commands (simulator): ``{"vcgencmd get_throttled": "throttled=0x0\\n"}``.

    A command not listed is "not installed" (``None``). Every call is recorded in ``calls``.
    """

    outputs: Mapping[str, str | CommandResult] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv: Sequence[str], timeout_s: float = 2.0) -> CommandResult | None:
        self.calls.append(tuple(argv))
        out = self.outputs.get(" ".join(argv))
        if out is None:
            return None
        return out if isinstance(out, CommandResult) else CommandResult(0, out)
