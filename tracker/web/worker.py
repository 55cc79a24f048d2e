"""``tracker serve --workers N``: the app each uvicorn worker process builds for itself.

uvicorn starts every worker as a fresh process from an import string (this module's
:func:`app`, a factory), so the app cannot be handed over built: ``serve`` hands over
its options instead (:class:`ServeOptions`, in the environment the workers inherit) and
each worker builds the same app from them as a single ``serve`` does. Settings, the
secret key and the base URL come from the configuration as for any command, and
:func:`tracker.web.app.create_app` refuses to start without them; logging is set up the
same way (uvicorn's own access log stays off in every worker: the access log is
:class:`tracker.web.security.AccessLog`, inside the app).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

#: The environment variable that carries ``serve``'s options to its workers.
OPTIONS_VARIABLE = "TRACKER_SERVE_OPTIONS"


@dataclass(frozen=True)
class ServeOptions:
    """What a worker needs of ``serve``'s command line to build the same app."""

    db: str | None
    config: str | None
    now: str | None
    log_format: str

    def to_environment(self) -> None:
        os.environ[OPTIONS_VARIABLE] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServeOptions:
        return cls(**json.loads(os.environ[OPTIONS_VARIABLE]))


def setup_serve_logging(log_format: str) -> None:
    """``serve``'s log lines, in the main process and in every worker."""
    from tracker.cli.logs import setup_logging

    setup_logging(log_format)
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)


def build(options: ServeOptions) -> ASGIApp:
    """The web app over the database and settings ``options`` name."""
    from tracker.domain.dates import parse_now
    from tracker.service.app import make_app
    from tracker.web.app import create_app

    now = parse_now(options.now) if options.now else None
    config = Path(options.config) if options.config else None
    return create_app(make_app(db=options.db, config=config, now=now))


def app() -> ASGIApp:
    """uvicorn's factory in each worker process."""
    options = ServeOptions.from_environment()
    setup_serve_logging(options.log_format)
    return build(options)
