"""The contract register: export in the Local Government Transparency Code's columns, and import.

Councils and PCCs publish a contract register (reference, title, supplier, department,
dates, value) and keep it in spreadsheets. ``tracker export register`` writes the
fields the tracker holds in those columns; ``tracker import FILE.csv`` reads such a
register back, so a manager can start from the spreadsheet they already have.

Choices that keep the two halves honest with each other:

* The CSV is written the way Excel saves "CSV UTF-8": a byte-order mark (without it
  Excel shows ``£`` as ``Â£``) and CRLF line ends. Money and dates are in UK form
  (``£665,905.00``, ``31/03/2025``), which the importer reads back exactly, so
  export -> import -> export gives the same bytes.
* Every row goes through :func:`tracker.service.registers.inputs.parse_contract`, so a value the
  CSV accepts is exactly a value YAML and ``tracker add`` accept, with the same message.
* Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is
  written with a leading apostrophe, and one such apostrophe is removed on import, so a
  published register cannot carry a formula injection and still round-trips.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, select

from tracker.domain.dates import format_uk
from tracker.domain.milestones import next_option, option_notice_due
from tracker.domain.money import format_gbp
from tracker.domain.text import yes_no
from tracker.domain.types import STATUTORY_KINDS, MilestoneKind, MilestoneStatus
from tracker.domain.wording import kind_label
from tracker.errors import DuplicateContract, ImportFileError, InvalidValue
from tracker.service.app import App
from tracker.service.registers.inputs import ContractInput, parse_contract
from tracker.service.registers.yaml_file import MAX_IMPORT_BYTES
from tracker.store.domain_rows import to_domain
from tracker.store.models import ContractRow, VariationRow
from tracker.store.rows import copy_row


@dataclass(frozen=True)
class RegisterRow:
    """One contract as the transparency register shows it (field names are the JSON keys)."""

    reference: str
    title: str
    supplier: str
    department: str | None
    start: date
    end: date
    #: The next available extension option: how far it would extend the contract...
    extension_until: date | None
    #: ...and the date notice must be given by to take it (the extension notice deadline).
    extension_notice: date | None
    value: Decimal | None
    owner: str | None
    #: The latest variation (or extension taken up), "Variation 2 of 01/10/2024"; the
    #: importer ignores the column, as a register's variations are its own history.
    variation: str | None = None
    # -- the Procurement Act 2023 (issue 18): regime, light-touch, entered into, and the
    # next open statutory notice (export only, like the variation).
    regime: str = "none"
    light_touch: str = "no"
    entered_into: date | None = None
    statutory_notice: str | None = None


@dataclass(frozen=True, kw_only=True)
class Column:
    """A register column: the header written on export and the field it holds."""

    header: str
    field: str
    kind: str  # "text", "date" or "money": how the cell is written


#: The export's columns, in order. The headers are among the importer's synonyms.
COLUMNS: tuple[Column, ...] = (
    Column(header="Reference", field="reference", kind="text"),
    Column(header="Title", field="title", kind="text"),
    Column(header="Supplier", field="supplier", kind="text"),
    Column(header="Department", field="department", kind="text"),
    Column(header="Start Date", field="start", kind="date"),
    Column(header="End Date", field="end", kind="date"),
    Column(header="Extension Until", field="extension_until", kind="date"),
    Column(header="Extension Notice Date", field="extension_notice", kind="date"),
    Column(header="Value", field="value", kind="money"),
    Column(header="Owner", field="owner", kind="text"),
    Column(header="Latest Variation", field="variation", kind="text"),
    # the Procurement Act 2023 (issue 18)
    Column(header="Procurement Regime", field="regime", kind="text"),
    Column(header="Light Touch", field="light_touch", kind="text"),
    Column(header="Entered Into", field="entered_into", kind="date"),
    Column(header="Next Statutory Notice", field="statutory_notice", kind="text"),
)


# -- export ------------------------------------------------------------------------------


def register_row(row: ContractRow, latest: VariationRow | None = None) -> RegisterRow:
    """The register line of one stored contract.

    The notice date is the deadline the tracker itself works to: ``notice_by`` when the
    option gives one, else the current end less ``notice_days`` moved back to a working
    day, i.e. the extension-notice milestone's date. Re-imported as ``notice_by`` it
    derives that same milestone, which is what keeps the round trip exact.
    """
    option = next_option(to_domain(row))
    notice: date | None = None
    if option is not None:
        notice, _ = option_notice_due(option, row.end_date)
    return copy_row(
        RegisterRow,
        row,
        reference=row.ref,
        supplier=row.provider,
        department=row.commissioner,
        start=row.start_date,
        end=row.end_date,
        extension_until=option.until if option is not None else None,
        extension_notice=notice,
        variation=None if latest is None else f"{latest.ref_no} of {format_uk(latest.dated)}",
        light_touch=yes_no(row.light_touch),
        statutory_notice=next_statutory_notice(row),
    )


def next_statutory_notice(row: ContractRow) -> str | None:
    """``Contract details notice due 01/04/2025``: the earliest open notice the Act requires."""
    due = [
        m
        for m in row.milestones
        if m.status == MilestoneStatus.OPEN.value and MilestoneKind(m.kind) in STATUTORY_KINDS
    ]
    if not due:
        return None
    first = min(due, key=lambda m: (m.due, m.kind))
    return f"{kind_label(MilestoneKind(first.kind))} due {format_uk(first.due)}"


async def register_rows(app: App, where: ColumnElement[bool] | None = None) -> list[RegisterRow]:
    """Every contract, ended ones included (the Transparency Code wants the year's
    contracts), ordered by reference (a register is looked up by reference); ``where``
    keeps only some (the web app's downloads: what the person may see)."""
    statement = select(ContractRow).order_by(ContractRow.ref)
    if where is not None:
        statement = statement.where(where)
    async with app.session() as session:
        rows = (await session.execute(statement)).scalars()
        order = (VariationRow.dated, VariationRow.id)
        latest = {
            v.contract_id: v
            for v in (await session.execute(select(VariationRow).order_by(*order))).scalars()
        }
        return [register_row(row, latest.get(row.id)) for row in rows]


_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def guard_formula(text: str) -> str:
    """Prefix an apostrophe where a spreadsheet would read the text as a formula."""
    return "'" + text if _FORMULA_START.match(text) else text


def unguard_formula(text: str) -> str:
    """Undo :func:`guard_formula` (exactly one apostrophe, only before a formula start)."""
    if text.startswith("'") and _FORMULA_START.match(text[1:]):
        return text[1:]
    return text


def _cell_text(column: Column, value: object) -> str:
    """A cell as the CSV shows it: UK dates and money, guarded text, blank for none."""
    if value is None:
        return ""
    if column.kind == "date":
        assert isinstance(value, date)
        return value.strftime("%d/%m/%Y")
    if column.kind == "money":
        assert isinstance(value, Decimal)
        return format_gbp(value)
    return guard_formula(str(value))


def register_csv(rows: Sequence[RegisterRow]) -> bytes:
    """The register as Excel's "CSV UTF-8": BOM, CRLF, fields quoted only where needed."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    for row in rows:
        writer.writerow([_cell_text(column, getattr(row, column.field)) for column in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def register_xlsx(rows: Sequence[RegisterRow], now: datetime) -> bytes:
    """The register as a workbook: real date and number cells, so a reader can sort and sum.

    Text cells are forced to strings (openpyxl would otherwise store ``=...`` as a
    formula); the workbook's timestamps are the command's ``now`` so that output does not
    depend on the wall clock.
    """
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs; loaded only here
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    sheet.title = "Contract register"
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True)
    for row_number, row in enumerate(rows, start=2):
        for index, column in enumerate(COLUMNS, start=1):
            value = getattr(row, column.field)
            cell = sheet.cell(row=row_number, column=index, value=value)
            if value is None:
                continue
            if column.kind == "date":
                cell.number_format = "DD/MM/YYYY"
            elif column.kind == "money":
                cell.number_format = '"£"#,##0.00'
            else:
                cell.data_type = "s"
    widths = {"text": 30, "date": 12, "money": 16}
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = widths[
            column.kind
        ]
    sheet.freeze_panes = "A2"
    stamp = now.replace(tzinfo=None, microsecond=0)
    book.properties.created = stamp
    book.properties.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- import ------------------------------------------------------------------------------

#: Header synonyms per field, best first: when a register has two columns for one field
#: (LGTC registers often carry both "Title" and "Description"), the better one is read.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ref": (
        "reference",
        "ref",
        "contract reference",
        "reference number",
        "contract ref",
        "contract reference number",
        "contract id",
    ),
    "title": (
        "title",
        "contract title",
        "title of agreement",
        "description",
        "contract description",
        "description of goods services",
    ),
    "provider": (
        "supplier",
        "provider",
        "supplier name",
        "provider name",
        "contractor",
        "supplier name and details",
    ),
    "start": ("start date", "contract start", "contract start date", "start", "commencement date"),
    "end": ("end date", "contract end", "contract end date", "end", "expiry date"),
    "commissioner": (
        "department",
        "commissioner",
        "service area",
        "department service area responsible",
        "commissioning body",
    ),
    "value": (
        "value",
        "contract value",
        "total value",
        "total contract value",
        "value of contract",
    ),
    "owner": ("owner", "contract owner", "contract manager", "owner email"),
    "extension_until": (
        "extension until",
        "extension end",
        "extension end date",
        "extended end date",
        "extension to",
    ),
    "extension_notice": (
        "extension notice date",
        "extension notice",
        "extension notice by",
        "notice date",
        "notice by",
    ),
    # the Procurement Act 2023 (issue 18)
    "regime": ("procurement regime", "regime", "procurement law"),
    "light_touch": ("light touch", "light touch contract"),
    "entered_into": ("entered into", "date entered into", "contract signed", "signed"),
}

REQUIRED = ("ref", "title", "provider", "start", "end")

#: Parser field names of the extension option, as the register's own field names.
_EXTENSION_FIELDS = {
    "extensions[0].until": "extension_until",
    "extensions[0].notice_by": "extension_notice",
}


def normalise_header(text: str) -> str:
    """``Contract Start-Date `` -> ``contract start date``: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def map_headers(headers: Sequence[str], where: str) -> dict[str, int]:
    """Field -> column index; unknown columns are ignored, missing required ones are errors."""
    rank: dict[str, tuple[str, int]] = {}
    for field, names in SYNONYMS.items():
        for position, name in enumerate(names):
            rank[name] = (field, position)
    chosen: dict[str, tuple[int, int]] = {}  # field -> (synonym rank, column index)
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = normalise_header(header)
        if not name:
            continue
        if name in seen:
            raise ImportFileError(
                f"{where}: the column {header.strip()!r} appears twice "
                f"(columns {seen[name] + 1} and {index + 1})"
            )
        seen[name] = index
        if name not in rank:
            continue
        field, position = rank[name]
        if field not in chosen or position < chosen[field][0]:
            chosen[field] = (position, index)
    for field in REQUIRED:
        if field not in chosen:
            accepted = ", ".join(repr(name.title()) for name in SYNONYMS[field][:4])
            raise ImportFileError(
                f"{where}: no {field!r} column (a header such as {accepted}); "
                f"the headers are {', '.join(repr(h.strip()) for h in headers if h.strip())}"
            )
    return {field: index for field, (_, index) in chosen.items()}


def decode_register(data: bytes, path: Path) -> str:
    """UTF-8 (with or without a BOM), or Windows-1252 as Excel's plain "CSV" saves it.

    A UK Excel's "CSV (Comma delimited)" writes ``£`` as byte A3, which is not UTF-8;
    reading such a file as Windows-1252 is what the person who saved it meant.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError(
            f"{path}: the file is not text (save it as 'CSV UTF-8 (Comma delimited)')"
        ) from None


def _records(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record; quoted newlines span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            f"{path.name} line {reader.line_num}: not valid CSV ({exc})"
        ) from None


def _raw_contract(cells: Sequence[str], columns: Mapping[str, int]) -> dict[str, Any]:
    """The parser's raw mapping from one CSV record: blank cells are absent values."""
    values: dict[str, str | None] = {}
    for field, index in columns.items():
        cell = cells[index] if index < len(cells) else ""
        values[field] = unguard_formula(cell) if cell.strip() else None
    raw: dict[str, Any] = {field: values.get(field) for field in sorted(REGISTER_FIELDS)}
    until, notice = values.get("extension_until"), values.get("extension_notice")
    if until is not None and notice is None:
        raise InvalidValue(
            "extension_notice", "", "is required with extension_until (the date notice is due by)"
        )
    if notice is not None and until is None:
        raise InvalidValue("extension_until", "", "is required with extension_notice")
    if until is not None:
        raw["extensions"] = [{"until": until, "notice_by": notice}]
    return raw


def parse_register(text: str, path: Path) -> list[ContractInput]:
    """Every contract in a register's text, validated; the first error names its line."""
    records = _records(text, path)
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        raise ImportFileError(f"{path}: the file is empty (expected a header row of columns)")
    columns = map_headers(header[1], f"{path.name} line {header[0]}")
    width = len(header[1])
    contracts: list[ContractInput] = []
    seen: set[str] = set()
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets save empty rows as ",,,,"
        where = f"{path.name} line {line}"
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            raise ImportFileError(
                f"{where}: {len(cells)} cells but the header has {width} columns "
                "(is a value with a comma not in quotes?)"
            )
        try:
            contract = parse_contract(_raw_contract(cells, columns))
        except InvalidValue as exc:
            field = _EXTENSION_FIELDS.get(exc.field, exc.field)
            raise InvalidValue(field, exc.value, exc.reason, where=where) from None
        if contract.ref in seen:
            raise DuplicateContract(contract.ref, where=where)
        seen.add(contract.ref)
        contracts.append(contract)
    if not contracts:
        raise ImportFileError(f"{path}: no contracts under the header row")
    return contracts


#: The contract fields a register row can give (its extension columns describe the next
#: option, which ``import --update`` leaves to ``tracker extend``).
REGISTER_FIELDS = frozenset(
    {"ref", "title", "provider", "start", "end", "commissioner", "value", "owner"}
) | frozenset({"regime", "light_touch", "entered_into"})  # the Procurement Act 2023


def register_fields(path: Path) -> frozenset[str]:
    """The contract fields the register's columns give (read after :func:`read_register`
    has checked the file)."""
    header = next(_records(decode_register(path.read_bytes(), path), path))
    return frozenset(map_headers(header[1], path.name)) & REGISTER_FIELDS


def read_register(path: Path) -> list[ContractInput]:
    """Read and validate a CSV register file, all or nothing (nothing is written here)."""
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportFileError(
                f"{path}: the file is {size / 1024 / 1024:.1f} MB; the limit is "
                f"{MAX_IMPORT_BYTES // 1024 // 1024} MB"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    return parse_register(decode_register(data, path), path)
