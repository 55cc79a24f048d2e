"""The machinery every tracker email is rendered with: templates, cleaning, assembly.

One builder per kind of email sits beside this module (:mod:`tracker.mail.reminder`,
:mod:`tracker.mail.digest`); the words live in ``templates/email/`` (package data of
``tracker.templates``, so an installed wheel finds them), and the pieces here (the
template environment and its filters, cleaning, rendering the three parts, assembling
the message) are shared, so every kind follows exactly the same safety rules.

Every text field may hold hostile input typed by a user or imported from a file. So
user text is only ever *data* passed to a template (never compiled, so ``{{ 7*7 }}``
stays literal), the HTML template autoescapes it, links are only made for http(s) and
mailto addresses, control characters are removed before anything is rendered, and
headers are written (:mod:`tracker.mail.mime`, folded and encoded) only from values
that can no longer hold a line break.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.utils import format_datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import css_inline
import jinja2

from tracker.domain.dates import format_london, format_uk
from tracker.domain.money import format_gbp, gbp_or_unknown
from tracker.domain.text import BIDI_CONTROLS, LINE_BREAKERS
from tracker.domain.wording import days_ago_phrase, days_phrase
from tracker.mail.mime import OutgoingMessage, write_alternative

#: Longest subject we send: mail clients show ~60-80 characters, and a bounded subject
#: keeps a pathological field from producing a header that some servers reject.
SUBJECT_LIMIT = 150

#: Width of the plain-text part: comfortable to read, and safe from 78-column rewrapping.
TEXT_WIDTH = 72

#: URL schemes a decision-record link may use; ``javascript:`` and ``data:`` would turn
#: a link in an HTML email into script, which autoescaping does not prevent.
SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto"})

#: Bidi marks are not in ``BIDI_CONTROLS`` (they do not nest) but still reorder what a
#: reader sees in a one-line header, so headers drop them too.
_BIDI_MARKS = frozenset({"\u200e", "\u200f", "\u061c"})

_SPACES = re.compile(r"\s+")

_T = TypeVar("_T")


@dataclass(frozen=True)
class RenderedEmail:
    """The three rendered parts of one email, before they become a MIME message."""

    subject: str
    text: str
    html: str


class Addressed(Protocol):
    """What every email model says about its own delivery: who, from whom, when, which."""

    @property
    def message_id(self) -> str: ...
    @property
    def sent_at(self) -> datetime: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def recipient(self) -> str: ...


def render_parts(name: str, context: Mapping[str, object]) -> RenderedEmail:
    """Render ``name.subject.txt``, ``name.txt`` and ``name.html`` with already-cleaned data.

    The user's text only ever arrives as ``context`` values, never as template source,
    so ``{{ 7*7 }}`` in a title stays literal. The subject is cut to one safe line, the
    text is tidied and the HTML has its styles inlined, the same for every kind of email.
    """
    env = _environment()
    subject = subject_line(env.get_template(f"{name}.subject.txt").render(context))
    text = env.get_template(f"{name}.txt").render(context)
    html = _inliner().inline(env.get_template(f"{name}.html").render(context))
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def assemble_message(
    rendered: RenderedEmail,
    envelope: Addressed,
    extra_headers: Mapping[str, str] | None = None,
) -> OutgoingMessage:
    """One ``multipart/alternative`` message (text first, then HTML) with safe headers.

    Headers come only from values that went through :func:`header_text`, so no contract
    field can add a header or a recipient; :mod:`tracker.mail.mime` writes the bytes.
    ``Auto-Submitted`` tells mail servers and people's rules that a program sent it, so
    out-of-office replies are not sent back to the tracker.
    """
    message_id = header_text(envelope.message_id)
    headers = [
        ("From", header_text(envelope.mail_from)),
        ("To", header_text(envelope.recipient)),
        ("Subject", header_text(rendered.subject)),
        ("Date", format_datetime(envelope.sent_at)),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
    ]
    headers += [(name, header_text(value)) for name, value in (extra_headers or {}).items()]
    return write_alternative(
        headers,
        message_id=message_id,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )


def header_text(value: str) -> str:
    """``value`` as one safe header line: no control characters, separators or bidi controls.

    Each run of such characters (and of whitespace) becomes one space, so
    ``"X\\r\\nBcc: evil@example.org"`` is the harmless text ``"X Bcc: evil@example.org"``.
    Lone surrogates are dropped as well: they cannot be encoded and would crash sending.
    """
    return _SPACES.sub(" ", _UNSAFE.sub(" ", value)).strip()


def subject_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """One header-safe line of at most ``limit`` characters, cut at a word with "…"."""
    line = header_text(text)
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    # Back up to the last space unless the cut already falls between words; but never
    # below half the limit, so one very long word (a hostile ref) is still cut short.
    mid_word = not line[limit - 1].isspace()
    if mid_word and " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def clean_fields(value: _T, multiline: frozenset[str] = frozenset()) -> _T:
    """``value`` with every string in it made safe, through dataclasses and tuples.

    Each string becomes one line (:func:`header_text`), except the fields named in
    ``multiline`` (free-text notes), which keep their line breaks. Strings are found by
    type rather than listed, so a text field added to a model later is cleaned too
    instead of silently reaching a header or a body unchecked.
    """
    return cast(_T, _clean(value, None, multiline))


def _clean(value: object, name: str | None, multiline: frozenset[str]) -> object:
    if isinstance(value, str):
        return _multiline_text(value) if name in multiline else header_text(value)
    if isinstance(value, tuple):
        return tuple(_clean(item, None, multiline) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {
            field.name: _clean(getattr(value, field.name), field.name, multiline)
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changes)
    return value


def gap_phrase(gap: Decimal | None) -> str:
    """A year's gap as a reader wants it: ``£1.00``, ``none``, ``surplus £5.00`` or ``unknown``."""
    if gap is None:
        return "unknown"
    if gap > 0:
        return format_gbp(gap)
    if gap == 0:
        return "none"
    return f"surplus {format_gbp(-gap)}"


@lru_cache(maxsize=4096)
def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Fill each line of ``text`` to ``width`` columns; every line after the first gets ``indent``.

    Words are never broken, nor at hyphens: an email address, a reference such as
    ``LANCS-DRIVE`` or a URL must stay whole to be searched for or copied. Indenting
    the later lines of a multi-line note too keeps it visibly one item. Cached: the
    same sentences (a contract's title, what happens if missed) recur in every email
    of a batch, and filling text is the slowest step of rendering the text part.
    """
    filled = []
    for number, line in enumerate(text.split("\n")):
        first = "" if number == 0 else indent
        if not line.strip():
            filled.append("")
            continue
        filled.append(
            textwrap.fill(
                line,
                width=width,
                initial_indent=first,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(filled)


def safe_url(url: str) -> str | None:
    """``url`` when it is safe to make a link of in HTML (http, https, mailto), else None."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in SAFE_URL_SCHEMES else None


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The one template environment, built once: loading and compiling is the slow part.

    Autoescape is on for ``.html`` only, so the plain text is not full of ``&amp;``;
    ``StrictUndefined`` turns a misspelt field into an error in tests instead of a gap
    in an email someone acts on.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.templates", "email"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Compiled once per process: no stat of the template files at every email.
        auto_reload=False,
    )
    env.filters["gbp"] = gbp_or_unknown
    env.filters["gap"] = gap_phrase
    env.filters["ukdate"] = format_uk
    env.filters["london"] = format_london
    env.filters["days"] = days_phrase
    env.filters["days_ago"] = days_ago_phrase
    env.filters["safe_url"] = safe_url
    env.filters["wrap"] = wrap
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    """Moves the ``<style>`` rules onto the elements: many mail clients drop style blocks.

    Remote stylesheets are never fetched: building an email must not touch the network.
    """
    return css_inline.CSSInliner(load_remote_stylesheets=False)


def _is_unsafe(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category in ("Cc", "Cs", "Zl", "Zp")
        or char in LINE_BREAKERS
        or char in BIDI_CONTROLS
        or char in _BIDI_MARKS
    )


#: Every character ``_is_unsafe`` refuses, as one class: categories Cc (U+0000-U+001F,
#: U+007F-U+009F), Cs (the surrogates), Zl (U+2028) and Zp (U+2029) are fixed sets in
#: Unicode, so a regex finds them without a Python call per character (``header_text``
#: runs on every string of every email). tests/perf checks it against ``_is_unsafe``.
_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029"
    + "".join(re.escape(c) for c in sorted(LINE_BREAKERS | BIDI_CONTROLS | _BIDI_MARKS))
    + "]"
)


def _multiline_text(value: str) -> str:
    """Free text that may span lines (a note): newlines kept, other unsafe characters spaced."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(header_text(line.replace("\t", "    ")) for line in lines).strip("\n")


def _tidy_text(text: str) -> str:
    """At most one blank line in a row and no trailing spaces, whatever the template did."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"
