"""Fonts for the kiosk: Noto Sans CJK, Simplified Chinese forms, as every label's default.

Debian's ``fonts-noto-cjk`` ships one TrueType collection (``.ttc``) per weight holding the
Japanese, Korean, Simplified and Traditional Chinese faces. Kivy's SDL2 text provider opens
only the first face of a collection, which is the Japanese one: Chinese text would render,
but with Japanese glyph forms (直, 骨, 角 differ). So :func:`prepare_fonts` copies the
"Noto Sans CJK SC" face out of the collection into a standalone OpenType file in a cache
folder once, and :func:`register_default_font` makes it Kivy's default (``Roboto``) font,
regular and bold.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.ui.errors import FontError

__all__ = [
    "FontFiles",
    "extract_collection_face",
    "find_cjk_fonts",
    "collection_face_names",
    "prepare_fonts",
    "register_default_font",
]

logger = logging.getLogger(__name__)

SC_FAMILY = "Noto Sans CJK SC"

# Standalone Simplified-Chinese faces win over collections (no extraction needed).
_STANDALONE = {
    "regular": ("NotoSansSC-Regular.otf", "NotoSansCJKsc-Regular.otf"),
    "bold": ("NotoSansSC-Bold.otf", "NotoSansCJKsc-Bold.otf"),
}
_COLLECTIONS = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/opentype"),
    Path("/usr/local/share/fonts"),
)


@dataclass(frozen=True, slots=True)
class FontFiles:
    regular: Path
    bold: Path


# -- TrueType collection handling (pure file reading, no Kivy) ------------------------------
def _read_collection_offsets(data: bytes) -> list[int]:
    if data[:4] != b"ttcf":
        raise FontError("not a TrueType collection (no 'ttcf' header)")
    (count,) = struct.unpack_from(">I", data, 8)
    return list(struct.unpack_from(f">{count}I", data, 12))


def _tables(data: bytes, offset: int) -> tuple[bytes, list[tuple[bytes, int, int, int]]]:
    sfnt_version = data[offset : offset + 4]
    (num_tables,) = struct.unpack_from(">H", data, offset + 4)
    records = []
    for i in range(num_tables):
        tag, checksum, table_offset, length = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        records.append((tag, checksum, table_offset, length))
    return sfnt_version, records


def _family_name(data: bytes, records: list[tuple[bytes, int, int, int]]) -> str:
    name_table = next((r for r in records if r[0] == b"name"), None)
    if name_table is None:
        return ""
    base = name_table[2]
    _fmt, count, string_offset = struct.unpack_from(">HHH", data, base)
    fallback = ""
    for i in range(count):
        platform, encoding, language, name_id, length, offset = struct.unpack_from(">6H", data, base + 6 + 12 * i)
        if name_id != 1:
            continue
        raw = data[base + string_offset + offset : base + string_offset + offset + length]
        if platform == 3 and language == 0x0409:
            return raw.decode("utf-16-be", errors="replace")
        if platform == 1 and not fallback:
            fallback = raw.decode("latin-1")
    return fallback


def collection_face_names(path: Path) -> list[str]:
    """Family names of the faces in a ``.ttc``, in index order."""
    data = Path(path).read_bytes()
    return [_family_name(data, _tables(data, off)[1]) for off in _read_collection_offsets(data)]


def extract_collection_face(collection: Path, family: str, out: Path) -> Path:
    """Write the face named ``family`` of ``collection`` as a standalone font file at ``out``.

    The tables are copied unchanged (their checksums stay valid); the file is written to a
    temporary name and renamed, so a crash never leaves half a font behind.
    """
    data = Path(collection).read_bytes()
    for offset in _read_collection_offsets(data):
        sfnt_version, records = _tables(data, offset)
        if _family_name(data, records) == family:
            break
    else:
        raise FontError(f"{collection} has no face {family!r}")
    records.sort(key=lambda r: r[0])
    num = len(records)
    entry_selector = max(i for i in range(16) if 2**i <= num)
    search_range = 16 * 2**entry_selector
    header = sfnt_version + struct.pack(">HHHH", num, search_range, entry_selector, num * 16 - search_range)
    position = 12 + 16 * num
    directory = b""
    bodies: list[bytes] = []
    for tag, checksum, table_offset, length in records:
        body = data[table_offset : table_offset + length]
        directory += struct.pack(">4sIII", tag, checksum, position, length)
        padded = body + b"\0" * (-length % 4)
        bodies.append(padded)
        position += len(padded)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header + directory)
            for body in bodies:
                fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# -- finding and preparing -----------------------------------------------------------------
def _first_existing(names: tuple[str, ...] | str, dirs: tuple[Path, ...]) -> Path | None:
    for directory in dirs:
        for name in (names,) if isinstance(names, str) else names:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def find_cjk_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[FontFiles | None, FontFiles | None]:
    """``(standalone SC files, collections)`` found in ``dirs``; either may be ``None``."""
    standalone = collection = None
    regular, bold = _first_existing(_STANDALONE["regular"], dirs), _first_existing(_STANDALONE["bold"], dirs)
    if regular:
        standalone = FontFiles(regular, bold or regular)
    regular, bold = _first_existing(_COLLECTIONS["regular"], dirs), _first_existing(_COLLECTIONS["bold"], dirs)
    if regular:
        collection = FontFiles(regular, bold or regular)
    return standalone, collection


def prepare_fonts(cache_dir: Path, *, dirs: tuple[Path, ...] = FONT_DIRS) -> FontFiles:
    """Font files with Simplified Chinese forms, extracting them into ``cache_dir`` if needed.

    Raises :class:`FontError` when no Noto Sans CJK font is installed (``fonts-noto-cjk``).
    """
    standalone, collection = find_cjk_fonts(dirs)
    if standalone is not None:
        return standalone
    if collection is None:
        raise FontError("no Noto Sans CJK font found; install the fonts-noto-cjk package")
    files = []
    for source in (collection.regular, collection.bold):
        stat = source.stat()
        target = Path(cache_dir) / f"{source.stem}-SC-{stat.st_size}-{int(stat.st_mtime)}.otf"
        if not target.is_file():
            logger.info("extracting %s from %s into %s", SC_FAMILY, source, target)
            extract_collection_face(source, SC_FAMILY, target)
        files.append(target)
    return FontFiles(files[0], files[1])


def register_default_font(files: FontFiles) -> None:
    """Make ``files`` Kivy's default font (every Label without an explicit ``font_name``)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase  # Kivy only where it is needed

    LabelBase.register(DEFAULT_FONT, str(files.regular), fn_bold=str(files.bold))
    logger.info("default font: %s (bold %s)", files.regular.name, files.bold.name)
