"""The national directory with governance health (platform admins), and each alliance's
own obligations calendar and health (its keys)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from domain.obligations import Kind, State
from services import directory, obligations
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, PLATFORM_ADMIN
from services.errors import InvalidRequest, NotFound
from services.runtime import Runtime

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (1-200)")]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=200, description="The previous page's `next_after`, unchanged"),
]
RegionFilter = Annotated[str | None, QueryParameter(max_length=100)]
TemplateFilter = Annotated[str | None, QueryParameter(max_length=50)]
# `state` is a name litestar keeps for itself: these are read from ?state= as text and
# checked here, so a bad value's problem names `state`, the parameter the caller sent.
HEALTH_STATES = get_args(directory.HealthFilter)
OBLIGATION_STATES = get_args(State)
HealthQuery = Annotated[
    str | None,
    QueryParameter(
        name="state",
        max_length=20,
        description="Health state: " + ", ".join(HEALTH_STATES) + " (not yet computed)",
    ),
]
ObligationState = Annotated[
    str | None,
    QueryParameter(name="state", max_length=20, description=", ".join(OBLIGATION_STATES)),
]


def _one_of(value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is not None and value not in choices:
        raise InvalidRequest(f"state: {value!r} is not one of {', '.join(choices)}")
    return value


class HealthOut(msgspec.Struct, kw_only=True):
    """Counts and dates only: no person, no text of the alliance's records."""

    state: Literal["healthy", "needs-attention", "at-risk"]
    reasons: list[str]
    as_of: date
    meetings_required: int
    meetings_held: int
    minutes_approved: int
    minutes_published_in_time: int
    minutes_publication_overdue: int
    review_due_on: date | None
    review_overdue: bool
    seats_vacant: int
    terms_expired: int
    applications_waiting: int
    oldest_application_since: date | None
    obligations_overdue: int
    missed_last_12_months: int
    next_due_on: date | None
    last_activity_on: date | None


class DirectoryItemOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    region: str
    template: str
    status: Literal["active", "suspended"]
    onboarded_at: str
    #: None until its health is first computed.
    health: HealthOut | None


class DirectoryPageOut(msgspec.Struct, kw_only=True):
    items: list[DirectoryItemOut]
    next_after: str | None


class ObligationOut(msgspec.Struct, kw_only=True):
    key: str
    kind: str
    title: str
    window_start: date
    due_on: date
    owner: dict[str, str]
    state: Literal["upcoming", "due", "met", "missed"]
    met_by: list[str]
    rule: str | None
    clause: str | None
    under_version: int | None


class MissedOut(msgspec.Struct, kw_only=True):
    obligation_key: str
    kind: str
    due_on: date
    noticed_on: date


class DirectoryDetailOut(DirectoryItemOut, kw_only=True):
    obligations: list[ObligationOut]
    #: Obligations recorded as missed in the alliance's log.
    missed: list[MissedOut]


class ObligationPageOut(msgspec.Struct, kw_only=True):
    items: list[ObligationOut]
    next_after: str | None


class RefreshedOut(msgspec.Struct, kw_only=True):
    refreshed: int


def _filters(
    region: str | None, template: str | None, status: str | None, state: str | None
) -> directory.Filters:
    return msgspec.convert(
        {
            "region": region,
            "template": template,
            "status": status,
            "state": _one_of(state, HEALTH_STATES),
        },
        directory.Filters,
    )


class DirectoryController(Controller):
    path = "/v1/directory"
    tags = ["National directory"]
    guards = [PLATFORM_ADMIN]

    @get(
        "/",
        operation_id="listDirectory",
        responses=schemas.problems(400, 401, 403),
        sync_to_thread=True,
    )
    def listing(
        self,
        runtime: NamedDependency[Runtime],
        region: RegionFilter = None,
        template: TemplateFilter = None,
        status: FromQuery[Literal["active", "suspended"] | None] = None,
        health: HealthQuery = None,
        sort: FromQuery[directory.Sort] = "slug",
        order: FromQuery[directory.Order] = "asc",
        after: Cursor = None,
        limit: Limit = 50,
    ) -> DirectoryPageOut:
        """Every alliance with its governance health, filtered by region, template,
        status and health state, sorted (`state` sorts worst first with `order=desc`), a
        page at a time."""
        items, next_after = directory.page(
            runtime,
            filters=_filters(region, template, status, health),
            sort=sort,
            order=order,
            after=after,
            limit=limit,
        )
        return msgspec.convert(
            {"items": items, "next_after": next_after}, DirectoryPageOut, strict=False
        )

    @get(
        "/export.csv",
        operation_id="exportDirectory",
        responses=schemas.problems(400, 401, 403),
        media_type="text/csv",
        sync_to_thread=True,
    )
    def export(
        self,
        runtime: NamedDependency[Runtime],
        region: RegionFilter = None,
        template: TemplateFilter = None,
        status: FromQuery[Literal["active", "suspended"] | None] = None,
        health: HealthQuery = None,
        sort: FromQuery[directory.Sort] = "slug",
        order: FromQuery[directory.Order] = "asc",
    ) -> Stream:
        """The filtered directory with its indicators as CSV (one row per alliance; cells
        a spreadsheet would run as a formula are quoted as text)."""
        lines = list(
            directory.export(
                runtime,
                filters=_filters(region, template, status, health),
                sort=sort,
                order=order,
            )
        )
        return Stream(
            iter(lines),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="concord-directory.csv"'},
        )

    @post(
        "/refresh",
        operation_id="refreshDirectory",
        responses=schemas.problems(401, 403),
        status_code=200,
        sync_to_thread=True,
    )
    def refresh(self, runtime: NamedDependency[Runtime]) -> RefreshedOut:
        """Recompute every alliance's obligations and health now (the platform does it
        after each change and daily; this is for an operator who will not wait)."""
        return RefreshedOut(refreshed=obligations.sweep(runtime))

    @get(
        "/{slug:str}",
        operation_id="getDirectoryEntry",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def detail(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> DirectoryDetailOut:
        """One alliance for the umbrella: its health and obligations calendar computed now,
        and the obligations recorded as missed."""
        return msgspec.convert(directory.detail(runtime, slug), DirectoryDetailOut, strict=False)


def _obligation_page(
    found: list[Any], after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    start = 0
    if after is not None:
        keys = [o.key for o in found]
        if after not in keys:
            raise InvalidRequest(f"after: {after!r} is not an obligation of this list")
        start = keys.index(after) + 1
    chosen = found[start : start + limit]
    more = start + limit < len(found)
    return [directory.obligation_out(o) for o in chosen], (chosen[-1].key if more else None)


class ObligationController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Obligations"]
    guards = [ANYONE_OF_THE_TENANT]

    @get(
        "/obligations",
        operation_id="listObligations",
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def listing(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        wanted: ObligationState = None,
        kind: FromQuery[Kind | None] = None,
        due_from: Annotated[date | None, QueryParameter(description="Due on or after")] = None,
        due_to: Annotated[date | None, QueryParameter(description="Due on or before")] = None,
        after: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Limit = 100,
    ) -> ObligationPageOut:
        """The alliance's obligations calendar: every dated duty its ToR puts on it, from
        version 1 to a year ahead, by due date, each with its state, owner and clause."""
        found = [
            o
            for o in obligations.calendar(runtime, slug)
            if (_one_of(wanted, OBLIGATION_STATES) is None or o.state == wanted)
            and (kind is None or o.kind == kind)
            and (due_from is None or o.due_on >= due_from)
            and (due_to is None or o.due_on <= due_to)
        ]
        items, next_after = _obligation_page(found, after, limit)
        return msgspec.convert(
            {"items": items, "next_after": next_after}, ObligationPageOut, strict=False
        )

    @get(
        "/obligations/{obligation_key:str}",
        operation_id="getObligation",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def one(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        obligation_key: FromPath[str],
    ) -> ObligationOut:
        """One obligation, by its key (as a reminder links to it)."""
        for obligation in obligations.calendar(runtime, slug):
            if obligation.key == obligation_key:
                return msgspec.convert(
                    directory.obligation_out(obligation), ObligationOut, strict=False
                )
        raise NotFound(f"no obligation {obligation_key!r} in this alliance's calendar")

    @get(
        "/health",
        operation_id="getGovernanceHealth",
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def health(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> HealthOut:
        """The alliance's governance health as the umbrella sees it, computed now."""
        _, result = obligations.assess(runtime, slug)
        return msgspec.convert(
            {**msgspec.to_builtins(result), "reasons": list(result.reasons)},
            HealthOut,
            strict=False,
        )
