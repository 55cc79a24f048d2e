"""``tracker serve``: the web app behind the links in emails, on uvicorn."""

from __future__ import annotations

from typing import Any

import typer

from tracker.cli.common import options, run_with_app
from tracker.cli.options import value_option


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: str = value_option("--host", "HOST", "Address to listen on (default 127.0.0.1)."),
    port: str = value_option("--port", "PORT", "Port to listen on (default 8080)."),
    log_format: str = typer.Option("text", "--log-format", help="text or json log lines."),
) -> None:
    """Serve the pages the links in emails open (Mark done, Snooze, Digest settings).

    Needs TRACKER_BASE_URL (the public address in the links) and
    TRACKER_SECRET_KEY (signs them). Stateless: several instances can run behind
    a proxy on one PostgreSQL database. GET /healthz answers 200 when the
    database is reachable and its schema current.

    Example: tracker serve --host 127.0.0.1 --port 8080
    """
    import logging

    import uvicorn

    from tracker.cli.logs import setup_logging
    from tracker.domain.dates import parse_now
    from tracker.domain.text import parse_positive_int
    from tracker.errors import InvalidValue
    from tracker.service.app import make_app
    from tracker.web.app import create_app

    if log_format not in ("text", "json"):
        raise InvalidValue("--log-format", log_format, "is not one of: text, json")
    listen_port = parse_positive_int(port or "8080", "--port")
    if not 0 < listen_port < 65536:
        raise InvalidValue("--port", port, "is not a port number (1-65535)")
    opts = options(ctx)
    now = parse_now(opts.now) if opts.now else None
    web = create_app(make_app(db=opts.db, config=opts.config, now=now))
    # Fail fast, with one clear line, when the database cannot be reached (or is behind).
    run_with_app(ctx, _noop)
    setup_logging(log_format)
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    uvicorn.run(
        web,
        host=host or "127.0.0.1",
        port=listen_port,
        log_config=None,
        # Our own access log cuts tokens short: uvicorn's would write them whole.
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


async def _noop(app: Any) -> None:
    return None
