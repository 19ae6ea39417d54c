"""User files through the allow-list: formats checked by content, GDAL never reaching a URL or a
file the upload names, zips unpacked safely, limits, sheets and layers, text encodings,
temporary folders cleaned after a kill."""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.data.files import clean_stale_temp, file_limits
from geo.data.io import points_table, read_table, read_vector_file
from geo.model import config
from geo.model.errors import InputError
from tests.cli_helpers import run_cli

ROWS = pd.DataFrame({"名称": ["天山路菜市场", "虹桥体育中心"], "经度": ["121.40", "121.41"],
                     "纬度": ["31.21", "31.20"], "类型": ["菜市场", "体育场馆"]})


@contextlib.contextmanager
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request path (none should come)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"type": "FeatureCollection", "features": []}')

        do_HEAD = do_GET

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def _vrt(source: str) -> str:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{source}</SrcDataSource>'
            f'</OGRVRTLayer></OGRVRTDataSource>')


@pytest.mark.parametrize("name", ["a.geojson", "a.json", "a.gpkg", "a.shp"])
def test_a_vrt_under_another_name_is_refused_and_reaches_nothing(tmp_path, name):
    with listener() as (url, seen):
        for source in (f"/vsicurl/{url}/secret.geojson", "/etc/passwd"):
            path = tmp_path / name
            path.write_text(_vrt(source), encoding="utf-8")
            with pytest.raises(InputError, match=f"{name}: the content is not "):
                read_table(path)
            with pytest.raises(InputError, match=f"{name}: the content is not "):
                read_vector_file(path, what="boundaries file")
        time.sleep(0.2)
    assert seen == []


def test_a_vrt_named_csv_is_only_text(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(_vrt("/etc/passwd"), encoding="utf-8")
    with pytest.raises(InputError, match=r"a.csv: no rows"):  # one line of text, no file opened
        read_table(path)


def test_a_vrt_inside_a_zip_is_refused(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.geojson", _vrt("/etc/passwd"))
    with pytest.raises(InputError, match=r"a.zip: a.geojson: the content is not GEOJSON"):
        read_table(path)


def test_a_link_crs_in_geojson_is_refused_before_gdal_sees_it(tmp_path):
    with listener() as (url, seen):
        path = tmp_path / "a.geojson"
        path.write_text('{"type": "FeatureCollection", "crs": {"type": "link", "properties": '
                        f'{{"href": "{url}/crs", "type": "proj4"}}}}, "features": []}}',
                        encoding="utf-8")
        with pytest.raises(InputError, match="only a named CRS is accepted"):
            read_table(path)
    assert seen == []


@pytest.mark.parametrize("given", ["/vsicurl/http://127.0.0.1:9/x.geojson",
                                   "http://127.0.0.1:9/x.csv", "/vsizip//tmp/x.zip/a.shp"])
def test_urls_and_gdal_virtual_paths_are_refused(given):
    with pytest.raises(InputError, match="only files on this computer can be read"):
        read_table(given)


def test_devices_links_and_missing_files_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"/dev/zero: not a regular file"):
        read_table("/dev/zero")
    real = tmp_path / "real.csv"
    ROWS.to_csv(real, index=False)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(InputError, match=r"link.csv: is a link"):
        read_table(link)
    with pytest.raises(InputError, match=r"none.csv: no such file"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(InputError, match=r"\.kml is not an accepted format \(CSV, XLSX, "):
        read_table(real.rename(tmp_path / "a.kml"))


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_holding_a_csv_is_read(tmp_path):
    path = _zip(tmp_path / "list.zip", {"菜场.csv": ROWS.to_csv(index=False).encode("gb18030"),
                                        "__MACOSX/._菜场.csv": b"junk", "说明.txt": b"readme"})
    with pytest.raises(InputError, match=r"holds 2 datasets \(菜场.csv, 说明.txt\)"):
        read_table(path)
    path = _zip(tmp_path / "list2.zip", {"菜场.csv": ROWS.to_csv(index=False).encode("gb18030"),
                                         "__MACOSX/._菜场.csv": b"junk", "readme.md": b"x"})
    read = read_table(path)
    assert read.frame["名称"].tolist() == ["天山路菜市场", "虹桥体育中心"]
    assert [n.rsplit("/", 1)[-1] for n in read.notes] == [
        "list2.zip: read 菜场.csv; not read: readme.md"]
    assert read.encoding == "gb18030"


@pytest.mark.parametrize(("member", "fragment"), [
    ("../../evil.csv", "has an unsafe path"), ("/etc/evil.csv", "has an unsafe path"),
    ("C:/evil.csv", "has an unsafe path"), ("a\\..\\evil.csv", "has an unsafe path")])
def test_zip_members_that_climb_out_are_refused(tmp_path, member, fragment):
    path = _zip(tmp_path / "a.zip", {member: b"name,lon,lat\n"})
    with pytest.raises(InputError, match=fragment):
        read_table(path)
    assert not (tmp_path.parent / "evil.csv").exists()


def test_a_symlink_member_is_refused(tmp_path):
    path = tmp_path / "a.zip"
    info = zipfile.ZipInfo("a.csv")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match=r"member 'a.csv' is a link"):
        read_table(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setenv("CHANGNING_MAX_UNPACKED_MB", "1")
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.csv", b"0" * (3 * 2**20))
    assert path.stat().st_size < 50_000
    with pytest.raises(InputError, match=r"unpacks to 3.0 MB, more than the limit of 1.0 MB "
                                         r"\(CHANGNING_MAX_UNPACKED_MB\)"):
        read_table(path)
    assert not any(config.TEMP_DIR.glob("*/a.csv")) if config.TEMP_DIR.exists() else True


def _damaged_zip(damage: str) -> bytes:
    method = zipfile.ZIP_LZMA if damage == "lzma" else zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("a.csv", "lon,lat,category\n" + "121.42,31.21,market\n" * 50)
        archive.writestr("bé.dat", "x")
    data = bytearray(buffer.getvalue())
    if damage == "name":  # flagged UTF-8, but not
        data[data.rfind("bé".encode()) + 1] = 0xFF
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        start = archive.getinfo("a.csv").header_offset + 30 + len("a.csv")
    for offset in (0, 1) if damage == "deflate" else (6, 7, 9):
        data[start + offset] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("suffix", [".zip", ".xlsx"])
@pytest.mark.parametrize("damage", ["name", "deflate", "lzma"])
def test_a_damaged_zip_is_an_input_error(tmp_path, damage, suffix):
    """zipfile raises more than BadZipFile: a UnicodeDecodeError for a name flagged UTF-8,
    zlib.error and LZMAError for damaged data (each was exit 70 on the CLI)."""
    path = tmp_path / f"a{suffix}"
    path.write_bytes(_damaged_zip(damage))
    with pytest.raises(InputError, match=r"a\.(zip|xlsx): "):
        read_table(path)


def test_a_bang_in_a_name_cannot_make_gdal_read_another_file(tmp_path, monkeypatch):
    """pyogrio reads "x!y.geojson" as y.geojson (of archive x, or in the working folder): a
    zip member so named made GDAL read the working folder's y.geojson instead of the member
    checked. Members are unpacked without '!'; a path holding one is refused."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    gpd.GeoDataFrame(pd.concat([ROWS] * 3), geometry=gpd.points_from_xy(
        [121.4] * 6, [31.21] * 6), crs="EPSG:4326").to_file(elsewhere / "y.geojson")
    member = gpd.GeoDataFrame(ROWS.iloc[:1], geometry=gpd.points_from_xy([121.4], [31.21]),
                              crs="EPSG:4326").to_json()
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x!y.geojson", member)
    monkeypatch.chdir(elsewhere)
    assert len(read_table(path).frame) == 1
    with pytest.raises(InputError, match=r"a path holding '!' cannot be read"):
        read_table(tmp_path / "cwd" / "x!y.geojson")


def test_nested_zips_are_not_read(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("a.csv", ROWS.to_csv(index=False))
    path = _zip(tmp_path / "outer.zip", {"inner.zip": inner.getvalue()})
    with pytest.raises(InputError, match=r"zips inside a zip are not read"):
        read_table(path)


def test_size_and_row_limits_come_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    pd.concat([ROWS] * 5).to_csv(path, index=False)
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "9")
    with pytest.raises(InputError, match=r"more than 9 rows \(the limit, CHANGNING_MAX_ROWS\)"):
        read_table(path)
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "10")
    assert len(read_table(path).frame) == 10
    monkeypatch.setenv("CHANGNING_MAX_UPLOAD_MB", "0.0001")
    with pytest.raises(InputError, match=r"larger than the limit of 0.0 MB "
                                         r"\(CHANGNING_MAX_UPLOAD_MB\)"):
        read_table(path)
    monkeypatch.setenv("CHANGNING_MAX_UPLOAD_MB", "lots")
    with pytest.raises(InputError, match=r"CHANGNING_MAX_UPLOAD_MB='lots': not a number"):
        file_limits()
    monkeypatch.delenv("CHANGNING_MAX_UPLOAD_MB")
    for text in ("inf", "1e400", "nan", "0"):  # inf and 1e400 were an OverflowError
        monkeypatch.setenv("CHANGNING_MAX_ROWS", text)
        with pytest.raises(InputError, match=r"CHANGNING_MAX_ROWS=.*: must be a finite number "
                                             r"greater than 0"):
            file_limits()


def test_vector_rows_are_limited_before_they_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "1")
    path = tmp_path / "a.geojson"
    gpd.GeoDataFrame(ROWS, geometry=gpd.points_from_xy([121.4, 121.41], [31.21, 31.2]),
                     crs="EPSG:4326").to_file(path)
    with pytest.raises(InputError, match=r"more than 1 rows .*: 2"):
        read_table(path)


def test_a_multipoint_counts_a_row_a_point_against_the_row_limit(tmp_path, monkeypatch):
    """One MultiPoint feature of many points passed the feature count and became a facility
    a point: 21 MB of GeoJSON made 1,000,000 accepted rows and 1.9 GB of memory."""
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "2")
    path = tmp_path / "a.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.MultiPoint(
        [(121.4, 31.21), (121.41, 31.2), (121.42, 31.2)])], crs="EPSG:4326").to_file(path)
    with pytest.raises(InputError, match=r"more than 2 rows .*: 3"):
        read_table(path)
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "3")
    assert len(read_table(path).frame) == 3


def test_every_sheet_is_read_or_refused_naming_the_others(tmp_path):
    path = tmp_path / "a.xlsx"
    with pd.ExcelWriter(path) as writer:
        ROWS.to_excel(writer, sheet_name="菜场", index=False)
        ROWS.iloc[:1].to_excel(writer, sheet_name="体育", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="空", index=False)
    with pytest.raises(InputError, match=r"2 sheets \(菜场, 体育\); choose one with --sheet"):
        read_table(path)
    read = read_table(path, sheet="体育")
    assert (len(read.frame), read.part, read.parts) == (1, "体育", ("菜场", "体育", "空"))
    with pytest.raises(InputError, match=r"no sheet '无' \(sheets: 菜场, 体育, 空\)"):
        read_table(path, sheet="无")
    single = tmp_path / "b.xlsx"
    with pd.ExcelWriter(single) as writer:
        ROWS.to_excel(writer, sheet_name="菜场", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Sheet2", index=False)
    assert read_table(single).part == "菜场"  # the only sheet holding data


@pytest.mark.parametrize(("find", "put"), [(b"<sheetData>", b"<sheetData><row><c"),
                                            (b'r="A1"', b'r="1A"')])
def test_a_sheet_damaged_in_its_first_rows_is_an_input_error(tmp_path, find, put):
    """The sheets are looked into (which hold data) inside the same net as opening the book:
    damaged XML or a bad cell reference there is an InputError, not a ParseError or
    ValueError (exit 70 on the CLI, a traceback on the Data page)."""
    good, path = tmp_path / "good.xlsx", tmp_path / "a.xlsx"
    ROWS.to_excel(good, index=False)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data.replace(find, put, 1)
                            if info.filename.endswith("sheet1.xml") else data)
    with pytest.raises(InputError, match=r"a\.xlsx: cannot be read as XLSX"):
        read_table(path)


def test_every_layer_is_read_or_refused_naming_the_others(tmp_path):
    path = tmp_path / "a.gpkg"
    points = gpd.GeoDataFrame(ROWS, geometry=gpd.points_from_xy([121.4, 121.41], [31.21, 31.2]),
                              crs="EPSG:4326")
    points.to_file(path, layer="markets", driver="GPKG")
    points.iloc[:1].to_file(path, layer="parks", driver="GPKG")
    with pytest.raises(InputError, match=r"2 layers \(markets, parks\); choose one with "
                                         r"--layer"):
        read_table(path)
    assert len(read_table(path, layer="parks").frame) == 1
    with pytest.raises(InputError, match=r"no layer 'x' \(layers: markets, parks\)"):
        read_vector_file(path, what="boundaries file", layer="x")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16"])
def test_text_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "a.csv"
    frame = (pd.DataFrame({"名稱": ["天山路菜市場", "虹橋體育中心"], "經度": ["121.40", "121.41"],
                           "緯度": ["31.21", "31.20"]}) if encoding == "big5" else ROWS)
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    read = read_table(path)
    assert read.frame.iloc[:, 0].tolist() == frame.iloc[:, 0].tolist()
    assert list(read.frame.columns) == list(frame.columns)
    assert not read.garbled


def test_shift_jis_is_detected_and_a_wrong_forced_encoding_is_flagged(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("番号,名称,経度,緯度\n1,虹橋スポーツセンター,121.41,31.20\n"
                     "2,天山路市場,121.40,31.21\n".encode("shift_jis"))
    read = read_table(path)
    assert read.frame["名称"].tolist() == ["虹橋スポーツセンター", "天山路市場"]
    forced = read_table(path, encoding="gb18030")
    assert forced.garbled
    assert forced.notes[-1].endswith("looks garbled; give the right encoding (e.g. --encoding "
                                     "gb18030 or big5)")
    with pytest.raises(InputError, match=r"unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")


def test_areas_become_representative_points_and_multipoints_one_row_a_point():
    square = shapely.box(121.40, 31.20, 121.41, 31.21)
    gdf = gpd.GeoDataFrame({"id": ["a", "b", "c", "d"], "name": ["场", "", None, "空"]},
                           geometry=[square, shapely.MultiPoint([(121.4, 31.2), (121.5, 31.3)]),
                                     shapely.Point(121.42, 31.22), None], crs="EPSG:4326")
    table = points_table(gdf)
    assert table["id"].tolist() == ["a", "b", "b", "c", "d"]
    assert table["name"].tolist() == ["场", "", "", "", "空"]
    assert table["__row__"].tolist() == ["1", "2", "2", "3", "4"]
    assert table["__part__"].tolist() == ["", "1", "2", "", ""]
    assert table["__shape__"].tolist() == ["area", "", "", "", ""]
    assert square.contains(shapely.Point(float(table.loc[0, "lon"]), float(table.loc[0, "lat"])))
    assert table.loc[2, ["lon", "lat"]].tolist() == ["121.500000000", "31.300000000"]
    assert table.loc[4, ["lon", "lat"]].tolist() == ["", ""]


def test_stale_temporary_folders_of_dead_processes_are_removed(tmp_path):
    folder = tmp_path / "tmp"
    folder.mkdir()
    dead = folder / "upload-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "big.csv").write_bytes(b"x" * 1000)
    mine = folder / f"upload-{os.getpid()}-def"
    mine.mkdir()
    other = folder / "notes.txt"
    other.write_text("kept")
    old = time.time() - 3600
    for path in (dead, mine):
        os.utime(path, (old, old))
    assert clean_stale_temp(folder) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted([mine.name, "notes.txt"])


def test_a_killed_cli_leaves_no_unpacked_files_after_the_next_start(tmp_path, state_dir):
    stale = state_dir / "tmp" / "upload-999999999-x"
    stale.mkdir(parents=True)
    (stale / "a.shp").write_bytes(b"x" * 100)
    os.utime(stale, (time.time() - 3600,) * 2)
    done = run_cli("dataset", "show", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert not stale.exists()


def test_too_many_columns_are_refused_before_the_rows_are_parsed(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(201)) + "\n" + ",".join("1" * 201) + "\n")
    with pytest.raises(InputError, match=r"201 columns, more than the limit of 200 "
                                         r"\(CHANGNING_MAX_COLUMNS\)"):
        read_table(path)
    monkeypatch.setenv("CHANGNING_MAX_COLUMNS", "201")
    assert len(read_table(path).frame.columns) == 201
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "0.5")
    with pytest.raises(InputError, match=r"CHANGNING_MAX_ROWS='0.5': must be a whole number"):
        read_table(path)


def test_a_geojson_made_of_brackets_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "bomb.geojson"
    path.write_text('{"type": "FeatureCollection", "x": [' + "[]," * 600_000 + '[]], '
                    '"features": []}')
    with pytest.raises(InputError, match=r"bomb.geojson: mostly brackets, not a plausible "
                                         r"feature file"):
        read_table(path)


def _shared_strings_workbook(path: Path, texts: list[str]) -> Path:
    """A minimal workbook whose one column of cells refers to shared strings (as Excel and
    WPS write them)."""
    rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>'
                   for i in range(len(texts)))
    strings = "".join(f"<si><t>{text}</t></si>" for text in texts)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    kinds = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _zip(path, {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{kinds}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{kinds}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kinds}.sharedStrings+xml"/>'
            "</Types>").encode(),
        "_rels/.rels": (f'<Relationships xmlns="{package}"><Relationship Id="r1" Type="{rel}/'
                        'officeDocument" Target="xl/workbook.xml"/></Relationships>').encode(),
        "xl/workbook.xml": (f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="s" '
                            'sheetId="1" r:id="r1"/></sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="r1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/><Relationship Id="r2" Type="'
            f'{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>').encode(),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData>'
                                    f"</worksheet>".encode(),
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">{strings}</sst>'.encode()})


def test_a_workbook_with_more_texts_than_rows_allow_is_refused(tmp_path, monkeypatch):
    path = _shared_strings_workbook(tmp_path / "strings.xlsx",
                                    ["名称", *(f"名{i}" for i in range(60))])
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "5")
    with pytest.raises(InputError, match=r"more than 50 distinct texts \(ten a row of the row "
                                         r"limit, CHANGNING_MAX_ROWS\)"):
        read_table(path)
    monkeypatch.setenv("CHANGNING_MAX_ROWS", "60")
    assert read_table(path).frame["名称"].tolist() == [f"名{i}" for i in range(60)]
