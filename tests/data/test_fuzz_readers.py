"""Property-based fuzzing of the facility readers: malformed files never crash, they always get
one clear InputError (or import cleanly)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from geo.data.importer import import_facilities
from geo.data.io import read_table
from geo.model.errors import InputError

KNOWN = ["charger", "market", "sports", "canteen", "parking"]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
cells = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                  st.sampled_from(["", "121.4", "31.2", "经度", "nan", "1e400", "-0", "\x00"]))
headers = st.lists(st.sampled_from(["名称", "经度", "纬度", "类型", "id", "lon", "lat", "x",
                                    "", "名称", "容量"]), min_size=1, max_size=6)


def _import(path: Path) -> None:
    """Read and import; only InputError may come out."""
    try:
        frame = read_table(path).frame
        import_facilities(frame, known_categories=KNOWN, category="market")
    except InputError as exc:
        assert str(exc)  # one clear message


def _write(suffix: str, data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    handle.write(data)
    handle.close()
    return Path(handle.name)


@FUZZ
@given(header=headers, rows=st.lists(st.lists(cells, min_size=0, max_size=7), max_size=8),
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_random_csv_never_crashes(header, rows, encoding):
    lines = [",".join(header)] + [",".join(map(str, row)) for row in rows]
    text = "\n".join(lines)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
    path = _write(".csv", data)
    try:
        _import(path)
    finally:
        path.unlink()


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_as_xlsx_geojson_or_csv_never_crash(data):
    for suffix in (".xlsx", ".geojson", ".csv"):
        path = _write(suffix, data)
        try:
            _import(path)
        finally:
            path.unlink()


@FUZZ
@given(header=headers, rows=st.lists(st.lists(cells, min_size=1, max_size=6), min_size=1,
                                     max_size=6))
def test_random_xlsx_never_crashes(header, rows):
    width = len(header)
    frame = pd.DataFrame([(row + [""] * width)[:width] for row in rows],
                         columns=[f"{h}{i}" if h == "" else h for i, h in enumerate(header)])
    buffer = io.BytesIO()
    # XLSX cannot hold control characters at all: such a file cannot exist to be imported
    frame.astype(str).apply(lambda c: c.str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True)
                            ).to_excel(buffer, index=False)
    path = _write(".xlsx", buffer.getvalue())
    try:
        _import(path)
    finally:
        path.unlink()


@FUZZ
@given(features=st.lists(st.fixed_dictionaries({
    "type": st.sampled_from(["Feature", "feature", "Point"]),
    "geometry": st.one_of(st.none(), st.fixed_dictionaries({
        "type": st.sampled_from(["Point", "LineString", "Polygon"]),
        "coordinates": st.lists(st.floats(allow_nan=False, allow_infinity=False,
                                          min_value=-500, max_value=500), max_size=3)})),
    "properties": st.dictionaries(st.sampled_from(["name", "名称", "category"]), cells,
                                  max_size=3)}), max_size=5))
def test_random_geojson_never_crashes(features):
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")
    path = _write(".geojson", data)
    try:
        _import(path)
    finally:
        path.unlink()
