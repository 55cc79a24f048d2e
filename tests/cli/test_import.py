"""``tracker import``: all or nothing, with the file, line and field named on failure."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.cli import LANCS, NOW, WM, Runner, dump, error_line

from tracker.service.registers.yaml_file import MAX_IMPORT_BYTES

GOOD_TWO = """\
contracts:
  - ref: IMP-1
    title: First service
    provider: Provider One
    start: 2024-04-01
    end: 31/03/2026
  - ref: IMP-2
    title: Second service
    provider: Provider Two
    start: 1/4/2024
    end: 2026-03-31
"""

# Two valid contracts and, between them, one whose funding amount (line 14) is negative.
TWO_GOOD_ONE_BAD = """\
contracts:
  - ref: IMP-1
    title: First service
    provider: Provider One
    start: 2024-04-01
    end: 2026-03-31
  - ref: IMP-BAD
    title: Bad service
    provider: Provider Two
    start: 2024-04-01
    end: 2026-03-31
    funding:
      - source: Home Office
        amount: -5
        year: 2024/25
  - ref: IMP-3
    title: Third service
    provider: Provider Three
    start: 2024-04-01
    end: 2026-03-31
"""
BAD_LINE = TWO_GOOD_ONE_BAD.splitlines().index("        amount: -5") + 1
assert BAD_LINE == 14


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refs_in(cli: Runner) -> set[str]:
    result = cli("--now", NOW, "list", "--json")
    assert result.code == 0, result
    return {item["ref"] for item in json.loads(result.out)}


def test_import_both_seeds_then_list_shows_both(seeded_by_import: Runner) -> None:
    assert refs_in(seeded_by_import) == {LANCS, WM}


def test_import_reports_what_it_imported(cli: Runner, lancs_yaml: Path) -> None:
    result = cli("--now", NOW, "import", str(lancs_yaml))
    assert result.code == 0, result
    assert "Imported 1 contracts" in result.out
    assert LANCS in result.out


def test_two_contracts_in_one_file(cli: Runner, tmp_path: Path) -> None:
    result = cli("--now", NOW, "import", str(write(tmp_path, "two.yaml", GOOD_TWO)))
    assert result.code == 0, result
    assert "2 contracts" in result.out
    assert refs_in(cli) == {"IMP-1", "IMP-2"}


def test_dry_run_writes_nothing_but_reports_the_count(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    before = dump(db_path)
    result = seeded("--now", NOW, "import", str(write(tmp_path, "two.yaml", GOOD_TWO)), "--dry-run")
    assert result.code == 0, result
    assert "2 contracts" in result.out
    assert "IMP-1" in result.out and "IMP-2" in result.out
    assert "Nothing written" in result.out
    assert dump(db_path) == before
    assert refs_in(seeded) == {LANCS, WM}


def test_dry_run_on_an_empty_database_leaves_no_contracts(cli: Runner, lancs_yaml: Path) -> None:
    result = cli("--now", NOW, "import", str(lancs_yaml), "--dry-run")
    assert result.code == 0, result
    assert "Would import 1 contracts" in result.out
    assert refs_in(cli) == set()


def test_dry_run_of_a_bad_file_fails_like_the_real_import(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    before = dump(db_path)
    path = write(tmp_path, "mixed.yaml", TWO_GOOD_ONE_BAD)
    line = error_line(seeded("import", str(path), "--dry-run"))
    assert "mixed.yaml" in line and "amount" in line
    assert dump(db_path) == before


def test_one_bad_contract_stops_the_whole_file(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    before = dump(db_path)
    path = write(tmp_path, "mixed.yaml", TWO_GOOD_ONE_BAD)
    line = error_line(seeded("--now", NOW, "import", str(path)))
    assert "mixed.yaml" in line
    assert "funding[0].amount" in line
    assert "'-5'" in line
    assert dump(db_path) == before
    assert refs_in(seeded) == {LANCS, WM}


def test_a_bad_value_is_located_by_line(seeded: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.yaml", TWO_GOOD_ONE_BAD)
    line = error_line(seeded("--now", NOW, "import", str(path)))
    assert f"mixed.yaml line {BAD_LINE}" in line, line


def test_unknown_key_is_located_by_line(cli: Runner, tmp_path: Path) -> None:
    text = GOOD_TWO.replace("    end: 31/03/2026\n", "    end: 31/03/2026\n    colour: red\n")
    line = error_line(cli("import", str(write(tmp_path, "u.yaml", text))))
    assert "u.yaml line 7" in line, line


def test_malformed_yaml_names_the_line(cli: Runner, tmp_path: Path) -> None:
    text = "contracts:\n  - {ref: A, title: T,\n     provider: [P, Q\n"
    line = error_line(cli("import", str(write(tmp_path, "broken.yaml", text))))
    assert "broken.yaml" in line
    assert "line " in line
    assert "YAML" in line


def test_tab_indented_yaml_names_the_line(cli: Runner, tmp_path: Path) -> None:
    text = "contracts:\n  - ref: A\n\ttitle: T\n"
    line = error_line(cli("import", str(write(tmp_path, "tabs.yaml", text))))
    assert "tabs.yaml line 3" in line


@pytest.mark.parametrize(
    "text",
    [
        # anchor on one value, alias to it on another
        "base: &who P\ncontracts:\n  - {ref: A, title: T, provider: *who, start: 2024-04-01, end: 2025-03-31}\n",
        # the "billion laughs" shape
        'a: &a ["lol", "lol"]\nb: &b [*a, *a]\ncontracts: [*b]\n',
        # a merge key
        "defaults: &d {provider: P, start: 2024-04-01, end: 2025-03-31}\n"
        "contracts:\n  - {<<: *d, ref: A, title: T}\n",
    ],
    ids=["alias", "billion-laughs", "merge-key"],
)
def test_yaml_aliases_are_rejected(
    seeded: Runner, db_path: Path, tmp_path: Path, text: str
) -> None:
    before = dump(db_path)
    line = error_line(seeded("import", str(write(tmp_path, "alias.yaml", text))))
    assert "alias" in line.lower()
    assert "alias.yaml" in line
    assert dump(db_path) == before


def test_unknown_key_in_a_contract_is_rejected(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    before = dump(db_path)
    text = GOOD_TWO.replace("    end: 31/03/2026\n", "    end: 31/03/2026\n    colour: red\n")
    line = error_line(seeded("import", str(write(tmp_path, "u.yaml", text))))
    assert "u.yaml" in line
    assert "colour" in line
    assert dump(db_path) == before


def test_unknown_key_in_a_funding_line_is_rejected(cli: Runner, tmp_path: Path) -> None:
    text = GOOD_TWO + "    funding: [{source: S, year: 2024/25, amount: 5, stauts: confirmed}]\n"
    line = error_line(cli("import", str(write(tmp_path, "u.yaml", text))))
    assert "stauts" in line
    assert refs_in(cli) == set()


def test_a_field_given_twice_is_rejected(cli: Runner, tmp_path: Path) -> None:
    text = GOOD_TWO.replace("    title: First service\n", "    title: First\n    title: Again\n")
    line = error_line(cli("import", str(write(tmp_path, "twice.yaml", text))))
    assert "title" in line and "twice" in line
    assert "twice.yaml line 2" in line


def test_duplicate_refs_within_the_file_are_rejected(cli: Runner, tmp_path: Path) -> None:
    text = GOOD_TWO.replace("ref: IMP-2", "ref: IMP-1")
    line = error_line(cli("import", str(write(tmp_path, "dup.yaml", text))))
    assert "dup.yaml line 7" in line  # the second "ref: IMP-1"
    assert "'IMP-1'" in line
    assert refs_in(cli) == set()


def test_a_ref_already_in_the_database_writes_nothing_from_the_file(
    seeded: Runner, db_path: Path, tmp_path: Path
) -> None:
    before = dump(db_path)
    text = GOOD_TWO + (
        f"  - {{ref: {LANCS}, title: Again, provider: P, start: 2024-04-01, end: 2025-03-31}}\n"
    )
    line = error_line(seeded("--now", NOW, "import", str(write(tmp_path, "again.yaml", text))))
    assert repr(LANCS) in line
    assert "already exists" in line
    assert dump(db_path) == before
    assert refs_in(seeded) == {LANCS, WM}


def test_importing_a_seed_twice_fails_the_second_time(
    seeded: Runner, db_path: Path, lancs_yaml: Path
) -> None:
    before = dump(db_path)
    line = error_line(seeded("--now", NOW, "import", str(lancs_yaml)))
    assert repr(LANCS) in line
    assert dump(db_path) == before


@pytest.mark.parametrize(
    "text",
    [
        "- ref: A\n  title: T\n",
        "just a string\n",
        "42\n",
        "",
        "contracts: []\n",
        "contracts: {ref: A}\n",
        "contracts:\n  - ref: A\nextra: 1\n",
        "contracts:\n  - just text\n",
    ],
    ids=["list", "string", "number", "empty", "empty-list", "mapping", "extra-key", "scalar-item"],
)
def test_wrong_top_level_shape_is_rejected(cli: Runner, tmp_path: Path, text: str) -> None:
    line = error_line(cli("import", str(write(tmp_path, "shape.yaml", text))))
    assert "shape.yaml" in line
    assert refs_in(cli) == set()


def test_a_file_over_the_size_cap_is_rejected_quickly(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("contracts:\n")
        handle.write("# " + "x" * (MAX_IMPORT_BYTES + 1024 * 1024) + "\n")
    started = time.monotonic()
    line = error_line(cli("import", str(path)))
    assert time.monotonic() - started < 2.0
    assert "huge.yaml" in line
    assert "MB" in line
    assert refs_in(cli) == set()


def test_a_non_utf8_file_is_rejected(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD_TWO.replace("First service", "Caf\xe9 service").encode("latin-1"))
    line = error_line(cli("import", str(path)))
    assert "latin1.yaml" in line
    assert "UTF-8" in line
    assert refs_in(cli) == set()


def test_a_utf8_bom_is_accepted(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_TWO.encode("utf-8"))
    result = cli("--now", NOW, "import", str(path))
    assert result.code == 0, result
    assert refs_in(cli) == {"IMP-1", "IMP-2"}


def test_a_missing_file_is_one_line(cli: Runner, tmp_path: Path) -> None:
    line = error_line(cli("import", str(tmp_path / "nowhere.yaml")))
    assert "nowhere.yaml" in line


def test_a_directory_is_one_line(cli: Runner, tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    line = error_line(cli("import", str(folder)))
    assert "folder.yaml" in line


def test_python_tags_are_not_executed(cli: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"contracts: !!python/object/apply:os.system ['touch {marker}']\n"
    line = error_line(cli("import", str(write(tmp_path, "evil.yaml", text))))
    assert "evil.yaml" in line
    assert not marker.exists()
