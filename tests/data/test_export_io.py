"""CSV and Excel exports never hold a live formula: text a spreadsheet would run is written as
text behind a single quote (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo.data import export_io
from geo.data.export_io import FORMULA_TRIGGERS, neutralise_formulas, write_csv, write_xlsx
from tests.hostile import CORPUS, FORMULAS


def _corpus_frame() -> pd.DataFrame:
    return pd.DataFrame({"name": list(CORPUS), "capacity": np.linspace(-5.0, 14.0, len(CORPUS)),
                         "open": [i % 2 == 0 for i in range(len(CORPUS))]})


def test_neutralise_formulas_quotes_only_text_starting_with_a_trigger():
    frame = pd.DataFrame({
        "name": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=tab", "\r=cr", "a=1", "", None],
        "capacity": [-5.0, 1.0, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "count": [-1, 0, 1, 2, 3, 4, 5, 6, 7],
        "status": pd.Categorical(["-x", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
        "text": pd.array(["=x", "y", None, "z", "z", "z", "z", "z", "z"], dtype="string"),
    })
    out = neutralise_formulas(frame)
    assert out["name"].tolist()[:8] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\t=tab",
                                        "'\r=cr", "a=1", ""]
    assert pd.isna(out["name"].iloc[8])
    assert out["capacity"].tolist()[:2] == [-5.0, 1.0] and out["capacity"].dtype == float
    assert out["count"].tolist()[0] == -1 and out["count"].dtype == frame["count"].dtype
    assert out["status"].tolist()[:2] == ["'-x", "ok"]
    assert out["text"].tolist()[:2] == ["'=x", "y"] and pd.isna(out["text"].tolist()[2])
    assert frame["name"].iloc[0] == "=1+1"  # the input is not changed


def test_neutralise_formulas_covers_text_column_labels_and_keeps_the_index():
    frame = pd.DataFrame({"=HYPERLINK(1)": ["a"], "name": ["b"], 3: ["c"]}, index=[7])
    out = neutralise_formulas(frame)
    assert list(out.columns) == ["'=HYPERLINK(1)", "name", 3]
    assert list(out.index) == [7]


def test_the_triggers_are_owasps():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}
    assert "neutralise_formulas" in export_io.__all__


def test_csv_cells_read_back_as_the_literal_text(tmp_path):
    path = write_csv(_corpus_frame(), tmp_path / "c.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["name", "capacity", "open"]
    assert len(rows) == len(CORPUS) + 1  # a carriage return in a text does not split a row
    assert [row[0] for row in rows[1:]] == [FORMULAS.get(text, text) for text in CORPUS]
    assert rows[1][1] == "-5.0"  # a negative number stays a number
    assert path.read_bytes().count(b"\r\n") == len(CORPUS) + 1


def test_xlsx_text_cells_are_strings_never_formulas(tmp_path):
    path = write_xlsx({"hostile": _corpus_frame()}, tmp_path / "c.xlsx")
    sheet = openpyxl.load_workbook(path)["hostile"]
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.data_type for cell in names] == ["s"] * len(CORPUS)
    # XML reads a carriage return back as a line feed; everything else is as written
    assert [cell.value for cell in names] == [FORMULAS.get(text, text).replace("\r", "\n")
                                              for text in CORPUS]
    capacity = sheet.cell(row=2, column=2)
    assert (capacity.value, capacity.data_type) == (-5, "n")
    assert sheet.cell(row=2, column=3).data_type == "b"


def test_xlsx_text_dropped_control_characters_cannot_uncover_a_formula(tmp_path):
    path = write_xlsx({"s": pd.DataFrame({"name": ["\x01=1+1", "\x02#N/A"]})}, tmp_path / "x.xlsx")
    sheet = openpyxl.load_workbook(path)["s"]
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2)] == [
        ("'=1+1", "s"), ("#N/A", "s")]


@pytest.mark.parametrize("text", ["#N/A", "#DIV/0!", "=", "-", "'already"])
def test_xlsx_edge_texts_are_string_cells(tmp_path, text):
    path = write_xlsx({"s": pd.DataFrame({"name": [text]})}, tmp_path / "x.xlsx")
    cell = openpyxl.load_workbook(path)["s"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == (f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text)
