"""Report packs: every format written and opened, numbers equal to the engine's."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from geo.data.io import read_demo, read_targets
from geo.engine.coverage import compute_coverage
from geo.engine.sums import district_summary
from layers.report import FORMATS, ReportInputs, report_files, write_reports
from tests.cli_helpers import run_cli
from tests.hostile import CORPUS, FORMULAS

CODE = "310105010000"  # 程家桥街道
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (Debian's poppler-utils) is not installed")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    targets = read_targets()
    streets, facilities = read_demo(targets)
    result = compute_coverage(streets, facilities, targets, resolution=9)
    out = tmp_path_factory.mktemp("report")
    written = write_reports(ReportInputs(result=result, facilities=facilities,
                                         targets=targets), codes=[CODE], formats=FORMATS,
                            out_dir=out, dpi=100)
    return result, out, written


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_one_file_per_street_and_format_plus_the_district(pack):
    _, out, written = pack
    assert [p.name for p in written] == [f"street-{CODE}.{f}" for f in FORMATS] + [
        f"district.{f}" for f in FORMATS]
    assert all(p.stat().st_size > 0 for p in written)
    assert report_files([CODE], ["csv"], out) == [(CODE, "csv", out / f"street-{CODE}.csv"),
                                                  (None, "csv", out / "district.csv")]


def test_pdf_holds_the_street_name_and_the_engines_numbers(pack):
    result, out, _ = pack
    text = _pdf_text(out / f"street-{CODE}.pdf")
    assert "程家桥街道" in text
    rows = result.streets[result.streets["code"] == CODE]
    for share in rows["covered_population_share"]:
        assert f"{100 * share:.1f}" in text
    district = district_summary(result)
    assert f"{100 * district.loc['market', 'covered_population_share']:.1f}" in text
    reader = PdfReader(out / f"street-{CODE}.pdf")
    fonts = [f.get_object() for page in reader.pages
             for f in page["/Resources"]["/Font"].values()]
    assert any("NotoSansCJK" in str(f["/BaseFont"]) for f in fonts)
    descriptor = fonts[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/FontFile3" in descriptor or "/FontFile2" in descriptor  # embedded
    assert "长宁区" in _pdf_text(out / "district.pdf")


def test_png_has_the_chosen_dpi(pack):
    _, out, _ = pack
    image = Image.open(io.BytesIO((out / f"street-{CODE}.png").read_bytes()))
    assert image.size == (800, 600)  # 8 × 6 inches at 100 dpi


def test_tables_equal_the_engine(pack):
    result, out, _ = pack
    engine = result.streets[result.streets["code"] == CODE].reset_index(drop=True)
    csv = pd.read_csv(out / f"street-{CODE}.csv", encoding="utf-8-sig", dtype={"code": str})
    assert csv["name"].tolist() == ["程家桥街道"] * len(engine)
    assert csv["covered_population_share"].tolist() == engine["covered_population_share"].tolist()
    xlsx = pd.read_excel(out / "district.xlsx", sheet_name=None, dtype={"code": str})
    assert set(xlsx) >= {"coverage", "gaps", "facilities"}
    assert xlsx["coverage"]["covered_cells"].tolist() == result.streets["covered_cells"].tolist()
    assert xlsx["coverage"]["covered_population_share"].to_numpy() == pytest.approx(
        result.streets["covered_population_share"].to_numpy(), rel=1e-15)


def test_vectors_read_back(pack):
    result, out, _ = pack
    cells = gpd.read_file(out / "district.geojson")
    assert len(cells) == len(result.cell_coverage) and cells.crs == "EPSG:4326"
    gaps = gpd.read_file(out / "district.gpkg", layer="gaps")
    assert len(gaps) == int((~result.cell_coverage["covered"]).sum())
    street_cells = gpd.read_file(out / f"street-{CODE}.gpkg", layer="cells")
    assert set(street_cells["code"]) == {CODE}


def test_html_is_offline(pack):
    _, out, _ = pack
    html = (out / f"street-{CODE}.html").read_text(encoding="utf-8")
    assert "https://cdn" not in html and "L.markerClusterGroup(" in html
    assert html.count('"className": "street-boundary"') == 1


def test_cli_report_lists_files_as_json(tmp_path):
    done = run_cli("report", "--street", CODE, "--format", "csv,png", "--resolution", "8",
                   "--dpi", "96", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)
    assert [f.rsplit("/", 1)[1] for f in files] == [f"street-{CODE}.csv", f"street-{CODE}.png",
                                                    "district.csv", "district.png"]
    assert "4/4" in done.stderr  # the progress bar


@pytest.mark.parametrize("args, fragment", [
    (["--all", "--format", "pdf,doc"], "unknown format(s) doc"),
    (["--format", "csv"], "one of the arguments --street --all is required"),
    (["--street", "999"], "unknown street code '999'"),
])
def test_cli_report_bad_arguments(tmp_path, args, fragment):
    done = run_cli("report", *args, "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr


@pytest.mark.filterwarnings("ignore:Glyph")
def test_a_pack_of_hostile_names_is_written_and_keeps_them_inert(tmp_path):
    targets = read_targets()
    streets, facilities = read_demo(targets)
    streets = streets.assign(name=list(CORPUS[4:4 + len(streets)]))  # formulas, $…$, {{…}}
    markets = facilities[facilities["category"] == "market"].head(len(CORPUS)).assign(
        name=list(CORPUS))
    result = compute_coverage(streets, markets, targets, resolution=8, categories=["market"])
    inputs = ReportInputs(result=result, facilities=markets, targets=targets,
                          scenario="{nb} **bold** $x^2$")
    paths = write_reports(inputs, codes=[], formats=["pdf", "png", "html", "csv", "xlsx"],
                          out_dir=tmp_path, dpi=50)
    assert [p.name for p in paths] == [f"district.{f}" for f in ("pdf", "png", "html", "csv",
                                                                   "xlsx")]
    assert "情景：{nb}**bold**$x^2$" in "".join(_pdf_text(tmp_path / "district.pdf").split())
    with (tmp_path / "district.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["name"] for row in rows} == {FORMULAS.get(n, n) for n in streets["name"]}
    sheet = openpyxl.load_workbook(tmp_path / "district.xlsx")["facilities"]
    column = [cell.value for cell in sheet[1]].index("name")
    names = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in names)
    assert {cell.value for cell in names} == {FORMULAS.get(n, n).replace("\r", "\n")
                                              for n in CORPUS}
