"""contract-tracker: the dated decisions of public-sector contracts, tracked and reminded.

The package is layered so each rule has one room: ``domain`` holds pure rules (no I/O,
no clock), ``store`` the SQL tables, ``service`` the use cases that load, derive and save
in one transaction, and ``cli`` the thin Typer front end.
"""

__version__ = "0.1.0"
