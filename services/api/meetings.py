"""The meetings API: the calendar, scheduling, agendas, holding, and the compliance
calendar of the meetings the ToR requires."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.meetings import Attendee
from services import meetings
from services.access import Principal
from services.api import schemas
from services.api.auth import ANYONE_OF_THE_TENANT, RUNNERS
from services.api.schemas import Id, Key, Text
from services.errors import InvalidRequest
from services.runtime import Runtime

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Place = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Link = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[^\s]{1,2000}$",
        max_length=2008,
        description="An http(s) address for a virtual meeting",
        examples=["https://meet.example.org/alliance-q3"],
    ),
]
Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="Start, as an RFC 3339 date-time with its offset",
        examples=["2026-12-03T10:00:00+00:00"],
    ),
]
Format = Literal["virtual", "in-person"]
MeetingStatus = Literal["scheduled", "held", "cancelled"]
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, tzinfo=UTC)


class ScheduleMeeting(schemas.Request, kw_only=True):
    #: The body that meets (a key of the ToR's bodies).
    body: Key
    title: Title
    starts_at: Moment
    format: Format
    #: Where, for a meeting in person (required then).
    location: Place | None = None
    #: The link, for a virtual meeting.
    link: Link | None = None
    agenda: Annotated[list[Title], msgspec.Meta(max_length=50)] = []


class RescheduleMeeting(schemas.Request, kw_only=True):
    starts_at: Moment
    format: Format
    location: Place | None = None
    link: Link | None = None
    reason: Text


class AddAgendaItem(schemas.Request, kw_only=True):
    title: Title


class CancelMeeting(schemas.Request, kw_only=True):
    reason: Text


class AttendeeIn(schemas.Request, kw_only=True):
    member_id: Id
    #: Which of the organisation's representatives came (ids; empty: not named).
    representative_ids: Annotated[list[Id], msgspec.Meta(max_length=20)] = []


class HoldMeeting(schemas.Request, kw_only=True):
    attendance: Annotated[list[AttendeeIn], msgspec.Meta(max_length=1000)]
    #: Members that sent apologies.
    apologies: Annotated[list[Id], msgspec.Meta(max_length=1000)] = []


class AgendaItemOut(msgspec.Struct, kw_only=True):
    item_id: str
    title: str


class AttendeeOut(msgspec.Struct, kw_only=True):
    member_id: str
    representative_ids: list[str]


class MeetingOut(msgspec.Struct, kw_only=True):
    meeting_id: str
    seq: int
    body: str
    #: A meeting of the full membership (a main meeting).
    main: bool
    title: str
    starts_at: datetime
    format: Format
    location: str | None = None
    link: str | None = None
    status: MeetingStatus
    agenda: list[AgendaItemOut]
    cancelled_reason: str | None = None
    held_on: date | None = None
    attendance: list[AttendeeOut] | None = None
    apologies: list[str] | None = None
    #: Organisations the ToR's quorum needed (null: the ToR sets no quorum).
    quorum_needed: int | None = None
    quorate: bool | None = None
    scheduled_by: str
    under_version: int


class MeetingPage(msgspec.Struct, kw_only=True):
    items: list[MeetingOut]
    next_after: int | None = None


class RequirementOut(msgspec.Struct, kw_only=True):
    body: str
    rule: str
    clause: str | None
    window_start: date
    window_end: date
    state: Literal["held", "scheduled", "due", "upcoming", "missed"]
    meeting_ids: list[str]
    before_meeting_id: str | None = None


class BodySummaryOut(msgspec.Struct, kw_only=True):
    body: str
    required: int
    held: int
    scheduled: int
    due: int
    upcoming: int
    missed: int


class ComplianceOut(msgspec.Struct, kw_only=True):
    #: The ToR year shown (1: the year from the day version 1 took effect).
    year: int
    current_year: int
    starts_on: date
    ends_on: date
    #: The ToR version whose rules applied (the one in force on the year's first day).
    under_version: int
    requirements: list[RequirementOut]
    summary: list[BodySummaryOut]


def _moment(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise InvalidRequest("starts_at must fall between the years 2000 and 2100")
    return value.astimezone(UTC)


def _meeting(runtime: Runtime, slug: str, meeting_id: str) -> MeetingOut:
    return msgspec.convert(meetings.meeting(runtime, slug, meeting_id), MeetingOut, strict=False)


class MeetingController(Controller):
    path = "/v1/tenants/{slug:str}/meetings"
    tags = ["Meetings and minutes"]

    @get(
        "/",
        operation_id="listMeetings",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404),
        sync_to_thread=True,
    )
    def list_meetings(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        of_body: Annotated[
            Key | None, QueryParameter(name="body", description="Only this body's")
        ] = None,
        status: Annotated[MeetingStatus | None, QueryParameter()] = None,
        from_date: Annotated[
            date | None, QueryParameter(name="from", description="On or after this day")
        ] = None,
        to_date: Annotated[
            date | None, QueryParameter(name="to", description="On or before this day")
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MeetingPage:
        """Meetings in the order they were scheduled, filtered by body, status and days."""
        rows = meetings.meetings(
            runtime,
            slug,
            body=of_body,
            status=status,
            from_date=from_date.isoformat() if from_date else None,
            to_date=to_date.isoformat() if to_date else None,
            after=after,
            limit=limit + 1,
        )
        items, next_after = schemas.page_of(rows, limit, MeetingOut)
        return MeetingPage(items=items, next_after=next_after)

    @get(
        "/{meeting_id:str}",
        operation_id="getMeeting",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(401, 403, 404),
        sync_to_thread=True,
    )
    def get_meeting(
        self, runtime: NamedDependency[Runtime], slug: FromPath[str], meeting_id: FromPath[Id]
    ) -> MeetingOut:
        """One meeting: when and where, its agenda, and once held who came."""
        return _meeting(runtime, slug, meeting_id)

    @post(
        "/",
        operation_id="scheduleMeeting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def schedule(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        data: JSONBody[ScheduleMeeting],
    ) -> MeetingOut:
        """Schedule a meeting of a body, in a format the ToR allows it."""
        meeting_id = meetings.schedule(
            runtime,
            slug,
            body=data.body,
            title=data.title,
            starts_at=_moment(data.starts_at),
            format=data.format,
            location=data.location,
            link=data.link,
            agenda=data.agenda,
            by=request.user.actor,
        )
        return _meeting(runtime, slug, meeting_id)

    @post(
        "/{meeting_id:str}/reschedule",
        operation_id="rescheduleMeeting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def reschedule(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        meeting_id: FromPath[Id],
        data: JSONBody[RescheduleMeeting],
    ) -> MeetingOut:
        """Move a scheduled meeting (or change its format or place)."""
        meetings.reschedule(
            runtime,
            slug,
            meeting_id,
            starts_at=_moment(data.starts_at),
            format=data.format,
            location=data.location,
            link=data.link,
            reason=data.reason,
            by=request.user.actor,
        )
        return _meeting(runtime, slug, meeting_id)

    @post(
        "/{meeting_id:str}/agenda",
        operation_id="addAgendaItem",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=201,
    )
    def add_agenda_item(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        meeting_id: FromPath[Id],
        data: JSONBody[AddAgendaItem],
    ) -> MeetingOut:
        """Add an item to a scheduled meeting's agenda."""
        meetings.add_agenda_item(runtime, slug, meeting_id, title=data.title, by=request.user.actor)
        return _meeting(runtime, slug, meeting_id)

    @delete(
        "/{meeting_id:str}/agenda/{item_id:str}",
        operation_id="withdrawAgendaItem",
        guards=[RUNNERS],
        responses=schemas.problems(401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
    )
    def withdraw_agenda_item(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        meeting_id: FromPath[Id],
        item_id: FromPath[Id],
    ) -> MeetingOut:
        """Take an item off a scheduled meeting's agenda."""
        meetings.withdraw_agenda_item(
            runtime, slug, meeting_id, item_id=item_id, by=request.user.actor
        )
        return _meeting(runtime, slug, meeting_id)

    @post(
        "/{meeting_id:str}/cancel",
        operation_id="cancelMeeting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def cancel(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        meeting_id: FromPath[Id],
        data: JSONBody[CancelMeeting],
    ) -> MeetingOut:
        """Cancel a scheduled meeting (the compliance calendar then no longer counts it)."""
        meetings.cancel(runtime, slug, meeting_id, reason=data.reason, by=request.user.actor)
        return _meeting(runtime, slug, meeting_id)

    @post(
        "/{meeting_id:str}/hold",
        operation_id="holdMeeting",
        guards=[RUNNERS],
        responses=schemas.WRITE_PROBLEMS,
        sync_to_thread=True,
        status_code=200,
    )
    def hold(
        self,
        request: Request[Principal, Any, Any],
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        meeting_id: FromPath[Id],
        data: JSONBody[HoldMeeting],
    ) -> MeetingOut:
        """Record that the meeting took place: the organisations and representatives who
        attended (no more per organisation than the ToR allows), the apologies, and
        whether it was quorate where the ToR sets a quorum."""
        meetings.hold(
            runtime,
            slug,
            meeting_id,
            attendance=[
                Attendee(member_id=a.member_id, representative_ids=tuple(a.representative_ids))
                for a in data.attendance
            ],
            apologies=data.apologies,
            by=request.user.actor,
        )
        return _meeting(runtime, slug, meeting_id)


class ComplianceController(Controller):
    path = "/v1/tenants/{slug:str}/compliance-calendar"
    tags = ["Meetings and minutes"]

    @get(
        "/",
        operation_id="getComplianceCalendar",
        guards=[ANYONE_OF_THE_TENANT],
        responses=schemas.problems(400, 401, 403, 404, 422),
        sync_to_thread=True,
    )
    def calendar(
        self,
        runtime: NamedDependency[Runtime],
        slug: FromPath[str],
        year: Annotated[
            int | None,
            QueryParameter(ge=1, le=200, description="ToR year (default: the current one)"),
        ] = None,
    ) -> ComplianceOut:
        """The meetings the ToR requires in a ToR year, each held, scheduled, due,
        upcoming or missed, with the clause that requires it."""
        found, current = meetings.compliance(runtime, slug, year=year)
        return msgspec.convert(
            {**msgspec.to_builtins(found), "current_year": current}, ComplianceOut, strict=False
        )
