"""The fast event reader of import files builds exactly what the composing loader
builds (values, types, and the line of every mapping and key), and hands anything
unusual over to it rather than guess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import ImportFileError
from tracker.service.registers import yaml_file


def _same(fast: Any, slow: Any) -> None:
    assert type(fast) is type(slow)
    if isinstance(slow, dict):
        assert (fast.line, fast.key_lines) == (slow.line, slow.key_lines)
        assert list(fast) == list(slow)
        for key in slow:
            _same(fast[key], slow[key])
    elif isinstance(slow, list):
        assert len(fast) == len(slow)
        for one, other in zip(fast, slow, strict=True):
            _same(one, other)
    else:
        assert fast == slow or (fast != fast and slow != slow)  # NaN is itself


def _both(text: str) -> Any:
    """What an import reads (the event reader, or the loader it hands over to) is what
    the loader alone reads."""
    fast = yaml_file._load(text)
    _same(fast, yaml_file._compose(text))
    return fast


PLAIN = st.sampled_from(
    [
        "yes",
        "No",
        "on",
        "~",
        "null",
        "",
        "0x1F",
        "0o17",
        "1_000",
        "-3",
        "+2.5",
        ".inf",
        "-.Inf",
        ".nan",
        "1e3",
        "2026-03-31",
        "2026-13-01",
        "12:30",
        "true",
        "False",
        "confirmed",
        "Home Office",
        "0",
        "007",
        "£1,000.00",
        "=",
        "3.",
        "a: b",
        "- x",
    ]
)
SCALARS = st.one_of(PLAIN, st.text(max_size=12), st.integers(), st.booleans(), st.none())
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(PLAIN, st.text(min_size=1, max_size=8)), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(tree=TREES, flow=st.sampled_from([None, True, False]), quoted=st.booleans())
def test_any_document_reads_as_the_loader_reads_it(
    tree: Any, flow: bool | None, quoted: bool
) -> None:
    text = yaml.safe_dump(
        tree, default_flow_style=flow, default_style='"' if quoted else None, allow_unicode=True
    )
    _both(text)


def test_a_usual_contract_file_takes_the_fast_way() -> None:
    text = "contracts:\n- ref: A\n  value: 12_000\n  ok: yes\n  start: 2026-03-31\n  w: []\n"
    assert yaml_file._read_events(text) == {
        "contracts": [{"ref": "A", "value": 12000, "ok": True, "start": "2026-03-31", "w": []}]
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing\n",
        "just text\n",
        "contracts:\n- ref: A\n  value: 12_000\n  ok: yes\n  start: 2026-03-31\n",
        "contracts:\n  - {ref: A, title: 'x: y', n: [1, 2, {a: ~}]}\n",
        "a: !!str 123\n",
        "a: !!float 1\n",
        "a: ! 12\n",
        "a: &x 1\nb: 2\n",
        "base: {c: 1}\nd: {<<: {e: 2}, f: 3}\n",
        "a: !!timestamp 2026-03-31\n",
    ],
    ids=[
        "empty",
        "comment",
        "scalar",
        "plain",
        "flow",
        "str-tag",
        "float-tag",
        "bang",
        "anchor",
        "merge",
        "timestamp-tag",
    ],
)
def test_unusual_and_usual_documents_read_the_same(text: str) -> None:
    _both(text)


def test_a_repeated_key_names_its_mapping_line() -> None:
    text = "contracts:\n- ref: A\n  title: T\n  title: U\n"
    with pytest.raises(ImportFileError, match=r"line 2: field 'title' is given twice"):
        yaml_file._read_events(text)


def test_an_alias_is_refused_at_its_line() -> None:
    with pytest.raises(ImportFileError, match=r"line 3: YAML aliases \(\*d\) are not accepted"):
        yaml_file._load("a: &d 1\nb:\n  c: *d\n")


def test_two_documents_are_refused_as_the_loader_refuses_them() -> None:
    with pytest.raises(yaml.YAMLError, match="single document"):
        yaml_file._load("a: 1\n---\nb: 2\n")


def test_an_unsafe_tag_is_still_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_file._load("a: !!python/object/apply:os.system ['true']\n")


def test_a_list_as_a_key_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text("? [a, b]\n: c\n")
    with pytest.raises(ImportFileError, match=r"keys\.yaml: a value cannot be read"):
        yaml_file.read_yaml(path)
