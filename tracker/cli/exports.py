"""``tracker calendar`` and ``tracker export register``: files for calendars and spreadsheets.

Both write their file whole or not at all (a temporary file renamed into place), so a
failed command never leaves half a calendar for a client to import.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tracker.cli.common import run_with_app
from tracker.cli.options import json_option, only_ref_option, sub_app, value_option

if TYPE_CHECKING:
    from tracker.service.app import App

export_group = sub_app(
    "export", "Export data for publication.\n\nExample: tracker export register --out register.csv"
)


class RegisterFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def register(app: typer.Typer) -> None:
    app.command("calendar")(calendar)
    app.add_typer(export_group)


def check_out(path: Path) -> None:
    """Refuse an ``--out`` that cannot be written, before any work is done."""
    from tracker.errors import InvalidValue

    if path.is_dir():
        raise InvalidValue("--out", str(path), "is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidValue("--out", str(path), "is in a folder that does not exist")


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a bad path is one ``--out`` error line."""
    from tracker.errors import InvalidValue

    check_out(path)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise InvalidValue("--out", str(path), f"cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InvalidValue("--out", str(path), f"cannot be written ({exc.strerror})") from None


_ICS_HELP = "The iCalendar file to write (replaced if it exists)."
_REGISTER_HELP = (
    "The file to write: .csv (UK money and dates) or .xlsx (real date and number cells)."
)


def calendar(
    ctx: typer.Context,
    out: Path = value_option("--out", "FILE.ics", _ICS_HELP, required=True),
    owner: str | None = value_option("--owner", "EMAIL", "Only contracts this person owns."),
    ref: str | None = only_ref_option("REF"),
) -> None:
    """Write open milestones as an iCalendar (.ics) file for Outlook, Google or Apple Calendar.

    Each milestone is an all-day event whose UID never changes, so importing the file
    again updates events rather than duplicating them; a moved date raises SEQUENCE.
    Alarms follow the reminder policy's lead days. Cancelled milestones are included as
    cancelled so calendars remove them; done ones are left out. Each event says the
    decision, what happens if it is missed, and the command that closes it.

    Example: tracker calendar --out milestones.ics --owner policy.partnerships@lancashire-opcc.example.org
    """
    from tracker.domain.emails import parse_email
    from tracker.service.views.calendar import calendar_feed

    address = parse_email(owner, "--owner") if owner is not None else None
    check_out(out)
    feed = run_with_app(ctx, lambda app: calendar_feed(app, owner=address, ref=ref))
    write_file(out, feed.ics)
    cancelled = f", {feed.cancelled} cancelled" if feed.cancelled else ""
    typer.echo(f"Wrote {feed.events} events{cancelled} to {out} ({feed.name}).")


@export_group.command("register")
def export_register(
    ctx: typer.Context,
    out: Path | None = value_option("--out", "FILE", _REGISTER_HELP),
    file_format: RegisterFormat | None = typer.Option(
        None, "--format", help="csv or xlsx (default: from the --out file's extension)."
    ),
    json: bool = json_option("Print the rows as JSON (ISO dates, money as strings)."),
) -> None:
    """Write the contract register in the Local Government Transparency Code's columns.

    One row per contract: reference, title, supplier, department, start and end dates,
    the next extension option (until, and the date notice is due by), value and owner.
    The CSV is UTF-8 with a byte-order mark and CRLF, as Excel saves it, and can be read
    back with tracker import.

    Example: tracker export register --out register.csv

    Example: tracker export register --out register.xlsx
    """
    from tracker.cli.output import print_json
    from tracker.errors import InvalidValue
    from tracker.service.registers.register import (
        RegisterRow,
        register_csv,
        register_rows,
        register_xlsx,
    )

    if out is None and not json:
        raise InvalidValue("--out", "", "is required (or use --json to print the rows)")
    chosen = _format(out, file_format)
    if out is not None:
        check_out(out)

    async def gather(app: App) -> tuple[list[RegisterRow], datetime]:
        return await register_rows(app), app.now

    rows, now = run_with_app(ctx, gather)
    if out is not None:
        write_file(out, register_xlsx(rows, now) if chosen == "xlsx" else register_csv(rows))
    if json:
        print_json(rows)
    else:
        typer.echo(f"Wrote {len(rows)} contracts to {out} ({chosen.value}).")


def _format(out: Path | None, given: RegisterFormat | None) -> RegisterFormat:
    """The explicit --format, else the file's extension; a contradiction is an error."""
    from tracker.errors import InvalidValue

    suffix = out.suffix.lower().lstrip(".") if out is not None else ""
    implied = RegisterFormat(suffix) if suffix in {f.value for f in RegisterFormat} else None
    if given is not None and implied is not None and given != implied:
        raise InvalidValue(
            "--format", given.value, f"contradicts the --out file's extension (.{suffix})"
        )
    return given or implied or RegisterFormat.CSV
