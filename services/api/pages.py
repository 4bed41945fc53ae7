"""Each alliance's public website, server-rendered: `/a/{slug}/...`. No key is needed and
no JavaScript is used; every value is HTML-escaped by the template engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from services import public_pages
from services.errors import NotFound
from services.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = (TEMPLATES / "site.css").read_bytes()
#: Nothing runs on these pages and nothing is loaded from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
PAGE_PATHS = ["^/a/", "^/site.css$", "^/favicon.ico$"]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    return TemplateConfig(
        instance=JinjaTemplateEngine.from_environment(environment),
    )


def _page(name: str, context: dict[str, Any], *, status_code: int = 200) -> Template:
    return Template(
        template_name=f"site/{name}.html",
        context={"shown": None, "current": None, **context},
        status_code=status_code,
        headers=SECURITY_HEADERS,
        media_type="text/html",
    )


def not_found_page(request: Request[Any, Any, Any], error: NotFound) -> Template:
    """A real page, with a 404 status, for an unknown or suspended alliance or page."""
    return _page(
        "not_found",
        {
            "alliance": None,
            "terms": None,
            "slug": "",
            "heading": "Page not found",
            "message": error.message,
        },
        status_code=404,
    )


def bad_request_page(request: Request[Any, Any, Any], error: ValidationException) -> Template:
    """A bad address (e.g. ?page=0) gets a page too, not a JSON problem."""
    return _page(
        "not_found",
        {
            "alliance": None,
            "terms": None,
            "slug": "",
            "heading": "Bad address",
            "message": "This address is not one of the alliance's pages (check the page number).",
        },
        status_code=400,
    )


Page = Annotated[int, QueryParameter(ge=1, le=100_000, description="Page (1: newest)")]


class PublicSite(Controller):
    path = "/a/{slug:str}"
    include_in_schema = False
    exception_handlers = {NotFound: not_found_page, ValidationException: bad_request_page}

    @get("/", sync_to_thread=True)
    def home(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> Template:
        return _page("home", {**public_pages.home(runtime, slug), "current": "home"})

    @get("/minutes", sync_to_thread=True)
    def minutes_index(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], page: Page = 1
    ) -> Template:
        found = public_pages.minutes_index(runtime, slug, page=page)
        return _page("minutes_index", {**found, "current": "minutes"})

    @get("/minutes/{minutes_id:str}", sync_to_thread=True)
    def minutes(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], minutes_id: FromPath[str]
    ) -> Template:
        found = public_pages.minutes(runtime, slug, minutes_id)
        return _page("minutes", {**found, "current": "minutes"})

    @get("/members", sync_to_thread=True)
    def members(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> Template:
        return _page("members", {**public_pages.members(runtime, slug), "current": "members"})

    @get("/terms", sync_to_thread=True)
    def terms(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> Template:
        found = public_pages.terms(runtime, slug, number=None)
        return _page("terms", {**found, "current": "terms"})

    @get("/terms/{number:int}", sync_to_thread=True)
    def terms_version(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], number: FromPath[int]
    ) -> Template:
        found = public_pages.terms(runtime, slug, number=number)
        return _page("terms", {**found, "current": "terms"})

    @get("/{rest:path}", sync_to_thread=False)
    def elsewhere(self, slug: FromPath[str], rest: FromPath[str]) -> Template:
        """Any other address under an alliance's pages: the 404 page."""
        raise NotFound("there is no such page on this alliance's site")


@get("/site.css", include_in_schema=False, sync_to_thread=False)
def stylesheet() -> Response[bytes]:
    return Response(
        STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@get(
    "/favicon.ico",
    include_in_schema=False,
    sync_to_thread=False,
    status_code=204,
    cache_control=CacheControlHeader(public=True, max_age=86400),
)
def favicon() -> None:
    """No icon: an empty answer, so browsers stop asking (and log no error)."""
