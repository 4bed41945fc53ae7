"""The offices and committees API: holders, vacancies, terms ending, committee seats."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services import offices
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, RUNNERS
from services.api.schemas import Id, Key, PersonName, Ref, Text
from services.runtime import Runtime

Organisation = schemas.Name


class Holder(schemas.Request, kw_only=True):
    #: The member organisation the holder comes from.
    member_id: Id | None = None
    #: For a holder from outside the membership (e.g. a sponsor, a judge): the organisation.
    organisation: Organisation | None = None
    #: The person who holds it.
    person_name: PersonName | None = None
    #: The first day of the term (default: today). The ToR sets when it ends.
    starts_on: date | None = None


class Appoint(Holder, kw_only=True):
    #: The body whose decision appoints (the ToR names which).
    by_body: Key | None = None
    decision_ref: Ref
    #: Where the ToR needs an outside approval of a change (e.g. a sponsor): its reference.
    outside_approval_ref: Ref | None = None


class ElectionResult(Holder, kw_only=True):
    #: The election whose result this is (elections themselves come later).
    election_ref: Ref


class EndHolding(schemas.Request, kw_only=True):
    reason: Text
    #: The first day no longer held (default: today).
    left_on: date | None = None


class TakeSeat(Holder, kw_only=True):
    #: The required seat it fills, if any (e.g. "mediator").
    required_seat: Key | None = None
    #: The body that agreed who sits on this one.
    agreed_by: Key
    decision_ref: Ref


class HoldingOut(msgspec.Struct, kw_only=True):
    holding_id: str
    office: str
    member_id: str | None = None
    organisation: str
    person_name: str | None = None
    starts_on: str
    ends_on: str | None = None
    left_on: str | None = None
    left_reason: str | None = None
    #: "onboarding": one of the first officers, named when the alliance was onboarded.
    via: Literal["appointed", "elected", "onboarding"]
    by_body: str | None = None
    decision_ref: str | None = None
    election_ref: str | None = None
    outside_approval_ref: str | None = None
    under_version: int
    expiring: bool | None = None


class OfficeOut(msgspec.Struct, kw_only=True):
    office: str
    name: str
    body: str
    selection: str
    seats: int
    term_months: int | None = None
    re_eligible: bool
    distinct_organisations: bool
    holders: list[HoldingOut]
    vacancies: int
    #: Current holders whose term ends within 90 days.
    terms_expiring: int
    history: list[HoldingOut] | None = None


class OfficeList(msgspec.Struct, kw_only=True):
    items: list[OfficeOut]
    as_of: date


class SeatOut(msgspec.Struct, kw_only=True):
    seat_id: str
    body: str
    member_id: str | None = None
    organisation: str
    person_name: str | None = None
    required_seat: str | None = None
    starts_on: str
    ends_on: str | None = None
    left_on: str | None = None
    left_reason: str | None = None
    agreed_by: str
    decision_ref: str
    under_version: int
    expiring: bool | None = None


class RequiredSeatOut(msgspec.Struct, kw_only=True):
    key: str
    name: str
    filled: bool


class BodyOut(msgspec.Struct, kw_only=True):
    body: str
    name: str
    kind: str
    max_members: int | None = None
    term_months: int | None = None
    members_agreed_by: str | None = None
    seats: list[SeatOut]
    required_seats: list[RequiredSeatOut]
    required_seats_unfilled: list[str]
    places_free: int | None = None


class BodyList(msgspec.Struct, kw_only=True):
    items: list[BodyOut]


class Recorded(msgspec.Struct, kw_only=True):
    id: str


def _office(row: dict[str, Any]) -> OfficeOut:
    return msgspec.convert(row, OfficeOut, strict=False)


class OfficeController(Controller):
    path = "/v1/tenants/{slug:str}/offices"
    tags = ["Offices and committees"]

    @get(
        "/",
        operation_id="listOffices",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_offices(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> OfficeList:
        """Each office of the ToR in force: current holders and their term ends, vacancies,
        and terms ending within 90 days."""
        today = runtime.clock().date()
        rows = offices.offices(runtime, slug, on=today)
        return OfficeList(items=[_office(row) for row in rows], as_of=today)

    @get(
        "/{office:str}",
        operation_id="getOffice",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_office(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], office: FromPath[str]
    ) -> OfficeOut:
        """One office: its current holders and every holding it ever had."""
        return _office(offices.office(runtime, slug, office))

    @post(
        "/{office:str}/appointments",
        operation_id="appointToOffice",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def appoint(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        office: FromPath[str],
        data: JSONBody[Appoint],
    ) -> OfficeOut:
        """Appoint to an office the ToR says is appointed, by the body it names: within
        its seats, from different organisations where required, re-appointment only where
        allowed, and a change only with any outside approval the ToR names."""
        offices.appoint(
            runtime,
            slug,
            office,
            via="appointed",
            member_id=data.member_id,
            organisation=data.organisation,
            person_name=data.person_name,
            starts_on=data.starts_on,
            by_body=data.by_body,
            decision_ref=data.decision_ref,
            election_ref=None,
            outside_approval_ref=data.outside_approval_ref,
            by=request.user.actor,
        )
        return _office(offices.office(runtime, slug, office))

    @post(
        "/{office:str}/election-results",
        operation_id="recordElectionResult",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def elect(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        office: FromPath[str],
        data: JSONBody[ElectionResult],
    ) -> OfficeOut:
        """Record who was elected to an office the ToR says is elected (with a reference to
        the election), under the same checks as an appointment."""
        offices.appoint(
            runtime,
            slug,
            office,
            via="elected",
            member_id=data.member_id,
            organisation=data.organisation,
            person_name=data.person_name,
            starts_on=data.starts_on,
            by_body=None,
            decision_ref=None,
            election_ref=data.election_ref,
            outside_approval_ref=None,
            by=request.user.actor,
        )
        return _office(offices.office(runtime, slug, office))

    @post(
        "/{office:str}/holdings/{holding_id:str}/end",
        operation_id="endOfficeHolding",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def end(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        office: FromPath[str],
        holding_id: FromPath[Id],
        data: JSONBody[EndHolding],
    ) -> OfficeOut:
        """The holder steps down or is removed before the term ends."""
        offices.end_holding(
            runtime,
            slug,
            office,
            holding_id,
            reason=data.reason,
            left_on=data.left_on,
            by=request.user.actor,
        )
        return _office(offices.office(runtime, slug, office))


class BodyController(Controller):
    path = "/v1/tenants/{slug:str}/bodies"
    tags = ["Offices and committees"]

    @get(
        "/",
        operation_id="listBodies",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def list_bodies(self, runtime: NamedDependency[Runtime], slug: FromPath[str]) -> BodyList:
        """Each body of the ToR in force: who sits on it now, its size limit, and which
        required seats are unfilled."""
        rows = offices.bodies(runtime, slug)
        return BodyList(items=[msgspec.convert(r, BodyOut, strict=False) for r in rows])

    @post(
        "/{body_key:str}/seats",
        operation_id="takeCommitteeSeat",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def take_seat(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        body_key: FromPath[str],
        data: JSONBody[TakeSeat],
    ) -> Recorded:
        """Seat someone on a committee or steering group, as agreed by the body the ToR
        names, within its size, optionally into one of its required seats."""
        seat_id = offices.take_seat(
            runtime,
            slug,
            body_key,
            member_id=data.member_id,
            organisation=data.organisation,
            person_name=data.person_name,
            required_seat=data.required_seat,
            starts_on=data.starts_on,
            agreed_by=data.agreed_by,
            decision_ref=data.decision_ref,
            by=request.user.actor,
        )
        return Recorded(id=seat_id)

    @post(
        "/{body_key:str}/seats/{seat_id:str}/end",
        operation_id="endCommitteeSeat",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def end_seat(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        body_key: FromPath[str],
        seat_id: FromPath[Id],
        data: JSONBody[EndHolding],
    ) -> Recorded:
        """The seat holder stands down before the term ends."""
        offices.leave_seat(
            runtime,
            slug,
            body_key,
            seat_id,
            reason=data.reason,
            left_on=data.left_on,
            by=request.user.actor,
        )
        return Recorded(id=seat_id)
