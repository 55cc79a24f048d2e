"""``tracker serve``: the web app behind the links in emails, on uvicorn."""

from __future__ import annotations

from functools import partial
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
    workers: str = value_option(
        "--workers", "N", "Worker processes answering requests (default 1; at most 64)."
    ),
    log_format: str = typer.Option("text", "--log-format", help="text or json log lines."),
) -> None:
    """Serve the pages the links in emails open (Mark done, Snooze, Digest settings).

    Needs TRACKER_BASE_URL (the public address in the links) and
    TRACKER_SECRET_KEY (signs them). Stateless: several instances can run behind
    a proxy on one PostgreSQL database, and --workers N runs N processes on one
    port (each with its own database connections). GET /healthz answers 200 when
    the database is reachable and its schema current.

    Example: tracker serve --host 127.0.0.1 --port 8080 --workers 2
    """
    import uvicorn

    from tracker.domain.text import parse_positive_int
    from tracker.errors import InvalidValue
    from tracker.web.worker import ServeOptions, build, setup_serve_logging

    if log_format not in ("text", "json"):
        raise InvalidValue("--log-format", log_format, "is not one of: text, json")
    listen_port = parse_positive_int(port or "8080", "--port")
    if not 0 < listen_port < 65536:
        raise InvalidValue("--port", port, "is not a port number (1-65535)")
    processes = parse_positive_int(workers or "1", "--workers", minimum=1, maximum=64)
    opts = options(ctx)
    chosen = ServeOptions(
        db=opts.db,
        config=str(opts.config) if opts.config else None,
        now=opts.now,
        log_format=log_format,
    )
    # Built here whatever the number of workers: a missing secret key or base URL is one
    # clear line before anything listens.
    web = build(chosen)
    # Fail fast, with one clear line, when the database cannot be reached (or is behind).
    run_with_app(ctx, _noop)
    setup_serve_logging(log_format)
    run = partial(
        uvicorn.run,
        host=host or "127.0.0.1",
        port=listen_port,
        log_config=None,
        # Our own access log cuts tokens short: uvicorn's would write them whole.
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    if processes == 1:
        run(web)
        return
    # Each worker is a new process that builds its own app (tracker.web.worker.app) from
    # the same options, which it inherits in its environment.
    chosen.to_environment()
    run("tracker.web.worker:app", factory=True, workers=processes)


async def _noop(app: Any) -> None:
    return None
