"""Injection, end to end: hostile contract text through import, the sweep and a real SMTP
server.

* Text that could break a line or reorder what a reader sees (CR/LF with ``Bcc:``, NEL,
  U+2028/2029, bidi overrides, escape sequences, NUL) is refused at input, with one line
  naming the field, and nothing written.
* Text that is merely hostile (``<script>``, ``{{ 7*7 }}``, ``{% raw %}``, HTML tags,
  very long lines) is accepted as data and sent: the message has exactly the expected
  headers (no Bcc, one recipient, a one-line Subject), the HTML part escapes the markup,
  Jinja syntax shows literally (no ``49``), and the plain text reads as typed.
"""

from __future__ import annotations

import json
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from reliability_support import FIGURES, Tally, account, expected_ids
from support.cli import LANCS, NOW, Result, Runner, dump
from support.people import OLIVIA, STEVE

REF = "INJ/<b>1</b>{{ 7*7 }}"
TITLE = "<script>alert(1)</script> Hostile {{ 7*7 }} title {% raw %}"
PROVIDER = "{{ config }} <img src=x onerror=alert(1)> & Sons"
MILESTONE_TITLE = "Decide {{ 7*7 }} {% if true %}yes{% endif %} <i>now</i>"
LONG_WORD = "W" * 1900
NOTE = "Line one <script>x</script>\nLine two {{ 7*7 }}\n" + LONG_WORD
COMMISSIONER = '{% include "/etc/passwd" %}'
CONTRACT_NOTES = "n " * 2500  # 5,000 characters on one line

ALLOWED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "auto-submitted", "x-tracker-ref",
    "mime-version", "content-type",
}  # fmt: skip


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=True)


def _hostile_yaml() -> str:
    return (
        "contracts:\n"
        f"  - ref: {_q(REF)}\n"
        f"    title: {_q(TITLE)}\n"
        f"    provider: {_q(PROVIDER)}\n"
        f"    commissioner: {_q(COMMISSIONER)}\n"
        "    start: 2024-04-01\n"
        "    end: 2027-03-31\n"
        f"    owner: {OLIVIA}\n"
        f"    sponsor: {STEVE}\n"
        f"    notes: {_q(CONTRACT_NOTES)}\n"
        "    milestones:\n"
        f"      - {{kind: review, due: 2025-06-30, title: {_q(MILESTONE_TITLE)}, note: {_q(NOTE)}}}\n"
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_hostile_text_is_sent_as_data_with_safe_headers(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    path = env.tmp / "hostile.yaml"
    path.write_text(_hostile_yaml(), encoding="utf-8")
    result = tracker_cli("import", str(path), now="2025-03-01 10:00")
    assert result.code == 0, result
    FIGURES.inputs(6)

    sent = tracker_cli("send", now="2025-06-23 09:00")  # lead 7: owner and sponsor
    assert sent.code == 0, sent
    assert "Sweep done: 2 sent, 0 to retry, 0 failed." in sent.out, sent
    messages = smtp.wait_for(2)
    assert Counter(m.rcpt_tos for m in messages) == {(OLIVIA,): 1, (STEVE,): 1}
    expected = expected_ids(env.db_path, [(REF, "review", person, 7) for person in (OLIVIA, STEVE)])
    tally = account(env.db_path, expected=expected, wire=smtp.message_ids())
    assert tally == Tally.clean(2), tally

    for received in messages:
        message = received.message
        names = [name.lower() for name in message]
        assert set(names) <= ALLOWED_HEADERS, names
        assert len(names) == len(set(names)), f"a header given twice: {names}"
        assert message["To"] == received.rcpt_tos[0]
        assert "bcc" not in names and "cc" not in names
        subject = str(message["Subject"])
        assert "\n" not in subject and "\r" not in subject
        assert received.subject.startswith(REF), received.subject
        assert str(message["X-Tracker-Ref"]) == REF
        for raw_line in received.raw.split(b"\r\n"):
            assert len(raw_line) <= 998, "an SMTP line over 998 octets"
        assert b"\n\n" not in received.raw.split(b"\r\n\r\n", 1)[0], "a blank line in headers"

        text, html = _parts(message)
        flat_text, flat_html = _flat(text), _flat(html)
        # HTML: markup escaped, Jinja syntax literal, never evaluated
        assert "<script" not in html and "<img" not in html and "<i>now" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in flat_html
        assert "&lt;img src=x onerror=alert(1)&gt;" in flat_html
        assert "{{ 7*7 }}" in flat_html and "{% raw %}" in flat_html
        assert "{% if true %}yes{% endif %}" in flat_html
        assert "Hostile 49" not in flat_html and "Decide 49" not in flat_html
        # plain text: readable as typed (not HTML-escaped), Jinja literal
        assert "<script>alert(1)</script>" in flat_text
        assert "{{ 7*7 }}" in flat_text and "{% raw %}" in flat_text
        assert "&lt;" not in text and "&amp;" not in text
        assert "Hostile 49" not in flat_text and "Decide 49" not in flat_text
        assert LONG_WORD[:200] in text.replace("\n", "")


def test_hostile_text_in_a_digest_preview_is_escaped(
    env: Any, tracker_cli: Any, tmp_path: Path
) -> None:
    path = env.tmp / "hostile.yaml"
    path.write_text(_hostile_yaml(), encoding="utf-8")
    assert tracker_cli("import", str(path), now="2025-03-01 10:00").code == 0
    out = tmp_path / "digests"
    result = tracker_cli("digest", "--preview", str(out), now="2025-06-23 09:00")
    assert result.code == 0, result
    html = (out / f"{OLIVIA}.html").read_text()
    text = (out / f"{OLIVIA}.txt").read_text()
    FIGURES.inputs()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in _flat(html) and "{{ 7*7 }}" in _flat(text)
    assert "Hostile 49" not in _flat(html) + _flat(text)
    subject = text.splitlines()[0]
    assert subject.startswith("Subject: ") and "\r" not in subject


# ------------------------------------------------------------------ refused at input

LINE_BREAKERS = {
    "crlf-bcc": "Care\r\nBcc: evil@example.org",
    "cr-bcc": "Care\rBcc: evil@example.org",
    "nel": "Care\x85Bcc: evil@example.org",
    "line-separator": "Care\u2028Bcc: evil@example.org",
    "paragraph-separator": "Care\u2029more",
    "rtl-override": "invoice\u202egpj.exe",
    "rtl-isolate": "A\u2067B\u2069",
    "escape-sequence": "red\x1b[31mtext",
    "nul": "nul\x00byte",
}
MULTILINE_OK = {"crlf-bcc"}  # notes keep newlines: CRLF becomes LF, a lone CR does not

ADD = ("add", "INJ-2", "--start", "1/4/2026", "--end", "31/3/2027")


def _field_cases() -> dict[str, tuple[tuple[str, ...], str, bool]]:
    """name -> (args with {v} for the value, field the line must name, multi-line field)."""
    return {
        "add-ref": (("add", "{v}", "--title", "T", "--provider", "P", *ADD[2:]), "ref", False),
        "add-title": ((*ADD, "--title", "{v}", "--provider", "P"), "--title", False),
        "add-provider": ((*ADD, "--title", "T", "--provider", "{v}"), "--provider", False),
        "add-commissioner": (
            (*ADD, "--title", "T", "--provider", "P", "--commissioner", "{v}"),
            "--commissioner",
            False,
        ),
        "add-notes": ((*ADD, "--title", "T", "--provider", "P", "--notes", "{v}"), "--notes", True),
        "add-owner": (
            (*ADD, "--title", "T", "--provider", "P", "--owner", "{v}"),
            "--owner",
            False,
        ),
        "milestone-title": (
            ("milestone", "add", LANCS, "review", "1/12/2024", "--title", "{v}"),
            "--title",
            False,
        ),
        "milestone-note": (
            ("milestone", "add", LANCS, "review", "1/12/2024", "--note", "{v}"),
            "--note",
            True,
        ),
        "milestone-done-note": (
            ("milestone", "done", LANCS, "extension_notice", "--note", "{v}"),
            "--note",
            False,
        ),
        "funding-source": (
            ("funding", "add", LANCS, "--source", "{v}", "--year", "2025/26", "--amount", "5"),
            "--source",
            False,
        ),
        "cost-category": (
            ("cost", "add", LANCS, "--year", "2025/26", "--amount", "5", "--category", "{v}"),
            "--category",
            False,
        ),
        "decision-title": (
            ("decision", "add", LANCS, "--id", "1/2024", "--date", "2/9/2024", "--title", "{v}"),
            "--title",
            False,
        ),
        "recipient-email": (("recipient", "set", "{v}", "--digest", "off"), "EMAIL", False),
        "calendar-owner": (("calendar", "--out", "cal.ics", "--owner", "{v}"), "--owner", False),
    }


def _one_line(result: Result) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err + result.out, result
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result
    assert "\r" not in result.err and "\u2028" not in result.err and "\x1b" not in result.err
    return result.err.rstrip("\n")


@pytest.mark.parametrize("name", list(_field_cases()))
def test_line_breaking_and_reordering_text_is_refused_at_input(
    seeded: Runner, db_path: Path, name: str
) -> None:
    """Every hostile value in this field: one line naming the field, nothing written."""
    args, field, multiline = _field_cases()[name]
    before = dump(db_path)
    for key, hostile in LINE_BREAKERS.items():
        if multiline and key in MULTILINE_OK:
            continue
        value = "olivia@example.org" + hostile if field in ("--owner", "EMAIL") else hostile
        FIGURES.inputs()
        line = _one_line(seeded("--now", NOW, *(a.replace("{v}", value) for a in args)))
        assert field in line, (key, line)
    assert dump(db_path) == before


YAML_FIELDS = {
    "title": "    title: {v}\n",
    "provider": "    provider: {v}\n",
    "owner": "    owner: {v}\n",
    "watchers[0]": "    watchers: [{v}]\n",
    "milestones[0].title": "    milestones: [{{kind: review, due: 2025-06-30, title: {v}}}]\n",
    "funding[0].source": "    funding: [{{source: {v}, year: 2024/25, amount: 5}}]\n",
}


@pytest.mark.parametrize("field", list(YAML_FIELDS))
def test_line_breaking_text_in_an_import_file_is_refused_with_its_line(
    seeded: Runner, db_path: Path, tmp_path: Path, field: str
) -> None:
    before = dump(db_path)
    for key in ("crlf-bcc", "line-separator", "rtl-override", "nel", "escape-sequence"):
        _check_yaml(seeded, tmp_path, field, LINE_BREAKERS[key])
    assert dump(db_path) == before


def _check_yaml(seeded: Runner, tmp_path: Path, field: str, value: str) -> None:
    if field in ("owner", "watchers[0]"):
        value = "olivia@example.org" + value
    base = {
        "title": "    title: T\n",
        "provider": "    provider: P\n",
    }
    lines = ["contracts:\n", "  - ref: INJ-3\n", "    start: 2024-04-01\n", "    end: 2027-03-31\n"]
    for name, template in YAML_FIELDS.items():
        if name == field:
            lines.append(template.format(v=_q(value)))
        elif name in base:
            lines.append(base[name])
    bad_line = next(n for n, text in enumerate(lines, 1) if _q(value) in text)
    path = tmp_path / "inj.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    FIGURES.inputs()
    line = _one_line(seeded("--now", NOW, "import", str(path)))
    assert f"inj.yaml line {bad_line}" in line, line
    assert field.split("[")[0] in line, line


@pytest.mark.parametrize(
    "address",
    [
        "olivia@example.org\nBcc: evil@example.org",
        "olivia@example.org\r\n",
        "olivia@exa_mple.org",
        "olivia@@example.org",
        "olivia@example..org",
        ".olivia@example.org",
        "olivia@-example.org",
        "olivia@example.org>",
        '"olivia"@example.org, evil@example.org',
    ],
)
def test_email_addresses_are_validated(seeded: Runner, db_path: Path, address: str) -> None:
    before = dump(db_path)
    FIGURES.inputs()
    line = _one_line(seeded("--now", NOW, "recipient", "set", address, "--digest", "off"))
    assert "EMAIL" in line and "not a valid email address" in line
    assert dump(db_path) == before
