"""Online, consistent backups of a node's data folders, and a verified restore.

A backup copies named *sources* (``{"edge": /var/lib/tillpi/edge, "broker": /var/lib/tillpi/broker}``)
into one new folder under ``dest``::

    <dest>/tillpi-backup-20250101T020000Z/
        manifest.json        every file: source, path, kind, size, mode, SHA-256; for each
                             SQLite database its tables' row counts and integrity check
        edge/ledger.sqlite3  ...
        broker/devices/registry.json ...

SQLite databases (found by their header, whatever their name) are copied with SQLite's online
backup API (``sqlite3.Connection.backup``) in one step: the copy is a consistent snapshot of
one moment, taken while the services keep writing (WAL readers do not block writers). Their
``-wal``/``-shm`` files are not copied (the snapshot holds everything committed). Other files
are copied as they are; logs, pid files and locks are left out. The folder is built under a
temporary name and renamed when complete, so a half-written backup never looks like a backup.

``restore`` goes only into empty (or missing) folders, checks every checksum first, and
afterwards runs ``PRAGMA integrity_check`` and compares row counts with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path
from typing import Any

from retail.clock import Clock, SystemClock
from tillpi_ops.errors import BackupCorruptError, BackupError, RestoreError, RestoreTargetNotEmptyError

__all__ = [
    "BackupEntry",
    "BackupManifest",
    "RestoreReport",
    "backup",
    "is_sqlite",
    "prune_backups",
    "read_manifest",
    "restore",
    "table_counts",
    "verify_backup",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_KIND = "tillpi.backup/1"
PREFIX = "tillpi-backup-"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Files never backed up: SQLite's side files (the snapshot has their content), logs, pids, locks.
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".log", ".pid", ".stderr", ".tmp", ".lock")
_SKIP_NAMES = {".lock"}
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True, slots=True)
class BackupEntry:
    """One file of a backup."""

    source: str
    path: str  # relative to the source folder, with '/'
    kind: str  # "sqlite" | "file"
    size: int
    mode: int
    sha256: str
    tables: dict[str, int] = field(default_factory=dict)
    integrity: str = ""


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """A backup folder and what it holds."""

    folder: Path
    created_at: str
    sources: dict[str, str]
    entries: tuple[BackupEntry, ...]

    def entry(self, source: str, path: str) -> BackupEntry:
        for e in self.entries:
            if e.source == source and e.path == path:
                return e
        raise KeyError(f"{source}/{path}")


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore wrote and checked."""

    targets: dict[str, Path]
    files: int
    databases: dict[str, dict[str, int]]  # "<source>/<path>" -> row counts, as verified


# -- helpers ---------------------------------------------------------------------------------


def is_sqlite(path: Path) -> bool:
    """True if ``path`` starts with SQLite's header."""
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row counts of every table (not SQLite's internal ones)."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: int(conn.execute(f"SELECT COUNT(*) FROM {_quote(name)}").fetchone()[0]) for name in names}


def _check_database(path: Path) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        return ("ok" if rows == ["ok"] else "; ".join(map(str, rows))), table_counts(conn)
    finally:
        conn.close()


def _skipped(path: Path) -> bool:
    return path.name in _SKIP_NAMES or path.name.endswith(_SKIP_SUFFIXES)


def _snapshot_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live database, in one step of SQLite's online backup."""
    source = sqlite3.connect(str(src), timeout=30)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        target = sqlite3.connect(str(dst))
        try:
            source.backup(target, pages=-1)  # all pages in one step: one read transaction, one moment
            target.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone: no -wal beside it
        finally:
            target.close()
    finally:
        source.close()


# -- backup ----------------------------------------------------------------------------------


def backup(sources: Mapping[str, Path | str], dest: Path | str, *, clock: Clock | None = None) -> BackupManifest:
    """Back up each source folder into a new folder under ``dest``; return its manifest.

    Source names become folder names: letters, digits, ``_`` and ``-``. A missing source
    folder is an error (a backup that silently lacks the ledger is worse than none).
    """
    clock = clock or SystemClock()
    dest = Path(dest)
    if not sources:
        raise BackupError("nothing to back up: no sources given")
    resolved: dict[str, Path] = {}
    for name, folder in sources.items():
        if not name or not set(name) <= _NAME_OK:
            raise BackupError(f"source name {name!r} must be letters, digits, _ or -")
        folder = Path(folder)
        if not folder.is_dir():
            raise BackupError(f"source {name}: {folder} is not a folder")
        resolved[name] = folder
    now = clock.now().astimezone(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    final = dest / f"{PREFIX}{stamp}"
    counter = 1
    while final.exists():  # two backups in the same millisecond (a frozen test clock, a fast retry)
        final = dest / f"{PREFIX}{stamp}-{counter}"
        counter += 1
    stamp = final.name.removeprefix(PREFIX)
    partial = dest / f".partial-{PREFIX}{stamp}"
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(mode=0o700)
    entries: list[BackupEntry] = []
    try:
        for name, folder in resolved.items():
            for src in sorted(folder.rglob("*")):
                if src.is_symlink() or not src.is_file() or _skipped(src):
                    continue
                rel = src.relative_to(folder)
                if any(part.startswith(".partial-") for part in rel.parts):
                    continue
                dst = partial / name / rel
                dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                mode = stat.S_IMODE(src.stat().st_mode)
                if is_sqlite(src):
                    _snapshot_sqlite(src, dst)
                    integrity, tables = _check_database(dst)
                    if integrity != "ok":
                        raise BackupError(f"the snapshot of {src} fails its integrity check: {integrity}")
                    kind = "sqlite"
                else:
                    shutil.copyfile(src, dst)
                    integrity, tables, kind = "", {}, "file"
                os.chmod(dst, mode)
                entries.append(BackupEntry(name, rel.as_posix(), kind, dst.stat().st_size, mode, _sha256(dst), tables, integrity))
        manifest = {
            "kind": MANIFEST_KIND,
            "created_at": now.isoformat(timespec="seconds"),
            "sources": {name: str(folder) for name, folder in resolved.items()},
            "entries": [
                {"source": e.source, "path": e.path, "kind": e.kind, "size": e.size, "mode": e.mode,
                 "sha256": e.sha256, "tables": e.tables, "integrity": e.integrity}
                for e in entries
            ],
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _fsync_tree(partial)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.info("backup of %s written to %s (%d files)", ", ".join(resolved), final, len(entries))
    return BackupManifest(final, manifest["created_at"], manifest["sources"], tuple(entries))


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for path in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_manifest(folder: Path | str) -> BackupManifest:
    """The manifest of the backup in ``folder``."""
    folder = Path(folder)
    try:
        data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupCorruptError(f"{folder} has no {MANIFEST}: not a tillpi backup") from None
    except json.JSONDecodeError as exc:
        raise BackupCorruptError(f"{folder}/{MANIFEST} is not valid JSON: {exc}") from None
    if data.get("kind") != MANIFEST_KIND:
        raise BackupCorruptError(f"{folder}/{MANIFEST} is not a {MANIFEST_KIND} manifest")
    entries = tuple(
        BackupEntry(e["source"], e["path"], e["kind"], int(e["size"]), int(e["mode"]), e["sha256"],
                    {k: int(v) for k, v in e.get("tables", {}).items()}, e.get("integrity", ""))
        for e in data["entries"]
    )
    for e in entries:
        if ".." in Path(e.path).parts or Path(e.path).is_absolute() or not set(e.source) <= _NAME_OK:
            raise BackupCorruptError(f"manifest entry {e.source}/{e.path} points outside the backup")
    return BackupManifest(folder, data["created_at"], dict(data["sources"]), entries)


def verify_backup(folder: Path | str) -> BackupManifest:
    """Check every file of a backup against its manifest (size, SHA-256); databases' integrity."""
    manifest = read_manifest(folder)
    for e in manifest.entries:
        path = manifest.folder / e.source / e.path
        if not path.is_file():
            raise BackupCorruptError(f"{e.source}/{e.path} is missing from the backup")
        if path.stat().st_size != e.size or _sha256(path) != e.sha256:
            raise BackupCorruptError(f"{e.source}/{e.path} does not match its checksum")
    return manifest


# -- restore ---------------------------------------------------------------------------------


def restore(backup_folder: Path | str, targets: Mapping[str, Path | str]) -> RestoreReport:
    """Restore the named sources of a backup into empty folders and verify the result.

    Every source in ``targets`` must be in the backup; each target folder must be empty or
    missing. Checksums are checked before anything is written; afterwards each database must
    pass ``PRAGMA integrity_check`` and hold exactly the row counts of the manifest.
    """
    manifest = verify_backup(backup_folder)
    unknown = set(targets) - set(manifest.sources)
    if unknown:
        raise RestoreError(f"the backup holds {sorted(manifest.sources)}, not {sorted(unknown)}")
    resolved = {name: Path(folder) for name, folder in targets.items()}
    for name, folder in resolved.items():
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise RestoreTargetNotEmptyError(f"restore target {folder} for {name} is not empty; restore into an empty folder")
    files = 0
    databases: dict[str, dict[str, int]] = {}
    for e in manifest.entries:
        if e.source not in resolved:
            continue
        src = manifest.folder / e.source / e.path
        dst = resolved[e.source] / e.path
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(src, dst)
        os.chmod(dst, e.mode)
        files += 1
        if e.kind == "sqlite":
            integrity, counts = _check_database(dst)
            if integrity != "ok":
                raise BackupCorruptError(f"restored {dst} fails its integrity check: {integrity}")
            if counts != e.tables:
                raise BackupCorruptError(f"restored {dst} holds {counts}, the manifest says {e.tables}")
            databases[f"{e.source}/{e.path}"] = counts
    log.info("restored %s from %s (%d files)", ", ".join(resolved), manifest.folder, files)
    return RestoreReport(resolved, files, databases)


def prune_backups(dest: Path | str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete backups under ``dest``; return those deleted."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    found = sorted(p for p in Path(dest).glob(f"{PREFIX}*") if (p / MANIFEST).is_file())
    doomed = found[:-keep]
    for folder in doomed:
        shutil.rmtree(folder)
        log.info("pruned old backup %s", folder)
    return doomed

