"""Uploaded files, parsed once per content: the bytes are hashed once per upload, written to a
private temporary folder under their own name (the extension selects the reader), read through
the allow-list of :mod:`geo.data.files`, and the result — or the reason it cannot be read —
cached by (hash, name, options), so a widget change re-runs the page without parsing the file
again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import streamlit as st

from geo.data.files import file_limits, megabytes, temporary_folder
from geo.data.io import TableRead, read_table, read_vector_file, table_parts
from geo.data.network_io import read_network
from geo.data.population_io import read_population
from geo.engine.network import WalkingNetwork
from geo.engine.population import PopulationLayer
from geo.model.errors import InputError
from ui.i18n import t
from ui.widgets import or_error

__all__ = ["UploadTooLarge", "chosen_part", "digest", "parsed_features", "parsed_table",
           "read_living", "upload_parts"]

T = TypeVar("T")
#: The longest extension kept for an upload's temporary copy (none allowed is longer).
MAX_SUFFIX = 16


class UploadTooLarge(InputError):
    """An upload over the size limit (checked before anything reads it)."""


def digest(upload) -> str:
    """The SHA-256 of an upload's bytes, computed once per upload (by its file id)."""
    key = f"upload_digest_{upload.file_id}"
    if key not in st.session_state:
        limit = file_limits().max_bytes
        if upload.size > limit:
            raise UploadTooLarge(f"{upload.name}: {megabytes(upload.size)} is larger than the "
                                 f"limit of {megabytes(limit)} (CHANGNING_MAX_UPLOAD_MB)")
        st.session_state[key] = hashlib.sha256(upload.getvalue()).hexdigest()
    return st.session_state[key]


@dataclass(frozen=True)
class _Refused:
    """A parse that failed, cached like a success so that no rerun parses the file again."""

    message: str


def _read_copy(data: bytes, name: str, read: Callable[[Path, str], T]) -> T | _Refused:
    """``read(path, label)`` of ``data`` written to a private folder under a short name with
    the file's extension (a browser may send a name longer than the file system allows: 86
    Chinese characters are 258 bytes); messages name it by ``name``. A file that cannot be
    read is a :class:`_Refused` with the reason."""
    suffix = Path(name.replace("\x00", "")).suffix
    safe = "upload" + (suffix if len(suffix) <= MAX_SUFFIX else "")
    with temporary_folder() as folder:
        path = folder / safe
        path.write_bytes(data)
        try:
            return read(path, name)
        except InputError as exc:
            return _Refused(str(exc))


def _or_raise(value: T | _Refused) -> T:
    if isinstance(value, _Refused):
        raise InputError(value.message)
    return value


@st.cache_data(show_spinner="读取文件… Reading the file…", max_entries=8)
def _table(sha: str, name: str, sheet: str | None, layer: str | None, encoding: str | None,
           _data: bytes) -> TableRead | _Refused:
    return _read_copy(_data, name, lambda path, label: read_table(
        path, label=label, sheet=sheet, layer=layer, encoding=encoding))


@st.cache_data(show_spinner="读取文件… Reading the file…", max_entries=8)
def _features(sha: str, name: str, layer: str | None, _data: bytes
              ) -> gpd.GeoDataFrame | _Refused:
    return _read_copy(_data, name, lambda path, label: read_vector_file(
        path, what="boundaries file", label=label, layer=layer))


@st.cache_data(show_spinner=False, max_entries=8)
def _parts(sha: str, name: str, _data: bytes) -> tuple[str, tuple[str, ...]] | _Refused:
    return _read_copy(_data, name, lambda path, label: table_parts(path, label=label))


@st.cache_data(show_spinner="读取文件… Reading the file…", max_entries=4)
def _living(sha: str, name: str, kind: str, fields: tuple[str | None, str | None],
            _data: bytes) -> PopulationLayer | WalkingNetwork | _Refused:
    def read(path: Path, label: str) -> PopulationLayer | WalkingNetwork:
        try:
            if kind == "network":
                return read_network(path)
            return read_population(path, field=fields[0], elderly_field=fields[1])
        except InputError as exc:  # named by the upload, not the private copy
            raise InputError(str(exc).replace(str(path), label)) from None

    return _read_copy(_data, name, read)


def read_living(upload, kind: str, *, fields: tuple[str | None, str | None] = (None, None)
                ) -> PopulationLayer | WalkingNetwork:
    """The uploaded population layer (``kind`` "population", with its residents and 60+
    ``fields``) or walking network ("network"), read once per content."""
    return _or_raise(_living(digest(upload), upload.name, kind, fields, upload.getvalue()))


def upload_parts(upload) -> tuple[str, tuple[str, ...]]:
    """The uploaded file's format and its sheets or layers (see
    :func:`geo.data.io.table_parts`)."""
    return _or_raise(_parts(digest(upload), upload.name, upload.getvalue()))


def chosen_part(upload, *, key: str) -> tuple[str, str | None] | None:
    """The uploaded file's format and the sheet or layer the user picks from it (None when it
    has one or none); None, with the reason shown, while it cannot be read or nothing is
    picked yet among several."""
    found = or_error(lambda: upload_parts(upload))
    if found is None:
        return None
    fmt, parts = found
    if len(parts) <= 1:
        return fmt, None
    noun = t("工作表", "Sheet") if fmt == "xlsx" else t("图层", "Layer")
    chosen = st.selectbox(t(f"{noun}（文件中有 {len(parts)} 个，请选择）",
                            f"{noun} (the file has {len(parts)}; choose one)"), parts,
                          index=None, key=key)
    if chosen is None:
        st.info(t("请选择要读取的工作表或图层。", "Choose the sheet or layer to read."))
        return None
    return fmt, chosen


def parsed_table(upload, *, sheet: str | None = None, layer: str | None = None,
                 encoding: str | None = None) -> TableRead:
    """The uploaded facility list as read (see :func:`geo.data.io.read_table`)."""
    return _or_raise(_table(digest(upload), upload.name, sheet, layer, encoding,
                            upload.getvalue()))


def parsed_features(upload, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """The uploaded vector file's features (see :func:`geo.data.io.read_vector_file`)."""
    return _or_raise(_features(digest(upload), upload.name, layer, upload.getvalue()))
