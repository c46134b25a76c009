"""The desk's web application: Starlette, Jinja2 templates (autoescaped), the guards.

:func:`create_app` builds the app over one session's output folder; ``omr
serve`` runs it with uvicorn. The pages are in :mod:`omr.web.routes`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from omr.web import security
from omr.web.data import SessionDesk
from omr.web.text import DEFAULT_LANG, LANGS, translate
from omr.workflow.audit import acting_from

HERE = Path(__file__).parent
FLASHES_KEPT = 200
OPEN_PATHS = ("/login", "/static/desk.css", "/static/desk.js")  # served before signing in
LANG_COOKIE = "omr_lang"
_request_lang: ContextVar[str | None] = ContextVar("omr_desk_lang", default=None)


@dataclass(frozen=True)
class Flash:
    """A message shown once on the page a redirect leads to."""

    kind: str  # ok, error
    text: str


class Desk:
    """What every request handler needs: the session, the guard, the templates, the language."""

    def __init__(self, sd: SessionDesk, guard: security.Guard, lang: str, secure: bool = False):
        self.sd = sd
        self.guard = guard
        self.lang = lang
        self.secure = secure  # served over https: cookies only travel encrypted
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["q"] = lambda v: quote(str(v), safe="")
        self.templates = Jinja2Templates(env=env)
        self.flashes: OrderedDict[str, Flash] = OrderedDict()

    @property
    def current_lang(self) -> str:
        """The language of the request being answered: its browser's choice, else ``--lang``."""
        return _request_lang.get() or self.lang

    def _(self, key: str, **values) -> str:
        return translate(key, self.current_lang, **values)

    def flash(self, kind: str, text: str) -> str:
        """Keep a message for the next page; return its id (the ``msg`` query value)."""
        key = secrets.token_urlsafe(8)
        self.flashes[key] = Flash(kind, text)
        while len(self.flashes) > FLASHES_KEPT:
            self.flashes.popitem(last=False)
        return key

    def render(
        self, request: Request, template: str, status_code: int = 200, **context
    ) -> Response:
        """Render ``template`` with the frame's context."""
        msg = request.query_params.get("msg")
        context.setdefault("flash", self.flashes.pop(msg, None) if msg else None)
        context.update(
            _=self._,
            lang=self.current_lang,
            langs=LANGS,
            csrf=self.guard.csrf,
            path=request.url.path,
            here=request.url.path + _query_without(request.query_params.multi_items(), "msg"),
            session_name=self.sd.out.resolve().parent.name,
            signed=self.guard.password is not None,
        )
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def redirect(self, url: str, kind: str | None = None, text: str = "") -> RedirectResponse:
        """A 303 to ``url`` (a path on the desk), carrying a message when ``kind`` is given."""
        if kind is not None:
            url += ("&" if "?" in url else "?") + f"msg={self.flash(kind, text)}"
        return RedirectResponse(url, status_code=303)

    async def form(self, request: Request) -> FormData:
        """The POSTed form, after its token is checked (403 and nothing done when wrong)."""
        form = await request.form()
        if not self.guard.csrf_ok(form.get(security.CSRF_FIELD)):
            raise HTTPException(403, self._("error.csrf"))
        return form

    async def act(self, fn, *args, **kwargs):
        """Run one workflow act in a worker thread, one act at a time."""

        def locked():
            with self.sd.acts, acting_from("omr serve"):
                return fn(*args, **kwargs)

        return await run_in_threadpool(locked)


def _query_without(items: list[tuple[str, str]], drop: str) -> str:
    kept = [(k, v) for k, v in items if k != drop]
    return "?" + urlencode(kept) if kept else ""


class Guarded(BaseHTTPMiddleware):
    """Checks every request (host, sign-in, origin of a POST) and sets the safety headers."""

    def __init__(self, app, desk: Desk):
        super().__init__(app)
        self.desk = desk

    async def dispatch(self, request: Request, call_next) -> Response:
        chosen = request.cookies.get(LANG_COOKIE)
        _request_lang.set(chosen if chosen in LANGS else None)
        guard, _ = self.desk.guard, self.desk._
        if not guard.host_allowed(request.headers.get("host", "")):
            response: Response = PlainTextResponse(_("error.host"), status_code=421)
        elif request.url.path not in OPEN_PATHS and not guard.signed_in(
            request.cookies.get(security.COOKIE), request.headers.get("authorization")
        ):
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                response = RedirectResponse("/login", status_code=303)
            else:
                response = PlainTextResponse(
                    "401", status_code=401, headers={"www-authenticate": 'Basic realm="omr"'}
                )
        elif request.method not in ("GET", "HEAD") and not security.same_origin(
            request.headers.get("origin"), request.headers.get("host")
        ):
            response = PlainTextResponse(_("error.origin"), status_code=403)
        else:
            response = await call_next(request)
        for name, value in security.HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(
    out: Path,
    *,
    session_root: Path | None = None,
    password: str | None = None,
    loopback: bool = True,
    lang: str = DEFAULT_LANG,
    secure: bool = False,
) -> Starlette:
    """The desk over ``out`` (a session's output folder); ``password`` guards every request.

    ``secure``: it is served over https, so its cookies are sent over https only.
    """
    from omr.web import routes

    if lang not in LANGS:
        raise ValueError(f"lang: {lang!r} is not one of {LANGS}")
    desk = Desk(
        SessionDesk(out, session_root), security.Guard(password, loopback=loopback), lang, secure
    )

    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.status_code)
        if exc.status_code == 404:
            detail = desk._("error.not_found")
        return desk.render(
            request, "error.html", exc.status_code, title=desk._("error.title"), message=detail
        )

    app = Starlette(
        routes=[
            *routes.routes(desk),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(Guarded, desk=desk)],
        exception_handlers={HTTPException: http_error},
    )
    app.state.desk = desk
    return app
