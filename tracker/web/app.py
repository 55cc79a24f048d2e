"""The web app: routes, the security and logging wrappers, and /healthz.

``create_app`` takes the App that ``tracker serve`` built (settings, policy, database,
``--now``) and returns the ASGI app uvicorn runs. The wrappers sit outside Starlette so
that every response, a 404 or a 500 included, carries the security headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tracker.service.app import App
from tracker.service.links import secret_key
from tracker.store.schema import current_revision, head_revision
from tracker.web import (
    actions,
    contract,
    decide,
    deliveries,
    digest,
    funding,
    home,
    register,
    settings,
    signin,
)
from tracker.web.auth import SignInRequired, to_sign_in, with_sessions
from tracker.web.context import ReadsOnly, WebContext
from tracker.web.csrf import with_csrf
from tracker.web.pages import stylesheet
from tracker.web.security import AccessLog, SameSitePosts, SecurityHeaders


async def healthz(request: Request) -> Response:
    """200 when the database answers and its schema is current; else 503 and one line."""
    ctx: WebContext = request.app.state.web
    try:
        current = await current_revision(ctx.base.engine)
    except Exception as exc:  # any failure to reach the database is "not healthy"
        return PlainTextResponse(f"database unreachable ({type(exc).__name__})\n", 503)
    head = head_revision()
    if current != head:
        return PlainTextResponse(f"schema at {current or 'none'}, expected {head}\n", 503)
    return PlainTextResponse("ok\n")


async def _stylesheet(_request: Request) -> Response:
    return stylesheet()


def create_app(base: App) -> ASGIApp:
    """The ASGI app over ``base``'s database; refuses (ConfigError) without a secret key
    or a base URL, since every page is reached from a signed link to that address."""
    from tracker.errors import ConfigError

    secret = secret_key(base.settings)
    if not base.settings.base_url:
        raise ConfigError(
            "TRACKER_BASE_URL is not set: set it to the public address of this web app "
            "(e.g. https://tracker.example.org), which the links in emails point to"
        )
    web = WebContext(base=base, secret=secret, base_url=base.settings.base_url)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await base.close()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/static/site.css", _stylesheet, methods=["GET"]),
        Route("/act/{token}", actions.show, methods=["GET"]),
        Route("/act/{token}", actions.record, methods=["POST"]),
        Route("/digest/{token}", digest.show, methods=["GET"]),
        Route("/digest/{token}", digest.save, methods=["POST"]),
        Route("/sign-in", signin.form, methods=["GET"]),
        Route("/sign-in", signin.ask, methods=["POST"]),
        Route("/sign-in/{token}", signin.show_link, methods=["GET"]),
        Route("/sign-in/{token}", signin.use_link, methods=["POST"]),
        Route("/sign-out", signin.leave, methods=["POST"]),
        Route("/settings", settings.show, methods=["GET"]),
        Route("/settings", settings.save, methods=["POST"]),
        Route("/settings/calendar", settings.new_calendar_url, methods=["POST"]),
        Route("/calendar/{secret}.ics", settings.calendar, methods=["GET"]),
        Route("/register", register.show, methods=["GET"]),
        Route("/register.csv", register.csv_file, methods=["GET"]),
        Route("/register.xlsx", register.xlsx_file, methods=["GET"]),
        Route("/funding", funding.show, methods=["GET"]),
        Route("/deliveries", deliveries.show, methods=["GET"]),
        Route("/", home.show, methods=["GET"]),
        Route("/contracts/{ref:path}/milestones/{kind}/done", decide.done, methods=["POST"]),
        Route("/contracts/{ref:path}/milestones/{kind}/snooze", decide.snooze, methods=["POST"]),
        Route("/contracts/{ref:path}", contract.show, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={SignInRequired: to_sign_in},
    )
    app.state.web = web
    guarded = with_sessions(
        with_csrf(SameSitePosts(ReadsOnly(app), web.base_url), secret, web.base_url),
        secret,
        web.base_url,
    )
    return SecurityHeaders(AccessLog(guarded))
