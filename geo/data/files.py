"""Opening user files safely: an allow-list of formats, each checked by its extension and its
content; zips unpacked member by member into a private folder; size, row and unpacked-size
limits. What each format is then read by is in :mod:`geo.data.formats`.

- CSV (``.csv``, ``.txt``): text (no NUL bytes, unless UTF-16 with a BOM).
- XLSX (``.xlsx``): a zip holding ``xl/workbook.xml``.
- GeoJSON (``.geojson``, ``.json``): JSON text starting with ``{``.
- GeoPackage (``.gpkg``): an SQLite file with the GeoPackage application id.
- Shapefile (``.shp`` beside its ``.dbf``/``.shx``/``.prj``): the Shapefile magic number.
- ZIP (``.zip``) holding one of these (a Shapefile's parts, or one file): unpacked refusing
  links, absolute paths, ``..``, encrypted members, nested zips, and more bytes than
  :func:`file_limits` allows.

Anything else is refused with a message saying what is accepted: VRT (even named
``.geojson``), GML, KML, ``/vsi…`` paths, URLs, devices and links. A file larger than the size
limit is refused before it is read.
"""

from __future__ import annotations

import contextlib
import lzma
import math
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo.model import config
from geo.model.errors import InputError

__all__ = [
    "ACCEPTED",
    "ALLOWED_FORMATS",
    "FileLimits",
    "clean_stale_temp",
    "env_number",
    "file_format",
    "file_limits",
    "megabytes",
    "temporary_folder",
    "unpacked",
    "user_file",
]

#: Extension → format.
ALLOWED_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".geojson": "geojson",
                   ".json": "geojson", ".gpkg": "gpkg", ".shp": "shp", ".zip": "zip"}
DATASET_FORMATS = "CSV, XLSX, GeoJSON, GeoPackage or Shapefile"
ACCEPTED = f"{DATASET_FORMATS}, or a zip of one of these"
#: The parts of a Shapefile a zip may hold beside the .shp.
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"}
#: Files a zip may carry that are not data (skipped, and said so).
ZIP_CLUTTER = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.I)
MAX_ZIP_MEMBERS = 64
GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
TEMP_PREFIX = "upload-"
#: A temporary folder older than this whose process is gone is removed at start-up.
STALE_AFTER_S = 60.0
#: What zipfile raises for a damaged archive: besides BadZipFile, a name flagged UTF-8 that
#: is not (UnicodeDecodeError), a negative seek (ValueError), damaged deflate or LZMA data.
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, zlib.error,
              lzma.LZMAError)



@dataclass(frozen=True)
class FileLimits:
    """How large a user's file may be: bytes, rows, bytes unpacked from a zip, columns."""

    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int
    max_columns: int = config.CHANGNING_MAX_COLUMNS


def env_number(name: str, default: float, *, whole: bool = False) -> float:
    """The environment variable ``name`` as a number > 0 (``whole``: an integer ≥ 1), or
    ``default`` when it is unset; :class:`InputError` naming the variable otherwise."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name}={text!r}: not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name}={text!r}: must be a finite number greater than 0")
    if whole and not (value.is_integer() and value >= 1):
        raise InputError(f"{name}={text!r}: must be a whole number, at least 1")
    return value


def file_limits() -> FileLimits:
    """The limits now in force: :mod:`geo.model.config`'s defaults, or the environment's
    ``CHANGNING_MAX_UPLOAD_MB``, ``CHANGNING_MAX_ROWS``, ``CHANGNING_MAX_UNPACKED_MB`` and
    ``CHANGNING_MAX_COLUMNS``."""
    mb = 2**20
    return FileLimits(
        max_bytes=int(env_number("CHANGNING_MAX_UPLOAD_MB", config.CHANGNING_MAX_UPLOAD_MB) * mb),
        max_rows=int(env_number("CHANGNING_MAX_ROWS", config.CHANGNING_MAX_ROWS, whole=True)),
        max_unpacked_bytes=int(env_number("CHANGNING_MAX_UNPACKED_MB",
                                           config.CHANGNING_MAX_UNPACKED_MB) * mb),
        max_columns=int(env_number("CHANGNING_MAX_COLUMNS", config.CHANGNING_MAX_COLUMNS,
                                    whole=True)))


def megabytes(size: int) -> str:
    """A byte count as megabytes, for messages."""
    return f"{size / 2**20:,.1f} MB"


def user_file(path: str | Path, *, what: str, limits: FileLimits | None = None) -> Path:
    """``path`` checked before anything reads it: not a URL or a GDAL virtual path, an existing
    regular file (no device, pipe or link), no larger than the size limit.

    Raises
    ------
    InputError
        Naming the file (``what`` says which input it is) and the reason.
    """
    limits = limits or file_limits()
    text = str(path)
    if "://" in text or text.lstrip().lower().startswith(("/vsi", "\\vsi")):
        raise InputError(f"{what} {text}: only files on this computer can be read, not URLs or "
                         f"GDAL virtual paths")
    if "!" in text:  # pyogrio reads "a!b" as member b of archive a (or b beside the process)
        raise InputError(f"{what} {text}: a path holding '!' cannot be read; rename the file")
    path = Path(text)
    try:
        info = path.lstat()
    except OSError:
        raise InputError(f"{what} {path}: no such file") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(f"{what} {path}: is a link; give the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path}: not a regular file")
    if info.st_size > limits.max_bytes:
        raise InputError(f"{what} {path}: {megabytes(info.st_size)} is larger than the limit "
                         f"of {megabytes(limits.max_bytes)} (CHANGNING_MAX_UPLOAD_MB)")
    return path


def _head(path: Path, size: int = 128) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _is_geojson_text(head: bytes) -> bool:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                          (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom):].decode(encoding, errors="ignore").encode()
            break
    return head.lstrip().startswith(b"{")


def _is_gpkg(head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00") and head[68:72] in GPKG_APPLICATION_IDS


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except ZIP_ERRORS:
        return False


def _content_matches(path: Path, fmt: str) -> bool:
    head = _head(path)
    if fmt == "csv":
        return b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if fmt == "geojson":
        return _is_geojson_text(head)
    if fmt == "gpkg":
        return _is_gpkg(head)
    if fmt == "shp":
        return head[:4] == b"\x00\x00\x27\x0a"
    if fmt == "xlsx":
        return head.startswith(b"PK\x03\x04") and _is_xlsx(path)
    if fmt == "zip":
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))
    return False


def file_format(path: Path, *, what: str, label: str | None = None) -> str:
    """The format of ``path`` from :data:`ALLOWED_FORMATS`, when its content is that format.

    Raises
    ------
    InputError
        When the extension is not allowed or the content is not what the extension says (a VRT
        or GML named ``.geojson``, a zip named ``.gpkg``, …).
    """
    label = label or path.name
    suffix = path.suffix.lower()
    fmt = ALLOWED_FORMATS.get(suffix)
    if fmt is None:
        raise InputError(f"{what} {label}: {suffix or 'no extension'} is not an accepted "
                         f"format ({ACCEPTED})")
    if not _content_matches(path, fmt):
        raise InputError(f"{what} {label}: the content is not {fmt.upper()} as its "
                         f"extension says (accepted: {ACCEPTED})")
    return fmt


# -- temporary folders -------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp(folder: Path | None = None) -> int:
    """Remove what killed processes left in the temporary folder: folders named after a process
    that no longer runs and older than a minute. Returns how many were removed."""
    folder = folder or config.TEMP_DIR
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in folder.iterdir():
        match = re.match(rf"{TEMP_PREFIX}(\d+)-", entry.name)
        if not match:
            continue
        with contextlib.suppress(OSError):
            old = time.time() - entry.lstat().st_mtime > STALE_AFTER_S
            if old and not _pid_alive(int(match.group(1))):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def temporary_folder() -> Iterator[Path]:
    """A new private folder under :data:`geo.model.config.TEMP_DIR`, removed afterwards (or,
    after a kill, by :func:`clean_stale_temp` at the next start)."""
    config.TEMP_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=config.TEMP_DIR))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- zips ---------------------------------------------------------------------------------------


def _safe_member_name(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it is absolute or climbs out (``..``)."""
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or not path.parts:
        return None
    return path


def _local_name(name: PurePosixPath) -> str:
    """The file name a member is unpacked to: its own, with any '!' made '_' (pyogrio would
    read "a!b" as file b of archive a, or b in the process's working folder: not the file
    checked)."""
    return name.name.replace("!", "_")


def _zip_members(archive: zipfile.ZipFile, *, what: str, label: str,
                 limits: FileLimits) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    members, total = [], 0
    for info in archive.infolist():
        if info.is_dir() or ZIP_CLUTTER.search(info.filename):
            continue
        name = _safe_member_name(info.filename)
        if name is None:
            raise InputError(f"{what} {label}: member {info.filename!r} has an unsafe path")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{what} {label}: member {info.filename!r} is a link")
        if info.flag_bits & 0x1:
            raise InputError(f"{what} {label}: member {info.filename!r} is encrypted")
        total += info.file_size
        members.append((info, name))
    if len(members) > MAX_ZIP_MEMBERS:
        raise InputError(f"{what} {label}: {len(members)} files; a zip may hold at most "
                         f"{MAX_ZIP_MEMBERS}")
    if total > limits.max_unpacked_bytes:
        raise InputError(f"{what} {label}: unpacks to {megabytes(total)}, more than the limit "
                         f"of {megabytes(limits.max_unpacked_bytes)} "
                         f"(CHANGNING_MAX_UNPACKED_MB)")
    return members


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *,
             budget: int, what: str, label: str) -> int:
    """Copy one member to ``target``, stopping when it grows past its declared size (a lying
    header) or the remaining byte budget; returns the bytes written."""
    written = 0
    with archive.open(info) as source, target.open("xb") as out:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > info.file_size or written > budget:
                raise InputError(f"{what} {label}: member {info.filename!r} unpacks to more "
                                 f"than it declares")
            out.write(chunk)
    return written


def _zip_dataset(names: list[PurePosixPath], *, what: str, label: str) -> PurePosixPath:
    """The one dataset in a zip: its .shp, or its one CSV/XLSX/GeoJSON/GeoPackage file."""
    shapefiles = [n for n in names if n.suffix.lower() == ".shp"]
    others = [n for n in names if n.suffix.lower() in ALLOWED_FORMATS
              and n.suffix.lower() not in (".shp", ".zip")]
    candidates = shapefiles + others
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        nested = [str(n) for n in names if n.suffix.lower() == ".zip"]
        extra = " (zips inside a zip are not read)" if nested else ""
        raise InputError(f"{what} {label}: holds no {DATASET_FORMATS} file{extra}")
    listed = ", ".join(str(c) for c in candidates)
    raise InputError(f"{what} {label}: holds {len(candidates)} datasets ({listed}); zip one of "
                     f"them alone")


@contextlib.contextmanager
def unpacked(path: Path, *, what: str, label: str | None = None,
             limits: FileLimits | None = None) -> Iterator[tuple[Path, str, list[str]]]:
    """``(file to read, its format, notes)`` for a checked user file (see :func:`user_file`):
    the file itself, or, for a zip, its one dataset unpacked into a private temporary folder
    that is removed afterwards. Notes say what a zip held besides its dataset.

    Raises
    ------
    InputError
        When the format is not allowed, the zip is unsafe or too large, or holds no dataset or
        several.
    """
    limits = limits or file_limits()
    label = label or path.name
    fmt = file_format(path, what=what, label=label)
    if fmt != "zip":
        yield path, fmt, []
        return
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise InputError(f"{what} {label}: not a readable zip ({exc})") from None
    with archive, temporary_folder() as folder:
        members = _zip_members(archive, what=what, label=label, limits=limits)
        chosen = _zip_dataset([name for _, name in members], what=what, label=label)
        wanted = ({n for _, n in members if n.parent == chosen.parent and n.stem == chosen.stem
                   and n.suffix.lower() in SHAPEFILE_PARTS}
                  if chosen.suffix.lower() == ".shp" else {chosen})
        budget = limits.max_unpacked_bytes
        for info, name in members:
            if name in wanted:
                target = folder / _local_name(name)
                try:
                    budget -= _extract(archive, info, target, budget=budget, what=what,
                                       label=label)
                except InputError:
                    raise
                except ZIP_ERRORS as exc:
                    raise InputError(f"{what} {label}: member {info.filename!r} cannot be "
                                     f"unpacked ({exc})") from None
        skipped = [str(n) for _, n in members if n not in wanted]
        notes = [f"{label}: read {chosen}; not read: {', '.join(skipped)}"] if skipped else []
        inner = folder / _local_name(chosen)
        yield inner, file_format(inner, what=what, label=f"{label}: {chosen}"), notes
