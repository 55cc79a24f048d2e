"""Turn a :class:`DigestEmail` into a subject, a plain-text and an HTML body, and a message.

The digest is the reminder's weekly (or daily) summary, so it is built the same way
and from the same pieces of :mod:`tracker.mail.render`: the words live in
``templates/email/digest.subject.txt``, ``digest.txt`` and ``digest.html``, every
string of the data is cleaned before anything is rendered, user text is only ever
template *data* (autoescaped in HTML), and headers are written only from values that
cannot hold a line break.
"""

from __future__ import annotations

from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DigestEmail
from tracker.mail.render import RenderedEmail, assemble_message, clean_fields, render_parts

#: Free-text fields of the digest's data that may span lines; every other string is
#: made one line, so nothing a user typed can start a new line in a header or a list.
MULTILINE_FIELDS = frozenset({"snooze_note"})


def render_digest(email: DigestEmail) -> RenderedEmail:
    """Render the subject, plain text and inlined HTML of one person's digest.

    The data is cleaned first (see :func:`~tracker.mail.render.clean_fields`), so the
    subject, both bodies and the headers agree on what the user's text says.
    """
    data = clean_fields(email, multiline=MULTILINE_FIELDS)
    return render_parts("digest", {"email": data, "counts": counts_phrase(data)})


def build_digest(email: DigestEmail) -> OutgoingMessage:
    """The digest as a ``multipart/alternative`` message (text first, then HTML).

    It carries the headers of every tracker email and no ``X-Tracker-Ref``: a digest is
    about many contracts, and naming one would mislead a reader's mail rules.
    """
    return assemble_message(render_digest(email), email, unsubscribe_headers(email))


def unsubscribe_headers(email: DigestEmail) -> dict[str, str]:
    """RFC 8058 one-click opt-out, when the digest has a settings link: a mail client's
    "Unsubscribe" POSTs ``List-Unsubscribe=One-Click`` to it, which turns the digest off.

    Only digests carry it: a reminder is about a decision, not a mailing list.
    """
    if not email.settings_url:
        return {}
    return {
        "List-Unsubscribe": f"<{email.settings_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def counts_phrase(email: DigestEmail) -> str:
    """``2 overdue, 3 due in the next 8 weeks``, or ``""`` when no decision is pending.

    One phrase for the subject and both bodies, so the counts a reader sees in the
    inbox are exactly those of the lists below them. A zero count is left out rather
    than shown as ``0 overdue``, which reads as an alarm at a glance.
    """
    parts = []
    if email.overdue:
        parts.append(f"{len(email.overdue)} overdue")
    if email.upcoming:
        parts.append(f"{len(email.upcoming)} due in the next 8 weeks")
    return ", ".join(parts)
