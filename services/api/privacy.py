"""People's data rights (UK GDPR): subject access, erasure, and retention holds.

A person is named in the request body, never in the URL, so that no name or email ever
sits in an access log or a trace. The tenant admin acts; auditors read the register.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services import privacy
from services.access import Principal
from services.api import schemas
from services.api.auth import LOG_READERS, TENANT_ADMIN
from services.api.schemas import Email, Id, PersonName
from services.runtime import Runtime

Reason = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=500,
        description="Why (kept on the record, in the clear, for ever: never name the person)",
    ),
]
NO_STORE = CacheControlHeader(no_store=True)


class PersonQuery(schemas.Request, kw_only=True):
    """The person asked about: their name, their email, or both."""

    name: PersonName | None = None
    email: Email | None = None


class ErasureIn(schemas.Request, kw_only=True):
    name: PersonName | None = None
    email: Email | None = None
    reason: Reason


class HoldIn(schemas.Request, kw_only=True):
    name: PersonName | None = None
    email: Email | None = None
    #: e.g. "safeguarding", "legal claim"
    reason: Reason
    #: The last day the hold applies (none: until it is lifted).
    until: date | None = None


class LiftIn(schemas.Request, kw_only=True):
    reason: Reason


class ErasureOut(msgspec.Struct, kw_only=True):
    request_id: str
    status: Literal["requested", "refused", "completed"]
    #: Pseudonyms of the person (keyed hashes): the register never names anyone.
    subject_refs: list[str]
    reason: str
    requested_by: str
    requested_at: datetime
    #: The retention holds that refused it.
    hold_ids: list[str]
    keys_destroyed: int | None = None
    #: Fields naming the person that no key of theirs erases (recorded before personal
    #: data was sealed, or sealed under another person's key).
    fields_left: int | None = None
    #: When it was refused or completed.
    decided_at: datetime | None = None


class ErasurePage(msgspec.Struct, kw_only=True):
    items: list[ErasureOut]


class HoldOut(msgspec.Struct, kw_only=True):
    hold_id: str
    subject_refs: list[str]
    reason: str
    until: date | None = None
    placed_by: str
    placed_at: datetime
    #: Whether it applies today (not lifted, not run out).
    active: bool
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None


class HoldPage(msgspec.Struct, kw_only=True):
    items: list[HoldOut]


class HeldEvent(msgspec.Struct, kw_only=True):
    """One field of one event that holds data about the person."""

    position: int
    type: str
    aggregate_id: str
    #: Where in the event's data, e.g. "person" or "items[0].people[1]".
    field: str
    #: False for a field recorded before personal data was sealed (no key erases it).
    sealed: bool
    #: Whether erasing the person erases this field (it is sealed under their own key).
    erasable: bool
    data: dict[str, Any]


class HeldRow(msgspec.Struct, kw_only=True):
    """One row of a read model about the person."""

    table: str
    row: dict[str, Any]


class SubjectAccessOut(msgspec.Struct, kw_only=True):
    subject_refs: list[str]
    events: list[HeldEvent]
    read_models: list[HeldRow]
    erasures: list[ErasureOut]
    holds: list[HoldOut]


def _erasure(row: dict[str, Any]) -> ErasureOut:
    return msgspec.convert(row, ErasureOut, strict=False)


def _hold(row: dict[str, Any]) -> HoldOut:
    return msgspec.convert(row, HoldOut, strict=False)


class PrivacyController(Controller):
    path = "/v1/tenants/{slug:str}"
    tags = ["Privacy"]

    @post(
        "/privacy/subject-access",
        operation_id="subjectAccessExport",
        guards=[TENANT_ADMIN],
        responses=schemas.problems(400, 401, 403, 404, 413, 422),
        sync_to_thread=True,
        status_code=200,
        cache_control=NO_STORE,
    )
    def subject_access(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], data: JSONBody[PersonQuery]
    ) -> SubjectAccessOut:
        """Everything this alliance holds about a person: each event field (opened), each
        read-model row, and the erasures and holds recorded about them."""
        found = privacy.subject_access(runtime, slug, name=data.name, email=data.email)
        return msgspec.convert(found, SubjectAccessOut, strict=False)

    @post(
        "/privacy/erasures",
        operation_id="requestErasure",
        guards=[TENANT_ADMIN],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def request_erasure(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ErasureIn],
    ) -> ErasureOut:
        """Erase a person's data: their keys are destroyed, so every event that held it
        reads as erased; the rest of the record stands. Refused (409, and recorded) while
        a retention hold covers them."""
        done = privacy.erase(
            runtime,
            slug,
            name=data.name,
            email=data.email,
            reason=data.reason,
            by=request.user.actor,
        )
        return _erasure(done)

    @get(
        "/privacy/erasures",
        operation_id="listErasures",
        guards=[LOG_READERS],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_erasures(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> ErasurePage:
        """Every erasure request and its outcome, oldest first (no personal data)."""
        return ErasurePage(items=[_erasure(e) for e in privacy.erasures(runtime, slug)])

    @post(
        "/privacy/holds",
        operation_id="placeRetentionHold",
        guards=[TENANT_ADMIN],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def place_hold(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[HoldIn],
    ) -> HoldOut:
        """Hold a person's data against erasure (e.g. for safeguarding), until a day or
        until lifted."""
        placed = privacy.place_hold(
            runtime,
            slug,
            name=data.name,
            email=data.email,
            reason=data.reason,
            until=data.until,
            by=request.user.actor,
        )
        return _hold(placed)

    @get(
        "/privacy/holds",
        operation_id="listRetentionHolds",
        guards=[LOG_READERS],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_holds(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> HoldPage:
        """Every retention hold, oldest first, and whether it applies today."""
        return HoldPage(items=[_hold(h) for h in privacy.holds(runtime, slug)])

    @post(
        "/privacy/holds/{hold_id:str}/lift",
        operation_id="liftRetentionHold",
        guards=[TENANT_ADMIN],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def lift_hold(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        hold_id: FromPath[Id],
        data: JSONBody[LiftIn],
    ) -> HoldOut:
        """Lift a retention hold in force: the person's data may then be erased."""
        lifted = privacy.lift_hold(
            runtime, slug, hold_id, reason=data.reason, by=request.user.actor
        )
        return _hold(lifted)
