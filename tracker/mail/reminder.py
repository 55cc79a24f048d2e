"""Turn a :class:`ReminderEmail` into a subject, a plain-text and an HTML body, and a message.

The words live in ``templates/email/reminder.subject.txt``, ``reminder.txt`` and
``reminder.html``; this module only cleans the data and hands it to the shared
machinery of :mod:`tracker.mail.render` (the digest's builder, :mod:`tracker.mail.digest`,
sits beside it and uses the same pieces).
"""

from __future__ import annotations

from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import ReminderEmail
from tracker.mail.render import RenderedEmail, assemble_message, clean_fields, render_parts


def render_reminder(email: ReminderEmail) -> RenderedEmail:
    """Render the subject, plain text and inlined HTML of one reminder.

    The data is cleaned first (see :func:`clean_reminder`) so the two bodies and the
    headers agree on what the user's text says.
    """
    return render_parts("reminder", {"email": clean_reminder(email)})


def build_reminder(email: ReminderEmail) -> OutgoingMessage:
    """The reminder as a ``multipart/alternative`` message (text first, then HTML).

    ``X-Tracker-Ref`` lets a reader's mail rules file reminders by contract; the other
    headers are those of every tracker email (see :func:`assemble_message`).
    """
    return assemble_message(render_reminder(email), email, {"X-Tracker-Ref": email.ref})


def clean_reminder(email: ReminderEmail) -> ReminderEmail:
    """A copy whose text fields hold no control characters, separators or bidi controls.

    One-line fields become one line; the milestone note keeps its newlines and tabs.
    The templates can then show every field as it is without a stray line break or a
    right-to-left override reordering what the reader sees.
    """
    return clean_fields(email, multiline=frozenset({"milestone_note"}))
