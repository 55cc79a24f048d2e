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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tracker.errors import ImportFileError

#: Room for a whole register at our size: the benchmark's 10,000 contracts, with their
#: funding and cost lines, are about 15 MB of YAML.
MAX_IMPORT_BYTES = 32 * 1024 * 1024

#: libyaml's parser when PyYAML was built with it (some fifty times faster than the pure
#: Python one, which takes minutes over a 10,000-contract file); the constructors below
#: are ours either way.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineMap(dict[str, Any]):
    """A mapping that knows the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[str, int]


class _Loader(_Base):  # type: ignore[misc]
    def compose_node(self, parent: Any, index: Any) -> Any:  # the pure Python parser only
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
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
        self.flatten_mapping(node)
        mapping = LineMap()
        for key_node, value_node in node.value:
            key = str(self.construct_object(key_node, deep=True))
            try:
                mapping[key] = self.construct_object(value_node, deep=True)
            except (ValueError, TypeError, OverflowError) as exc:
                # An explicit tag PyYAML cannot build (`!!float abc`): name field and line.
                shown = repr(value_node.value) if isinstance(value_node.value, str) else "value"
                raise ImportFileError(
                    f"line {value_node.start_mark.line + 1}: {key}: {shown} cannot be read "
                    f"({_first(exc)})"
                ) from None
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
        return mapping


def _refuse_aliases(root: Node, text: str) -> None:
    """An alias makes one node appear twice in the tree libyaml composes: refuse it
    before anything is built from it (a "billion laughs" would explode only then)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise _alias_error(text)
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _alias_error(text: str) -> ImportFileError:
    """The first alias's line and name (the tree keeps only the anchor's): the event
    stream, read again on this error path only."""
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
            line = event.start_mark.line + 1
            return ImportFileError(f"line {line}: YAML aliases (*{event.anchor}) are not accepted")
    return ImportFileError("YAML aliases are not accepted")


class _Unusual(Exception):
    """Something the event reader leaves to the composing loader: an explicit tag, an
    anchor, a merge key, a complex key, more than one document."""


def _plain_value(value: str, constructor: Any) -> Any:
    """A plain scalar as our loader would build it: null, bool, int, float or text
    (its resolvers, by first character: timestamps excepted, dates stay text)."""
    for tag, pattern in _Loader.yaml_implicit_resolvers.get(value[:1], ()):
        if pattern.match(value):
            if tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"):
                raise _Unusual
            build = constructor.yaml_constructors[tag]
            return build(constructor, ScalarNode(tag, value))
    return value


def _read_events(text: str) -> Any:
    """The document built straight from libyaml's events, with no node tree between.

    Composing a node per scalar and resolving each in Python took most of the time of
    reading a 10,000-contract file (1.5 million nodes); here each event is handled once
    and plain scalars, which repeat (keys, statuses, people), are resolved once each.
    Aliases are refused at the first one. Anything unusual is left to :func:`_compose`,
    which builds the very same result the slow way."""
    loader = _Base(text)
    constructor = yaml.constructor.SafeConstructor()
    plain: dict[str, Any] = {}
    stack: list[Any] = []  # open containers: a list, or a _Frame
    root: Any = None
    documents = 0
    try:
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unusual
                value = event.value
                if event.implicit[0]:
                    if value in plain:
                        item = plain[value]
                    else:
                        item = plain[value] = _plain_value(value, constructor)
                else:
                    item = value
                if stack:
                    _add(stack, item, event, value)
                else:  # the document is one scalar
                    root = item
                continue
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unusual
                if stack and type(stack[-1]) is _Frame and stack[-1].raw is None:
                    raise _Unusual  # a complex key (a mapping or list as a key)
                if kind is yaml.MappingStartEvent:
                    mapping = LineMap()
                    mapping.line = event.start_mark.line + 1
                    mapping.key_lines = {}
                    stack.append(_Frame(mapping))
                else:
                    stack.append([])
                continue
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                done = stack.pop()
                item = done if type(done) is list else done.mapping
                if stack:
                    _add(stack, item, event, None)
                else:
                    root = item
                continue
            if kind is yaml.AliasEvent:
                line = event.start_mark.line + 1
                raise ImportFileError(
                    f"line {line}: YAML aliases (*{event.anchor}) are not accepted"
                )
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Unusual
            elif kind is yaml.StreamEndEvent:
                return root
    finally:
        loader.dispose()


class _Frame:
    """A mapping being read, and the key whose value comes next (None: a key comes)."""

    __slots__ = ("key", "mapping", "raw")

    def __init__(self, mapping: LineMap) -> None:
        self.mapping = mapping
        self.key = ""
        self.raw: str | None = None


def _add(stack: list[Any], item: Any, event: Any, raw: str | None) -> None:
    """Put a finished value into the container being read: appended to a list, or in a
    mapping as a key (its raw text, checked for repeats) or as the pending key's value."""
    top = stack[-1]
    if type(top) is list:
        top.append(item)
        return
    if top.raw is None:
        mapping = top.mapping
        # A key is a scalar: a list or mapping as a key went to the loader at its start.
        assert raw is not None
        if raw in mapping.key_lines:
            raise ImportFileError(f"line {mapping.line}: field {raw!r} is given twice")
        mapping.key_lines[raw] = event.start_mark.line + 1
        top.key, top.raw = str(item), raw
    else:
        top.mapping[top.key] = item
        top.raw = None


def _load(text: str) -> Any:
    try:
        return _read_events(text)
    except _Unusual:
        return _compose(text)


def _compose(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node, text)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
        return _load(text)
    except ImportFileError as exc:
        raise ImportFileError(f"{path} {exc.message}") from None
    except RecursionError:
        raise ImportFileError(f"{path}: nested too deeply to be a contract file") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # An explicit tag PyYAML cannot build, e.g. `!!float abc` or `!!timestamp tomorrow`.
        raise ImportFileError(f"{path}: a value cannot be read ({_first(exc)})") from None
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


def _construct_text(loader: _Loader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


# Dates stay text: PyYAML would turn `2026-03-31` into a date itself, and an impossible
# `2026-13-01` (or `!!timestamp tomorrow`) into a bare exception with no field or line;
# our parser names both. Explicitly tagged timestamps are read as text too.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
