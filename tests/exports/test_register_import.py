"""``tracker import FILE.csv``: a contract register as a spreadsheet saves it, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.cli import LANCS, NOW, WM, Runner, dump, error_line, ok

# The way Excel saves "CSV UTF-8": BOM, CRLF, quotes only around values with commas.
# Headers are synonyms, in another order, with an extra column the tracker ignores.
SPREADSHEET = (
    "\ufeffContract Reference,Description,Provider,Contract Start,Contract End,"
    "Total Value,Commissioner,Contract Owner,SME/VCSE?\r\n"
    'REG-1,"Drive programme, West Lancashire, phase 2",Victim Support,1/8/2023,'
    '31/03/2025,"£665,905.00",Lancashire PCC,Owner@Example.org,VCSE\r\n'
    "REG-2,Refuge accommodation,Refuge Ltd,2024-04-01,31/3/2027,120000,,,SME\r\n"
    ",,,,,,,,\r\n"
)

GOOD_ROW = "G-{n},Service {n},Provider {n},01/04/2024,31/03/2026,£1000.00\r\n"
HEADER = "Reference,Title,Supplier,Start Date,End Date,Value\r\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def summary(cli: Runner, ref: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(ok(cli("--now", NOW, "show", ref, "--json")).out)
    return shown


def test_a_spreadsheet_saved_register_imports(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path / "register.csv", SPREADSHEET)
    result = ok(cli("--now", NOW, "import", str(path)))
    assert "Imported 2 contracts" in result.out and "REG-1, REG-2" in result.out
    first = summary(cli, "REG-1")["summary"]
    assert first["title"] == "Drive programme, West Lancashire, phase 2"
    assert first["provider"] == "Victim Support"
    assert (first["start"], first["end"]) == ("2023-08-01", "2025-03-31")
    assert first["value"] == "665905.00"
    assert first["commissioner"] == "Lancashire PCC"
    assert first["owner"].casefold() == "owner@example.org"
    second = summary(cli, "REG-2")["summary"]
    assert second["value"] == "120000.00"
    assert second["commissioner"] is None and second["owner"] is None
    kinds = {m["kind"] for m in second["milestones"]}
    assert {"contract_start", "contract_end", "continuation_decision"} <= kinds


def test_headers_match_whatever_their_case_and_punctuation(cli: Runner, tmp_path: Path) -> None:
    text = (
        "ref,TITLE,supplier_name,start-date,END DATE ,Contract Value,Department,Owner,"
        "Extension Until,Notice Date\n"
        "H-1,T,P,1/4/2024,31/3/2026,£5,Dept,a@example.org,31/3/2027,31/12/2025\n"
    )
    ok(cli("--now", NOW, "import", str(write(tmp_path / "h.csv", text))))
    detail = summary(cli, "H-1")
    assert detail["summary"]["provider"] == "P"
    assert detail["summary"]["value"] == "5.00"
    assert [(e["until"], e["notice_by"], e["status"]) for e in detail["extensions"]] == [
        ("2027-03-31", "2025-12-31", "available")
    ]
    notice = [m for m in detail["summary"]["milestones"] if m["kind"] == "extension_notice"]
    assert [m["due"] for m in notice] == ["2025-12-31"]


def test_title_is_preferred_to_description_when_both_are_given(cli: Runner, tmp_path: Path) -> None:
    text = (
        "Description,Reference,Title,Supplier,Start Date,End Date\n"
        "A longer description,D-1,Short title,P,1/4/2024,31/3/2026\n"
    )
    ok(cli("--now", NOW, "import", str(write(tmp_path / "d.csv", text))))
    assert summary(cli, "D-1")["summary"]["title"] == "Short title"


def test_a_missing_required_column_is_named(seeded: Runner, tmp_path: Path, db_path: Path) -> None:
    before = dump(db_path)
    text = "Reference,Title,Start Date,End Date,Value\r\nM-1,T,1/4/2024,31/3/2026,1\r\n"
    error = error_line(seeded("import", str(write(tmp_path / "register.csv", text))))
    assert error.startswith("Error: register.csv line 1: no 'provider' column")
    assert "'Supplier'" in error
    assert dump(db_path) == before


def test_a_bad_value_names_the_line_and_writes_nothing(
    seeded: Runner, tmp_path: Path, db_path: Path
) -> None:
    before = dump(db_path)
    rows = "".join(GOOD_ROW.format(n=n) for n in range(1, 6))
    bad = "BAD-1,Bad service,Provider,31/02/2026,31/03/2027,£1\r\n"
    text = HEADER + rows + bad + GOOD_ROW.format(n=7)
    path = write(tmp_path / "register.csv", text)
    error = error_line(seeded("--now", NOW, "import", str(path)))
    assert error.startswith("Error: register.csv line 7: start: '31/02/2026' is not a real date"), (
        error
    )
    assert dump(db_path) == before


def test_line_numbers_count_physical_lines_of_quoted_newlines(cli: Runner, tmp_path: Path) -> None:
    text = (
        "Reference,Title,Supplier,Start Date,End Date,Notes\r\n"
        'N-1,T,P,1/4/2024,31/3/2026,"a note\r\non two lines"\r\n'
        "N-2,T,P,1/4/2024,31/3/2026,\r\n"
        "N-3,T,P,1/4/2024,31/3/2026,\r\n"
        "N-4,T,P,1/4/2024,£5,\r\n"
    )
    error = error_line(cli("import", str(write(tmp_path / "n.csv", text))))
    assert error.startswith("Error: n.csv line 6: end: '£5' is not a date"), error


def test_values_are_validated_exactly_as_in_yaml(cli: Runner, tmp_path: Path) -> None:
    cases = {
        "£1,00": "value: '£1,00' is not an amount of money",
        "-5": "value: '-5' must not be negative",
        "1.005": "value: '1.005' has more than two decimal places",
    }
    for value, message in cases.items():
        text = f'{HEADER}V-1,T,P,1/4/2024,31/3/2026,"{value}"\r\n'
        error = error_line(cli("import", str(write(tmp_path / "v.csv", text))))
        assert error == f"Error: v.csv line 2: {message}" or error.startswith(
            f"Error: v.csv line 2: {message}"
        ), error
    text = "Reference,Title,Supplier,Start Date,End Date,Owner\r\nO-1,T,P,1/4/2024,31/3/2026,nobody\r\n"
    error = error_line(cli("import", str(write(tmp_path / "o.csv", text))))
    assert error.startswith("Error: o.csv line 2: owner: 'nobody' is not a valid email")


def test_an_extension_needs_both_columns(cli: Runner, tmp_path: Path) -> None:
    text = (
        "Reference,Title,Supplier,Start Date,End Date,Extension Until,Extension Notice Date\r\n"
        "E-1,T,P,1/4/2024,31/3/2026,31/3/2027,\r\n"
    )
    error = error_line(cli("import", str(write(tmp_path / "e.csv", text))))
    assert error.startswith("Error: e.csv line 2: extension_notice: '' is required"), error
    text = text.replace("31/3/2027,", "31/3/2025,31/12/2025")
    error = error_line(cli("import", str(write(tmp_path / "e.csv", text))))
    assert error.startswith("Error: e.csv line 2: extension_until: '2025-03-31' must be after"), (
        error
    )


def test_duplicate_refs_and_misaligned_rows_are_errors(cli: Runner, tmp_path: Path) -> None:
    text = HEADER + GOOD_ROW.format(n=1) + GOOD_ROW.format(n=1)
    error = error_line(cli("import", str(write(tmp_path / "d.csv", text))))
    assert error == "Error: d.csv line 3: ref: 'G-1' already exists"
    text = HEADER + "X-1,Drive, phase 2,P,1/4/2024,31/3/2026,£1\r\n"
    error = error_line(cli("import", str(write(tmp_path / "x.csv", text))))
    assert "x.csv line 2: 7 cells but the header has 6 columns" in error
    error = error_line(cli("import", str(write(tmp_path / "h.csv", HEADER))))
    assert "no contracts under the header row" in error
    error = error_line(cli("import", str(write(tmp_path / "z.csv", ""))))
    assert "the file is empty" in error


def test_windows_1252_from_plain_excel_csv(cli: Runner, tmp_path: Path) -> None:
    text = HEADER + 'W-1,Café service,P,1/4/2024,31/3/2026,"£2,500.50"\r\n'
    ok(cli("--now", NOW, "import", str(write(tmp_path / "w.csv", text, "cp1252"))))
    detail = summary(cli, "W-1")["summary"]
    assert (detail["title"], detail["value"]) == ("Café service", "2500.50")


def test_dry_run_writes_nothing(seeded: Runner, tmp_path: Path, db_path: Path) -> None:
    before = dump(db_path)
    path = write(tmp_path / "register.csv", SPREADSHEET)
    result = ok(seeded("--now", NOW, "import", str(path), "--dry-run"))
    assert "Would import 2 contracts" in result.out
    assert dump(db_path) == before


def test_a_ref_already_in_the_database_stops_the_whole_file(
    seeded: Runner, tmp_path: Path, db_path: Path
) -> None:
    before = dump(db_path)
    text = HEADER + GOOD_ROW.format(n=1) + f"{LANCS},T,P,1/4/2024,31/3/2026,\r\n"
    error = error_line(seeded("--now", NOW, "import", str(write(tmp_path / "r.csv", text))))
    assert f"'{LANCS}' already exists" in error
    assert dump(db_path) == before


def test_round_trip_export_import_export_is_byte_identical(seeded: Runner, tmp_path: Path) -> None:
    ok(seeded("--now", NOW, "export", "register", "--out", "first.csv"))
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = ok(seeded("--db", empty, "--now", NOW, "import", "first.csv"))
    assert f"{LANCS}, {WM}" in result.out
    ok(seeded("--db", empty, "--now", NOW, "export", "register", "--out", "second.csv"))
    first = (tmp_path / "first.csv").read_bytes()
    assert (tmp_path / "second.csv").read_bytes() == first
    assert b"30/09/2024" in first, "the extension option went round too"
