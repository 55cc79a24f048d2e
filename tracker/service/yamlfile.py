"""Read a YAML import file safely, remembering where each field was written.

Safe loading only (no Python objects), no aliases (``*name`` references are the raw
material of "billion laughs" bombs and never needed in a contract file), a size cap,
and line numbers kept so an error can say ``contracts.yaml line 14: funding[0].amount``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from tracker.errors import ImportFileError

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class LineMap(dict[str, Any]):
    """A mapping that knows the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise ImportFileError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not accepted"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [key.value for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise ImportFileError(
                f"line {node.start_mark.line + 1}: field {sorted(duplicates)[0]!r} is given twice"
            )
        mapping = LineMap(
            {str(k): v for k, v in super().construct_mapping(node, deep=True).items()}
        )
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
        return mapping


def read_yaml(path: Path) -> Any:
    """Parse the file or raise ImportFileError with one readable line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError(
            f"{path}: the file is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: the file is not UTF-8 text") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except ImportFileError as exc:
        raise ImportFileError(f"{path} {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = (exc.problem or "invalid YAML").strip()
        raise ImportFileError(f"{path}{where}: not valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise ImportFileError(f"{path}: not valid YAML ({exc})") from None


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def line_of(record: Any, field_path: str) -> int | None:
    """The line of ``funding[1].amount`` inside a loaded record, as near as known."""
    node: Any = record
    line = getattr(record, "line", None)
    for match in _STEP.finditer(field_path):
        key, index = match.groups()
        if key is not None and isinstance(node, LineMap):
            line = node.key_lines.get(key, line)
            node = node.get(key)
        elif index is not None and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
            line = getattr(node, "line", line)
        else:
            break
    return line


def _construct_map(loader: _Loader, node: MappingNode) -> dict[Any, Any]:
    # SafeLoader's own map constructor copies into a plain dict (losing the lines); with
    # aliases refused there are no recursive structures, so building in one step is safe.
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
