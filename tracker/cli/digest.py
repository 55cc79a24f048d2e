"""``tracker digest`` and ``tracker recipient set``: the per-person summary email."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tracker.cli.common import run_with_app
from tracker.cli.options import sub_app, value_option

recipient_group = sub_app(
    "recipient",
    "Per-person digest settings.\n\nExample: tracker recipient set olivia@example.org --digest daily --time 07:30",
)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
    app.add_typer(recipient_group)


_PREVIEW_HELP = "Write each digest as DIR/<email>.html and .txt; send nothing."


def digest(
    ctx: typer.Context,
    preview: Path | None = value_option("--preview", "DIR", _PREVIEW_HELP),
    to: str | None = value_option("--to", "EMAIL", "Only this person."),
) -> None:
    """Send the digests due now (each person once per period), or preview them.

    Example: tracker --now 2024-09-02 digest --preview digests/

    Example: tracker digest --to olivia@example.org
    """
    from tracker.cli.output import console
    from tracker.domain.emails import parse_email

    only = [parse_email(to, "--to")] if to is not None else None
    out = console()
    if preview is not None:
        written = run_with_app(ctx, lambda app: _write_previews(app, preview, only))
        for path in written:
            out.print(f"wrote {path}")
        out.print(f"{len(written) // 2} digests previewed in {preview}; nothing sent.")
        return

    async def _send(app: Any) -> Any:
        from tracker.mail.transport import make_transport
        from tracker.service.digest.send import send_digests
        from tracker.service.reminders.send import instance_name

        return await send_digests(
            app,
            make_transport(app.settings),
            instance=instance_name(),
            only=only,
            on_result=lambda r: out.print(f"{r.status:<8} {r.recipient}  {r.period}  {r.reply}"),
        )

    report = run_with_app(ctx, _send)
    out.print(f"Digest done: {report.summary()}.")


async def _write_previews(app: Any, directory: Path, only: list[str] | None) -> list[Path]:
    from tracker.errors import InvalidValue
    from tracker.mail.digest import render_digest
    from tracker.service.digest.send import preview_digests

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue(
            "--preview", str(directory), f"cannot be created ({exc.strerror})"
        ) from None
    written = []
    for person, email in await preview_digests(app, only):
        rendered = render_digest(email)
        for suffix, body in (
            (".html", rendered.html),
            (".txt", f"Subject: {rendered.subject}\n\n{rendered.text}"),
        ):
            path = directory / f"{person}{suffix}"
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written


@recipient_group.command("set")
def recipient_set(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The person's email address."),
    digest: str = typer.Option(..., "--digest", help="weekly, daily or off."),
    time: str | None = value_option("--time", "HH:MM", "Send time, London (default from config)."),
) -> None:
    """Set how often a person gets the digest (weekly, daily or off) and at what time.

    Example: tracker recipient set cfo@example.org --digest off
    """
    from tracker.domain.emails import parse_email
    from tracker.service.digest.recipients import parse_digest_time, parse_frequency, set_recipient

    address = parse_email(email, "EMAIL")
    frequency = parse_frequency(digest)
    at = parse_digest_time(time) if time is not None else None
    typer.echo(run_with_app(ctx, lambda app: set_recipient(app, address, frequency, at)))
