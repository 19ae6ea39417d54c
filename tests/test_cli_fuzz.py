"""Fuzzing the command line with generated bad files of every accepted format: `dataset import`
and `coverage` either succeed or exit 2 with one message naming the file — never a traceback,
never an unexpected error (exit 70). 1,000 files in all, generated deterministically."""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from commands.common import EXIT_BAD_INPUT
from geo.model.config import DEMO_BOUNDARIES
from tests.hostile import CORPUS

#: Examples per format; they add up to the 1,000 files the issue asks for.
EXAMPLES = {"csv": 250, "geojson": 250, "xlsx": 150, "gpkg": 110, "shp": 120, "zip": 120}
FUZZ = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow, HealthCheck.data_too_large])
HEADERS = ["名称", "经度", "纬度", "类型", "id", "name", "lon", "lat", "category", "crs",
           "capacity", "status", "地址", "fclass", "", "x"]
cells = st.one_of(
    st.text(max_size=10), st.sampled_from(CORPUS),
    st.sampled_from(["", "121.4", "31.2", "121.38", "31.21", "market", "parking", "菜市场", "nan",
                     "inf", "-inf", "1e400", "-0", "gcj02", "bd09", "EPSG:3857", "../../etc",
                     "planned", "closed", "规划", "１２", "1\u200b2", "NULL", "None"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str))
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=121.3, max_value=121.5),
                    st.floats(min_value=31.15, max_value=31.26))
files_made = {"n": 0}


def _run(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, err.getvalue()


def _both_commands(path: Path) -> None:
    """Import then compute with ``path``; only success or one clear error may come out."""
    files_made["n"] += 1
    for args in (["dataset", "import", "--facilities", str(path), "--category", "market",
                  "--format", "json"],
                 ["coverage", "--facilities", str(path), "--boundaries", str(DEMO_BOUNDARIES),
                  "--resolution", "8", "--format", "json"]):
        code, err = _run(*args)
        assert code in (0, EXIT_BAD_INPUT), (args, err)
        assert "Traceback" not in err, err
        if code == EXIT_BAD_INPUT:
            errors = [line for line in err.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1, err
            assert path.name in errors[0], err


def _corrupt(data: bytes, rng: random.Random) -> bytes:
    """Truncated, bytes flipped, or a block repeated."""
    if not data:
        return data
    how = rng.choice(["truncate", "flip", "repeat", "keep"])
    if how == "truncate":
        return data[:rng.randrange(len(data))]
    if how == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if how == "repeat":
        start = rng.randrange(len(data))
        return data[:start] + data[start:start + 64] * rng.randint(1, 50) + data[start:]
    return data


def _table(draw_rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    width = len(header)
    rows = [(row + [""] * width)[:width] for row in draw_rows]
    return pd.DataFrame(rows, columns=[f"{h}{i}" if header.count(h) > 1 else h
                                       for i, h in enumerate(header)])


tables = st.tuples(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7),
                   st.lists(st.lists(cells, max_size=8), max_size=8))


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path


@settings(max_examples=EXAMPLES["csv"], **FUZZ)
@given(table=tables, encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "big5", "latin-1"]),
       sep=st.sampled_from([",", ";", "\t"]), seed=st.integers(0, 2**16))
def test_csv(folder, table, encoding, sep, seed):
    text = _table(*table[::-1]).to_csv(index=False, sep=sep)
    data = text.encode(encoding, "replace") if encoding != "utf-8" else text.encode("utf-8",
                                                                                    "surrogatepass")
    path = folder / f"f{seed}.csv"
    path.write_bytes(_corrupt(data, random.Random(seed)))
    _both_commands(path)


geometries = st.one_of(
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, numbers, numbers),
    st.builds(lambda x, y: {"type": "MultiPoint", "coordinates": [[x, y], [y, x]]}, numbers,
              numbers),
    st.builds(lambda x, y: {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y],
                                                                 [x, y + 0.01], [x, y]]]},
              st.floats(121.3, 121.5), st.floats(31.15, 31.26)),
    st.sampled_from([None, {"type": "Point", "coordinates": []}, {"type": "LineString"},
                     {"type": "GeometryCollection", "geometries": []}, {"type": "Nope"},
                     {"type": "Point", "coordinates": [[[1]]]}, "text", 12]))
properties = st.dictionaries(st.sampled_from(HEADERS), cells, max_size=6)


@settings(max_examples=EXAMPLES["geojson"], **FUZZ)
@given(features=st.lists(st.tuples(geometries, properties), max_size=6),
       extra=st.sampled_from([{}, {"crs": {"type": "name", "properties": {
           "name": "urn:ogc:def:crs:EPSG::3857"}}}, {"crs": {"type": "link"}}, {"crs": 5},
           {"type": "Feature"}, {"features": "x"}]), seed=st.integers(0, 2**16))
def test_geojson(folder, features, extra, seed):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features], **extra}
    data = json.dumps(collection, ensure_ascii=False, allow_nan=True).encode("utf-8")
    path = folder / f"f{seed}.geojson"
    path.write_bytes(_corrupt(data, random.Random(seed)))
    _both_commands(path)


@settings(max_examples=EXAMPLES["xlsx"], **FUZZ)
@given(table=tables, seed=st.integers(0, 2**16), sheets=st.integers(1, 3))
def test_xlsx(folder, table, seed, sheets):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    frame = _table(*table[::-1]).map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", str(v)))
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        for number in range(sheets):
            frame.to_excel(writer, sheet_name=f"s{number}", index=False)
    path = folder / f"f{seed}.xlsx"
    path.write_bytes(_corrupt(buffer.getvalue(), random.Random(seed)))
    _both_commands(path)


def _points(rng: random.Random, rows: int) -> gpd.GeoDataFrame:
    shapes = []
    for _ in range(rows):
        x, y = rng.uniform(121.3, 121.5), rng.uniform(31.15, 31.26)
        shapes.append(rng.choice([shapely.Point(x, y), shapely.box(x, y, x + 0.01, y + 0.01),
                                  shapely.MultiPoint([(x, y), (y, x)])]))
    values = [rng.choice([*CORPUS, "", "market", "菜市场", "parking", "zoo"])
              for _ in range(rows)]
    return gpd.GeoDataFrame({"名称": values, "类型": values[::-1]}, geometry=shapes,
                            crs=rng.choice(["EPSG:4326", "EPSG:32651"]))


@settings(max_examples=EXAMPLES["gpkg"], **FUZZ)
@given(seed=st.integers(0, 2**16), rows=st.integers(0, 5), layers=st.integers(1, 2))
def test_gpkg(folder, seed, rows, layers):
    rng = random.Random(seed)
    path = folder / f"f{seed}.gpkg"
    path.unlink(missing_ok=True)
    for number in range(layers):
        frame = _points(rng, rows)
        frame = frame[frame.geom_type == "Point"] if number else frame
        frame.to_file(path, layer=f"l{number}", driver="GPKG")
    path.write_bytes(_corrupt(path.read_bytes(), rng))
    _both_commands(path)


@settings(max_examples=EXAMPLES["shp"], **FUZZ)
@given(seed=st.integers(0, 2**16), rows=st.integers(0, 5))
def test_zipped_shapefile(folder, seed, rows):
    rng = random.Random(seed)
    shp = folder / f"s{seed}"
    shutil.rmtree(shp, ignore_errors=True)
    shp.mkdir()
    frame = _points(rng, rows)
    kind = rng.choice(["Point", "Polygon"])
    frame = frame[frame.geom_type == kind] if rows else frame
    frame.to_file(shp / "a.shp", driver="ESRI Shapefile")
    path = folder / f"f{seed}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(shp.iterdir()):
            data = part.read_bytes()
            archive.writestr(part.name, _corrupt(data, rng) if rng.random() < 0.4 else data)
    _both_commands(path)


@settings(max_examples=EXAMPLES["zip"], **FUZZ)
@given(members=st.lists(st.tuples(
    st.sampled_from(["a.csv", "b.geojson", "../x.csv", "/abs.csv", "d/e.xlsx", "c.zip",
                     "readme.txt", "a.shp", "a.dbf", "__MACOSX/._a.csv", "c:/w.csv"]),
    st.binary(max_size=200)), max_size=4), seed=st.integers(0, 2**16))
def test_zip(folder, members, seed):
    path = folder / f"f{seed}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            with contextlib.suppress(ValueError):
                archive.writestr(name, data)
    path.write_bytes(_corrupt(buffer.getvalue(), random.Random(seed)))
    _both_commands(path)


def test_the_fuzzing_made_a_thousand_files():
    """Runs last in this module: the examples above really generated their files."""
    assert sum(EXAMPLES.values()) == 1000
    if files_made["n"]:  # the module ran as a whole
        assert files_made["n"] == 1000
