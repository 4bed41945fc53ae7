"""Use cases of meetings: schedule, reschedule, cancel, agenda, hold; the calendar and the
compliance calendar of required meetings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from domain.cadence import MeetingFact, YearCalendar, tor_year_bounds, tor_year_of, year_calendar
from domain.errors import MemberStateConflict
from domain.meetings import Attendee, InvalidMeeting, Meeting
from domain.membership import Member
from domain.terms import TermsOfReference
from projections import meetings as view
from projections import member_register
from services.errors import InvalidRequest, NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, views


def _meeting(cmd: Command, meeting_id: str) -> Meeting:
    return cmd.get(Meeting, meeting_id, "meeting")


def schedule(
    runtime: Runtime,
    slug: str,
    *,
    body: str,
    title: str,
    starts_at: datetime,
    format: str,
    location: str | None,
    link: str | None,
    agenda: list[str],
    by: str,
) -> str:
    with command(runtime, slug, "schedule_meeting") as cmd:
        meeting = Meeting.schedule(
            body=body,
            title=title,
            starts_at=starts_at,
            format=format,
            location=location,
            link=link,
            agenda=agenda,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(meeting)
        return str(meeting.id)


def reschedule(
    runtime: Runtime,
    slug: str,
    meeting_id: str,
    *,
    starts_at: datetime,
    format: str,
    location: str | None,
    link: str | None,
    reason: str,
    by: str,
) -> None:
    with command(runtime, slug, "reschedule_meeting") as cmd:
        meeting = _meeting(cmd, meeting_id)
        meeting.reschedule(
            starts_at=starts_at,
            format=format,
            location=location,
            link=link,
            reason=reason,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(meeting)


def add_agenda_item(runtime: Runtime, slug: str, meeting_id: str, *, title: str, by: str) -> str:
    with command(runtime, slug, "add_agenda_item") as cmd:
        meeting = _meeting(cmd, meeting_id)
        item_id = meeting.add_agenda_item(title=title, by=by)
        cmd.record(meeting)
        return item_id


def withdraw_agenda_item(
    runtime: Runtime, slug: str, meeting_id: str, *, item_id: str, by: str
) -> None:
    with command(runtime, slug, "withdraw_agenda_item") as cmd:
        meeting = _meeting(cmd, meeting_id)
        if item_id not in meeting.agenda:
            raise NotFound(f"no agenda item {item_id!r} on this meeting")
        meeting.withdraw_agenda_item(item_id=item_id, by=by)
        cmd.record(meeting)


def cancel(runtime: Runtime, slug: str, meeting_id: str, *, reason: str, by: str) -> None:
    with command(runtime, slug, "cancel_meeting") as cmd:
        meeting = _meeting(cmd, meeting_id)
        meeting.cancel(reason=reason, by=by)
        cmd.record(meeting)


def hold(
    runtime: Runtime,
    slug: str,
    meeting_id: str,
    *,
    attendance: list[Attendee],
    apologies: list[str],
    by: str,
) -> None:
    """Record the meeting as held: each attending organisation must be an active member,
    and the representatives named must be its own."""
    with command(runtime, slug, "hold_meeting") as cmd:
        meeting = _meeting(cmd, meeting_id)
        for attendee in attendance:
            member = cmd.get(Member, attendee.member_id, "member")
            if not member.is_active:
                raise MemberStateConflict(
                    f"member {attendee.member_id!r} is {member.status}: only active members "
                    "attend meetings"
                )
            strangers = [r for r in attendee.representative_ids if r not in member.representatives]
            if strangers:
                raise InvalidMeeting(
                    f"{strangers[0]!r} is not a representative of member {attendee.member_id!r}"
                )
        for member_id in apologies:
            cmd.get(Member, member_id, "member")
        with cmd.store.read() as sql:
            voting = member_register.voting_member_ids(sql)
        meeting.hold(
            attendance=attendance,
            apologies=apologies,
            voting_members=voting,
            today=cmd.today,
            by=by,
            terms=cmd.terms,
        )
        cmd.record(meeting)


# ----------------------------------------------------------------------------- reads


def meetings(runtime: Runtime, slug: str, **filters: Any) -> list[dict[str, Any]]:
    with views(runtime, slug) as sql:
        return view.meetings(sql, **filters)


def meeting(runtime: Runtime, slug: str, meeting_id: str) -> dict[str, Any]:
    with views(runtime, slug) as sql:
        found = view.meeting(sql, meeting_id)
    if found is None:
        raise NotFound(f"no meeting {meeting_id!r} in this alliance")
    return found


def compliance(runtime: Runtime, slug: str, *, year: int | None) -> tuple[YearCalendar, int]:
    """The compliance calendar of one ToR year (default: the current one), and how many
    ToR years there have been so far."""
    with views(runtime, slug) as sql:
        facts = [
            MeetingFact(
                meeting_id=row["meeting_id"],
                body=row["body"],
                on=date.fromisoformat(row["on_date"]),
                status=row["status"],
            )
            for row in view.facts(sql)
        ]
    with runtime.tenant(slug) as store:
        charter: TermsOfReference = store.app.repository.get(TermsOfReference.create_id(slug))
    today = runtime.clock().date()
    first_day = charter.versions[0].effective_from
    current = tor_year_of(first_day, today)
    chosen = current if year is None else year
    if chosen > current + 1:
        raise InvalidRequest(
            f"ToR year {chosen} has not begun; the current ToR year is {current} "
            f"(it began on {tor_year_bounds(first_day, current)[0].isoformat()})"
        )
    calendar = year_calendar(
        year=chosen,
        first_day=first_day,
        version_on=lambda day: charter.in_force_at(datetime.combine(day, time.min, tzinfo=UTC)),
        meetings=facts,
        today=today,
    )
    return calendar, current
