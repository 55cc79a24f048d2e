"""``tracker export register``: CSV read back with the csv module, xlsx with openpyxl, JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
from support.cli import LANCS, NOW, WM, Runner, dump, error_line, ok

HEADER = [
    "Reference",
    "Title",
    "Supplier",
    "Department",
    "Start Date",
    "End Date",
    "Extension Until",
    "Extension Notice Date",
    "Value",
    "Owner",
    "Latest Variation",
]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames == HEADER
        return list(reader)


def test_csv_has_the_register_columns_in_uk_form(seeded: Runner, tmp_path: Path) -> None:
    result = ok(seeded("export", "register", "--out", "register.csv"))
    assert "Wrote 2 contracts" in result.out
    raw = (tmp_path / "register.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfReference,Title,"), "UTF-8 BOM, as Excel saves it"
    assert raw.count(b"\r\n") == 3 and raw.count(b"\n") == 3, "CRLF line ends"
    rows = {row["Reference"]: row for row in read_csv(tmp_path / "register.csv")}
    assert list(rows) == [LANCS, WM], "ordered by reference"
    assert rows[LANCS] == {
        "Reference": LANCS,
        "Title": "Drive domestic abuse perpetrator behaviour change programme (West Lancashire)",
        "Supplier": "Victim Support",
        "Department": "Lancashire Police and Crime Commissioner",
        "Start Date": "01/08/2023",
        "End Date": "31/03/2025",
        "Extension Until": "31/03/2026",
        "Extension Notice Date": "30/09/2024",
        "Value": "£665,905.00",
        "Owner": "policy.partnerships@lancashire-opcc.example.org",
        "Latest Variation": "",
    }
    assert rows[WM]["Value"] == "£575,290.00"
    assert rows[WM]["Start Date"] == "01/07/2018"
    assert rows[WM]["Extension Until"] == rows[WM]["Extension Notice Date"] == ""


def test_after_extend_the_register_shows_the_new_end_and_no_option(
    seeded: Runner, tmp_path: Path
) -> None:
    ok(seeded("--now", NOW, "extend", LANCS))
    ok(seeded("export", "register", "--out", "register.csv"))
    (lancs, _) = read_csv(tmp_path / "register.csv")
    assert lancs["End Date"] == "31/03/2026"
    assert lancs["Extension Until"] == lancs["Extension Notice Date"] == ""
    assert lancs["Latest Variation"] == "Extension option 1 of 2 Sep 2024"


def test_notice_days_give_the_extension_notice_milestone_date(cli: Runner, tmp_path: Path) -> None:
    # 30 Jun 2025 less 92 days is Sunday 30 Mar 2025: the notice is due Friday 28 Mar.
    ok(
        cli(
            "--now", NOW, "add", "ND-1", "--title", "T", "--provider", "P",
            "--start", "1/4/2024", "--end", "30/6/2025",
            "--extension-until", "30/6/2026", "--extension-notice-days", "92",
        )
    )  # fmt: skip
    shown = json.loads(ok(cli("--now", NOW, "show", "ND-1", "--json")).out)
    (notice,) = [m for m in shown["summary"]["milestones"] if m["kind"] == "extension_notice"]
    assert notice["due"] == "2025-03-28"
    ok(cli("export", "register", "--out", "r.csv"))
    (row,) = read_csv(tmp_path / "r.csv")
    assert row["Extension Notice Date"] == "28/03/2025"
    assert row["Value"] == "", "no stated value: a blank cell, not £0.00"


def test_xlsx_has_real_date_and_number_cells(seeded: Runner, tmp_path: Path) -> None:
    ok(seeded("--now", NOW, "export", "register", "--out", "register.xlsx"))
    book = openpyxl.load_workbook(tmp_path / "register.xlsx")
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    lancs = dict(zip(HEADER, rows[1], strict=True))
    assert lancs["Reference"] == LANCS
    assert lancs["Start Date"] == datetime(2023, 8, 1)
    assert lancs["End Date"] == datetime(2025, 3, 31)
    assert lancs["Extension Notice Date"] == datetime(2024, 9, 30)
    assert lancs["Value"] == 665905
    cells = {cell.column_letter: cell for cell in sheet[2]}
    assert cells["E"].is_date and cells["E"].number_format == "DD/MM/YYYY"
    assert cells["I"].data_type == "n" and "£" in cells["I"].number_format
    wm = dict(zip(HEADER, rows[2], strict=True))
    assert wm["Extension Until"] is None
    assert wm["Value"] == 575290


def test_format_option_and_extension_must_agree(seeded: Runner, tmp_path: Path) -> None:
    ok(seeded("export", "register", "--out", "register.dat", "--format", "xlsx"))
    data = io.BytesIO((tmp_path / "register.dat").read_bytes())
    assert openpyxl.load_workbook(data).active["A1"].value == "Reference"
    error = error_line(seeded("export", "register", "--out", "register.csv", "--format", "xlsx"))
    assert "--format: 'xlsx' contradicts" in error
    assert not (tmp_path / "register.csv").exists()
    error = error_line(seeded("export", "register"))
    assert "--out" in error


def test_json_prints_rows_with_iso_dates_and_money_strings(
    seeded: Runner, tmp_path: Path, db_path: Path
) -> None:
    before = dump(db_path)
    rows = json.loads(ok(seeded("export", "register", "--json")).out)
    assert [row["reference"] for row in rows] == [LANCS, WM]
    assert rows[0] == {
        "reference": LANCS,
        "title": "Drive domestic abuse perpetrator behaviour change programme (West Lancashire)",
        "supplier": "Victim Support",
        "department": "Lancashire Police and Crime Commissioner",
        "start": "2023-08-01",
        "end": "2025-03-31",
        "extension_until": "2026-03-31",
        "extension_notice": "2024-09-30",
        "value": "665905.00",
        "owner": "policy.partnerships@lancashire-opcc.example.org",
        "variation": None,
    }
    assert rows[1]["extension_until"] is None
    assert list(tmp_path.glob("*.csv")) == []
    assert dump(db_path) == before


def test_formulas_are_neutralised_and_survive_the_round_trip(cli: Runner, tmp_path: Path) -> None:
    title = '=HYPERLINK("http://evil.example","click")'
    ok(
        cli(
            "--now", NOW, "add", "F-1", "--title", title, "--provider", "+Provider",
            "--start", "1/4/2024", "--end", "31/3/2026",
        )
    )  # fmt: skip
    ok(cli("export", "register", "--out", "r.csv"))
    (row,) = read_csv(tmp_path / "r.csv")
    assert row["Title"] == "'" + title
    assert row["Supplier"] == "'+Provider"
    ok(cli("export", "register", "--out", "r.xlsx"))
    cell = openpyxl.load_workbook(tmp_path / "r.xlsx").active["B2"]
    assert cell.data_type == "s" and cell.value == title, "a string, never a formula"
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    ok(cli("--db", other, "--now", NOW, "import", "r.csv"))
    shown = json.loads(ok(cli("--db", other, "show", "F-1", "--json")).out)
    assert shown["summary"]["title"] == title
    assert shown["summary"]["provider"] == "+Provider"
