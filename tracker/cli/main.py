"""The ``tracker`` command: global options, command registration and error handling.

Every user error (a :class:`tracker.errors.TrackerError` or a usage error) becomes one
``Error: ...`` line on stderr and exit code 1, with no traceback. Only this module and
the command modules print; nothing below them does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

# Typer 0.29 vendors Click as typer._click; its exceptions are what command.main raises
# when standalone_mode is off (the version range in pyproject.toml pins this).
from typer._click import exceptions as click

from tracker import __version__
from tracker.cli import (
    admin,
    contracts,
    decisions,
    digest,
    exports,
    lifecycle,
    lines,
    milestones,
    people,
    reminders,
    serve,
)
from tracker.cli.common import GlobalOptions
from tracker.cli.options import value_option
from tracker.errors import TrackerError

app = typer.Typer(
    name="tracker",
    help=(
        "Track public-sector contracts' dated decisions: extension notices, funding "
        "confirmations and staffing risk.\n\n"
        "Example: tracker --now 2024-09-02 show LANCS-DRIVE"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


_DB_HELP = "Database URL (default: TRACKER_DATABASE_URL or a SQLite file in your data directory)."
_CONFIG_HELP = "Settings file (TOML); default TRACKER_CONFIG or ./tracker.toml."
_BY_HELP = (
    "Who makes the change, as recorded in the history (default: TRACKER_ACTOR or your login)."
)
_NOW_HELP = (
    "Act as if it were then (Europe/London when no zone; a date alone means 12:00 that day)."
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"contract-tracker {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    db: str | None = value_option("--db", "URL", _DB_HELP),
    config: Path | None = value_option("--config", "FILE", _CONFIG_HELP),
    now: str | None = value_option("--now", "DATETIME", _NOW_HELP),
    by: str | None = value_option("--by", "NAME", _BY_HELP),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Global options come before the command, e.g. tracker --db sqlite:///x.db list."""
    if by is not None:
        from tracker.domain.text import parse_text

        by = parse_text(by, "--by", max_length=320)
    ctx.obj = GlobalOptions(db=db, config=config, now=now, by=by)


# Commands, then groups, each listed in --help in the order registered here.
admin.register(app)
contracts.register(app)
lifecycle.register(app)
people.register(app)
app.add_typer(milestones.group)
app.add_typer(lines.funding_group)
app.add_typer(lines.cost_group)
reminders.register(app)
digest.register(app)
serve.register(app)
exports.register(app)
app.add_typer(decisions.group)


def _error(message: str) -> int:
    text = " ".join(message.split()) if "\n" in message else message
    sys.stderr.write(f"Error: {text}\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (tests call this directly)."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tracker", standalone_mode=False)
    except TrackerError as exc:
        return _error(exc.message)
    except click.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n") if exc.ctx else None
        return 0
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx else ""
        return _error(f"{where}{exc.format_message()}")
    except click.ClickException as exc:
        return _error(exc.format_message())
    except typer.Abort:
        return _error("aborted")
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
