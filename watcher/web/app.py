"""The read-only web view: a Starlette app rendering jinja2 templates on the server.

Pages: the story (``/``), a fact's timeline (``/facts/KEY``), changes
(``/changes``), sources (``/sources``) and the outbox (``/outbox``); the
JSON API under ``/api/`` serves what the ``--json`` commands print, with
ETags; ``/metrics`` is for Prometheus. Only GET and HEAD are answered.

Every response carries a strict Content-Security-Policy (no script at all,
styles only from ``/static/``), and when a token is configured every request
must carry it, as a bearer token or as the password of basic auth.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher import __version__
from watcher.alerts.outbox import outbox_json
from watcher.alerts.render import REVISION_MARK
from watcher.facts.shapes import StoryFacts, facts_document
from watcher.facts.stories import Story
from watcher.resources import resource_path
from watcher.store import StoreError
from watcher.web import pages, queries
from watcher.web.metrics import exposition, metrics_registry
from watcher.web.pages import Site

log = logging.getLogger(__name__)

# No script, no frames, no plugins; styles and images only from this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Links lead to the open web: it need not learn where the dashboard is.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
REALM = 'Basic realm="watcher", charset="UTF-8"'


def web_root() -> Path:
    """The web view's templates and static files (``templates/web``)."""
    return resource_path("templates") / "web"


# -- middleware ------------------------------------------------------------------


class SecurityHeaders:
    """Adds the security headers to every HTTP response, errors and 304s included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def token_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries ``token``: ``Bearer TOKEN``, or basic auth
    with any user name and TOKEN as the password."""
    if not header:
        return False
    scheme, _, credentials = header.partition(" ")
    given: str | None = None
    if scheme.lower() == "bearer":
        given = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, colon, password = decoded.partition(":")
        given = password if colon else None
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class RequireToken:
    """Answers 401 to any request without the token, when there is one (a browser then
    asks for a user name and password)."""

    def __init__(self, app: ASGIApp, token: Callable[[], str | None]) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self.token()
        if scope["type"] == "http" and token is not None:
            headers = dict(scope["headers"])
            header = headers.get(b"authorization", b"").decode("latin-1") or None
            if not token_matches(header, token):
                response = Response(
                    "a token is required (Authorization: Bearer TOKEN, or basic auth)\n",
                    status_code=401,
                    media_type="text/plain",
                    headers={"WWW-Authenticate": REALM},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class OneLineErrors:
    """An unexpected error in a page is one line in the log (its traceback only at debug
    level); Starlette has answered 500 already, and the server goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            log.error(
                "%s: %s",
                scope.get("path", "?"),
                _one_line(exc),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 when the state database cannot be read (locked for too long, gone, damaged)."""
    problem = " ".join(str(getattr(exc, "orig", None) or exc).split())
    log.error("%s: state database unavailable: %s", request.url.path, problem)
    return _plain(503, f"state database unavailable: {problem}\n")


def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")


# -- responses -------------------------------------------------------------------------


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` semantics: ``*``, or any listed tag equal to ``etag`` (weakly)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def json_response(request: Request, data: Any) -> Response:
    """JSON with a strong ETag; a request that already has this version gets 304."""
    body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _site(request: Request) -> Site:
    return request.app.state.site


def _when(value: datetime | date | None, site: Site) -> str:
    """A time on the wall clock of ``notify.timezone``; a day as it is."""
    if value is None:
        return "never"
    if isinstance(value, datetime):
        return value.astimezone(site.zone).strftime("%Y-%m-%d %H:%M %Z")
    return value.isoformat()


def templates_for(site: Site) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(web_root())),
        # Everything is escaped, SVG included: titles and quotes come from the open web.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda value: _when(value, site)
    env.globals["story_title"] = ", ".join(s.title for s in site.stories)
    env.globals["version"] = __version__
    env.globals["revision_mark"] = REVISION_MARK
    return Jinja2Templates(env=env)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status)


# -- pages --------------------------------------------------------------------------


def _story(request: Request) -> Story | None:
    """The story asked for with ``?story=NAME``; without one, the config's first."""
    return _site(request).story(request.query_params.get("story") or None)


def story(request: Request) -> Response:
    chosen = _story(request)
    if chosen is None:
        return not_found(request)
    return _page(request, "story.html.j2", pages.story_page(_site(request), chosen))


def timeline(request: Request) -> Response:
    site = _site(request)
    chosen = _story(request)
    fact = site.fact(request.path_params["key"], chosen) if chosen else None
    if chosen is None or fact is None:
        return not_found(request)
    return _page(request, "timeline.html.j2", pages.timeline_page(site, chosen, fact))


def changes(request: Request) -> Response:
    site = _site(request)
    key = request.query_params.get("fact") or None
    story_name = request.query_params.get("story") or None
    page = request.query_params.get("page", "1")
    number = int(page) if page.isdigit() else 1
    context = pages.changes_page(site, key=key, story=story_name, page=number)
    unknown = key is not None and site.fact(key) is None
    return _page(request, "changes.html.j2", {**context, "unknown_fact": unknown})


def sources(request: Request) -> Response:
    return _page(request, "sources.html.j2", pages.sources_page(_site(request)))


def outbox(request: Request) -> Response:
    return _page(request, "outbox.html.j2", pages.outbox_page(_site(request)))


def not_found(request: Request, exc: Exception | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return json_error(404, f"{request.url.path}: not found")
    return _page(request, "not_found.html.j2", {"title": "Not found"}, status=404)


# -- API ------------------------------------------------------------------------------


def _shown(site: Site, request: Request, key: str | None = None) -> list[StoryFacts] | None:
    """Each story asked for (``?story=NAME``, else every one) with its facts (only
    ``key``, when given), changes and corrections; None for an unknown story."""
    name = request.query_params.get("story") or None
    stories = site.stories if name is None else [s for s in site.stories if s.name == name]
    if not stories:
        return None
    shown = []
    for story in stories:
        if key is not None and key not in story.topic.keys:
            continue
        known = site.known(story)
        keys = [k for k in story.topic.keys if k in known.facts and key in (None, k)]
        shown.append(
            StoryFacts(
                story,
                [known.facts[k] for k in keys],
                queries.changes(site.store, [story], key=key),
                [c for c in queries.corrections(site.store, story.name) if key in (None, c.key)],
            )
        )
    return shown


def api_facts(request: Request) -> Response:
    """What is known, fact by fact; the same as `watcher facts --json`.
    ---
    summary: Every fact as it stands, with its sources, and the changes so far
    parameters:
      - name: story
        in: query
        schema: {type: string}
        description: only this story (default every one)
    responses:
      200:
        description: "{topic, stories, facts: [fact], changes: [change], corrections}"
      304:
        description: Not modified since the ETag given in If-None-Match
      404:
        description: Not a story of the config
    """
    site = _site(request)
    shown = _shown(site, request)
    if shown is None:
        return json_error(404, f"{request.query_params['story']}: not a story of the config")
    return json_response(request, facts_document(shown))


def api_fact(request: Request) -> Response:
    """One fact; the same as `watcher facts KEY --json`.
    ---
    summary: One fact as it stands, and its changes
    parameters:
      - name: key
        in: path
        required: true
        schema: {type: string}
      - name: story
        in: query
        schema: {type: string}
        description: only this story (default every story that tracks the fact)
    responses:
      200:
        description: "{topic, stories, facts: [fact], changes: [change], corrections}"
      304:
        description: Not modified since the ETag given in If-None-Match
      404:
        description: Not a fact of the story (or of any story)
    """
    site = _site(request)
    key = request.path_params["key"]
    shown = _shown(site, request, key)
    if not shown:
        return json_error(404, f"{key}: not a fact of {_which(site, request)}")
    return json_response(request, facts_document(shown))


def _which(site: Site, request: Request) -> str:
    name = request.query_params.get("story")
    if name:
        return f"story {name!r}"
    if len(site.stories) == 1:
        return f"topic {site.topic.name!r}"
    return "any story"


def api_changes(request: Request) -> Response:
    """Fact changes, oldest first, each as in `watcher facts --json`.
    ---
    summary: Fact changes, with their evidence
    parameters:
      - name: fact
        in: query
        schema: {type: string}
        description: only the changes of this fact key
      - name: story
        in: query
        schema: {type: string}
        description: only the changes of this story (topic name)
    responses:
      200:
        description: "{changes: [change]}"
      304:
        description: Not modified since the ETag given in If-None-Match
      404:
        description: Not a fact of the topic
    """
    site = _site(request)
    key = request.query_params.get("fact") or None
    story_name = request.query_params.get("story") or None
    chosen = site.story(story_name) if story_name else None
    if key is not None and site.fact(key, chosen) is None:
        return json_error(404, f"{key}: not a fact of {_which(site, request)}")
    found = queries.changes(site.store, site.stories, key=key, story=story_name)
    return json_response(request, {"changes": [c.to_json() for c in found]})


def api_status(request: Request) -> Response:
    """Sources, outbox counts and the daemon; the same as `watcher status --json`.
    ---
    summary: Each source's health, the outbox's counts and the daemon's schedule
    responses:
      200:
        description: "{database, sources: [...], alerts: {...}, daemon}"
      304:
        description: Not modified since the ETag given in If-None-Match
    """
    site = _site(request)
    return json_response(request, queries.status(site.config, site.store))


def api_outbox(request: Request) -> Response:
    """Alerts pending, failed or uncertain; the same as `watcher outbox --json`.
    ---
    summary: Alerts not sent yet, failed, or uncertain
    responses:
      200:
        description: "{alerts: [alert]}"
      304:
        description: Not modified since the ETag given in If-None-Match
    """
    site = _site(request)
    return json_response(request, outbox_json(queries.open_alerts(site.config, site.store)))


_SCHEMAS = SchemaGenerator(
    {
        "openapi": "3.0.0",
        "info": {"title": "watcher", "version": __version__},
    }
)


def api_openapi(request: Request) -> Response:
    return JSONResponse(_SCHEMAS.get_schema(routes=request.app.routes))


def metrics(request: Request) -> Response:
    return Response(exposition(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


# -- the app -------------------------------------------------------------------------


class WebApp:
    """The web view as an ASGI app: Starlette behind the safety layers.

    With a token, every request must carry it. :meth:`use` points it at a
    reloaded config (the daemon's SIGHUP) without restarting the server.
    """

    def __init__(self, site: Site, *, token: str | None = None) -> None:
        get = ["GET"]
        routes = [
            Route("/", story, methods=get, include_in_schema=False),
            Route("/facts/{key}", timeline, methods=get, include_in_schema=False),
            Route("/changes", changes, methods=get, include_in_schema=False),
            Route("/sources", sources, methods=get, include_in_schema=False),
            Route("/outbox", outbox, methods=get, include_in_schema=False),
            Route("/api/facts", api_facts, methods=get),
            Route("/api/facts/{key}", api_fact, methods=get),
            Route("/api/changes", api_changes, methods=get),
            Route("/api/status", api_status, methods=get),
            Route("/api/outbox", api_outbox, methods=get),
            Route("/api/openapi.json", api_openapi, methods=get, include_in_schema=False),
            Route("/metrics", metrics, methods=get, include_in_schema=False),
            Mount("/static", StaticFiles(directory=web_root() / "static"), name="static"),
        ]
        self.starlette = Starlette(
            routes=routes,
            exception_handlers={
                404: not_found,
                StoreError: database_unavailable,
                SQLAlchemyError: database_unavailable,
            },
        )
        self.token: str | None = None
        self.use(site, token=token)
        self._stack = SecurityHeaders(
            RequireToken(OneLineErrors(self.starlette), lambda: self.token)
        )

    def use(self, site: Site, *, token: str | None) -> None:
        state = self.starlette.state
        state.site = site
        state.templates = templates_for(site)
        state.registry = metrics_registry(site.config, site.store)
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._stack(scope, receive, send)
