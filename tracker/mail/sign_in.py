"""The sign-in email: one link, how long it works, and what to do if you did not ask.

The words live in ``templates/email/sign_in.*``; the shared machinery of
:mod:`tracker.mail.render` renders and assembles it, as for reminders and digests.
"""

from __future__ import annotations

from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import SignInEmail
from tracker.mail.render import RenderedEmail, assemble_message, clean_fields, render_parts


def render_sign_in(email: SignInEmail) -> RenderedEmail:
    return render_parts("sign_in", {"email": clean_fields(email)})


def build_sign_in(email: SignInEmail) -> OutgoingMessage:
    return assemble_message(render_sign_in(email), email)
