"""The arguments and options several commands declare, each written once.

Typer reads a command's parameters from its signature, so a shared option is a factory
called in the default: ``ref: str = ref_argument()``. Each call builds a fresh
``ArgumentInfo``/``OptionInfo``, as Typer expects one per parameter. The help texts here
are the ones ``--help`` shows; changing one changes every command that uses it.
"""

from __future__ import annotations

from typing import Any

import typer

#: The help of the ``ref`` argument in most commands.
CONTRACT_REF = "The contract's ref."


def sub_app(name: str, help: str) -> typer.Typer:
    """A command group (``tracker milestone ...``): with no subcommand it shows its help.

    The name travels with the group, so registering it is ``app.add_typer(group)``.
    """
    return typer.Typer(name=name, help=help, no_args_is_help=True)


def ref_argument(help: str = CONTRACT_REF) -> Any:
    """The contract's ref as the first, required argument."""
    return typer.Argument(..., help=help)


def target_argument() -> Any:
    """``REF|ID``: a contract's ref followed by a kind, or a milestone id alone."""
    return typer.Argument(
        ..., metavar="REF|ID", help="The contract's ref (or a milestone id alone)."
    )


def kind_argument(help: str = "The milestone kind.") -> Any:
    """``[KIND]`` after a ref in ``REF|ID [KIND]``; left out when an id is given."""
    return typer.Argument(None, metavar="[KIND]", help=help)


def note_option(help: str) -> Any:
    """``--note``: free text kept as the record of a decision or a change."""
    return typer.Option(None, "--note", help=help)


def json_option(help: str = "JSON for scripts.") -> Any:
    """``--json``: print the result as JSON instead of a table or lines."""
    return typer.Option(False, "--json", help=help)


def flag_option(name: str, help: str) -> Any:
    """A yes/no switch, off unless given (``--dry-run``, ``--decline``, ``--due``...)."""
    return typer.Option(False, name, help=help)


def value_option(name: str, metavar: str | None, help: str, *, required: bool = False) -> Any:
    """An option taking one value, shown as ``metavar`` (Typer's type name when None);
    None when not given unless ``required``."""
    return typer.Option(... if required else None, name, metavar=metavar, help=help)


def year_option() -> Any:
    """``--year``: a financial year, in any of the forms the input parser reads."""
    return value_option(
        "--year", "YEAR", "Financial year: 2025/26, 2025-26 or 25/26.", required=True
    )


def amount_option(help: str) -> Any:
    """``--amount``: a sum in GBP, required."""
    return value_option("--amount", "AMOUNT", help, required=True)


def only_ref_option(metavar: str | None) -> Any:
    """``--ref``: narrow a command over all contracts to one."""
    return value_option("--ref", metavar, "Only this contract.")


#: The help texts of the Procurement Act 2023 fields (``add`` and ``edit``).
REGIME_HELP = (
    "Procurement law it was let under: pa2023 (the Procurement Act 2023: its notices are "
    "derived), pcr2015 or none."
)
ENTERED_INTO_HELP = "The day the contract was entered into (signed); needed for pa2023."
LIGHT_TOUCH_HELP = "A light-touch contract under the Act (longer notice periods, no KPI checks)."


def regime_option() -> Any:
    """``--regime``: pa2023, pcr2015 or none."""
    return value_option("--regime", "pa2023|pcr2015|none", REGIME_HELP)


def entered_into_option() -> Any:
    """``--entered-into``: the day the contract was signed."""
    return value_option("--entered-into", "DATE", ENTERED_INTO_HELP)
