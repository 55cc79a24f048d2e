"""``tracker import``: a YAML file (or a CSV register) of contracts, parsed whole before anything is written."""

from __future__ import annotations

from pathlib import Path

from tracker.errors import DuplicateContract, ImportFileError, InvalidValue
from tracker.service.registers.inputs import ContractInput, parse_contract
from tracker.service.registers.yaml_file import line_of, read_yaml


def _where(path: Path, line: int | None, index: int) -> str:
    spot = f"line {line}" if line is not None else f"contracts[{index}]"
    return f"{path.name} {spot}"


#: A contract read from a file, and the fields the file gives for it (``import --update``
#: leaves the others as they are).
Record = tuple[ContractInput, frozenset[str]]


def read_contracts(path: Path) -> list[ContractInput]:
    """Every contract in the file, validated; the first error stops it, naming the line."""
    return [contract for contract, _ in read_records(path)]


def read_records(path: Path) -> list[Record]:
    """Like :func:`read_contracts`, with the fields each record gives: a YAML record's
    keys, or the register columns the CSV has."""
    if path.suffix.lower() == ".csv":
        from tracker.service.registers.register import read_register, register_fields

        from_csv = read_register(path)  # first: its errors name the line
        given = register_fields(path)
        return [(contract, given) for contract in from_csv]
    document = read_yaml(path)
    if not isinstance(document, dict) or "contracts" not in document:
        raise ImportFileError(f"{path}: expected a top-level 'contracts:' list")
    unknown = sorted(str(key) for key in document if key != "contracts")
    if unknown:
        raise ImportFileError(
            f"{path}: unknown top-level field {unknown[0]!r} (expected 'contracts')"
        )
    records = document["contracts"]
    if not isinstance(records, list) or not records:
        raise ImportFileError(f"{path}: 'contracts' must be a non-empty list")
    contracts: list[Record] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        try:
            contract = parse_contract(record)
        except InvalidValue as exc:
            raise exc.located(_where(path, line_of(record, exc.field), index)) from None
        if contract.ref in seen:
            raise DuplicateContract(contract.ref, where=_where(path, line_of(record, "ref"), index))
        seen[contract.ref] = index
        contracts.append((contract, frozenset(str(key) for key in record)))
    return contracts
