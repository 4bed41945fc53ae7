"""Review packs over HTTP: the auditor's report for a period, as JSON or as a printable
HTML page, each finding linked to the event-log positions that prove it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import FromPath, QueryParameter

from services.api import schemas
from services.api.auth import LOG_READERS
from services.api.pages import SECURITY_HEADERS
from services.audit import review
from services.audit.review import ReviewPack
from services.runtime import Runtime

# Read as text and parsed by `review.parse_day`, so that a bad date is refused naming the
# parameter as the caller wrote it ("from", a Python keyword, cannot be an argument name).
From = Annotated[
    str | None,
    QueryParameter(
        name="from",
        format=OpenAPIFormat.DATE,
        description="First day of the period, YYYY-MM-DD (default: the start of the review "
        "period the ToR in force defines that ends on `to`: the twelve months to `to` for an "
        "annual review)",
    ),
]
To = Annotated[
    str | None,
    QueryParameter(
        name="to",
        format=OpenAPIFormat.DATE,
        description="Last day of the period, YYYY-MM-DD, no later than today (default: today)",
    ),
]
#: The HTML page runs nothing and loads nothing; its one inline style is allowed by hash.
HTML_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{review.STYLE_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}


def _period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    return review.parse_day("from", start), review.parse_day("to", end)


class ReviewPackController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Audit"]

    @get(
        "/audit/review",
        operation_id="getReviewPack",
        guards=[LOG_READERS],
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def pack(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        start: From = None,
        end: To = None,
    ) -> ReviewPack:
        """The review pack for a period: meetings required and held, minutes, decisions,
        membership and office changes, terms of office, amendments and reviews, each
        finding with its severity, the ToR clause and the log positions that prove it."""
        return review.review_pack(runtime, slug, *_period(start, end))

    @get(
        "/audit/review.html",
        operation_id="getReviewPackHtml",
        guards=[LOG_READERS],
        responses=schemas.problems(400, 401, 403, 404, 422),
        media_type="text/html",
        sync_to_thread=True,
    )
    def page(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        start: From = None,
        end: To = None,
    ) -> Response[str]:
        """The same review pack as one plain, printable HTML page."""
        pack = review.review_pack(runtime, slug, *_period(start, end))
        return Response(review.render_html(pack), media_type="text/html", headers=HTML_HEADERS)
