"""Meetings of the alliance's bodies: scheduled, rescheduled or cancelled, given an
agenda, then held with the attendance, apologies and quorum recorded.

A meeting belongs to one body of the ToR (the full membership, a committee, a steering
group, the working groups). Its format must be one the ToR allows that body; each
organisation sends no more people than the ToR allows. Attendance names organisations
(member ids) and, for each, the ids of its representatives who came: no names, so the
personal data stays in the representatives' own events (and can be erased there).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Literal
from uuid import uuid4

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, MeetingStateConflict, RulesBroken
from domain.rule_checks import check_attendance, check_meeting, quorum_needed
from domain.terms import Version

SCHEDULED, HELD, CANCELLED = "scheduled", "held", "cancelled"
Format = Literal["virtual", "in-person"]


class Attendee(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One organisation at a meeting, and which of its representatives came."""

    member_id: str
    representative_ids: tuple[str, ...] = ()

    @property
    def people(self) -> int:
        """How many people it sent (at least one: an organisation attends through someone)."""
        return max(1, len(set(self.representative_ids)))


class InvalidMeeting(DomainError):
    """The meeting's details contradict each other (e.g. in person with no location)."""

    code = "invalid-meeting"


class Meeting(Aggregate):
    """One meeting of one body."""

    class Scheduled(Aggregate.Created):
        body: str
        #: A meeting of the full membership: a main meeting, where the ToR reserves
        #: decisions to main meetings.
        main: bool
        title: str
        starts_at: datetime
        format: str
        location: str | None
        link: str | None
        agenda: list[dict[str, str]]
        scheduled_by: str
        under_version: int

    class Rescheduled(Aggregate.Event):
        starts_at: datetime
        format: str
        location: str | None
        link: str | None
        reason: str
        by: str
        under_version: int

    class AgendaItemAdded(Aggregate.Event):
        item_id: str
        title: str
        by: str

    class AgendaItemWithdrawn(Aggregate.Event):
        item_id: str
        by: str

    class Cancelled(Aggregate.Event):
        reason: str
        by: str

    class Held(Aggregate.Event):
        held_on: date
        #: [{member_id, representative_ids}]
        attendance: list[dict[str, Any]]
        apologies: list[str]
        #: Organisations the ToR's quorum needed (None: the ToR sets no quorum).
        quorum_needed: int | None
        quorate: bool
        by: str
        under_version: int

    @classmethod
    def schedule(
        cls,
        *,
        body: str,
        title: str,
        starts_at: datetime,
        format: str,
        location: str | None,
        link: str | None,
        agenda: list[str],
        by: str,
        terms: Version,
    ) -> Meeting:
        """Schedule a meeting of a body of the ToR, in a format the ToR allows it."""
        _check_place(terms, body, format, location)
        kind = terms.rules.body(body)
        return cls(
            body=body,
            main=kind is not None and kind.kind == "full-membership",
            title=title,
            starts_at=starts_at,
            format=format,
            location=location,
            link=link,
            agenda=[{"item_id": _new_id(), "title": title} for title in agenda],
            scheduled_by=by,
            under_version=terms.number,
        )

    @event(Scheduled)
    def __init__(
        self,
        body: str,
        main: bool,
        title: str,
        starts_at: datetime,
        format: str,
        location: str | None,
        link: str | None,
        agenda: list[dict[str, str]],
        scheduled_by: str,
        under_version: int,
    ) -> None:
        self.body = body
        self.main = main
        self.title = title
        self.starts_at = starts_at
        self.status = SCHEDULED
        self.agenda = {item["item_id"]: item["title"] for item in agenda}
        self.held_on: date | None = None

    def _must_be_scheduled(self, act: str) -> None:
        if self.status != SCHEDULED:
            raise MeetingStateConflict(
                f"this meeting is {self.status}; only a scheduled meeting can {act}"
            )

    def reschedule(
        self,
        *,
        starts_at: datetime,
        format: str,
        location: str | None,
        link: str | None,
        reason: str,
        by: str,
        terms: Version,
    ) -> None:
        self._must_be_scheduled("be rescheduled")
        _check_place(terms, self.body, format, location)
        self._reschedule(
            starts_at=starts_at,
            format=format,
            location=location,
            link=link,
            reason=reason,
            by=by,
            under_version=terms.number,
        )

    @event(Rescheduled)
    def _reschedule(
        self,
        starts_at: datetime,
        format: str,
        location: str | None,
        link: str | None,
        reason: str,
        by: str,
        under_version: int,
    ) -> None:
        self.starts_at = starts_at

    def add_agenda_item(self, *, title: str, by: str) -> str:
        self._must_be_scheduled("take new agenda items")
        item_id = _new_id()
        self._add_agenda_item(item_id=item_id, title=title, by=by)
        return item_id

    @event(AgendaItemAdded)
    def _add_agenda_item(self, item_id: str, title: str, by: str) -> None:
        self.agenda[item_id] = title

    def withdraw_agenda_item(self, *, item_id: str, by: str) -> None:
        self._must_be_scheduled("change its agenda")
        if item_id not in self.agenda:
            raise InvalidMeeting(f"this meeting has no agenda item {item_id!r}")
        self._withdraw_agenda_item(item_id=item_id, by=by)

    @event(AgendaItemWithdrawn)
    def _withdraw_agenda_item(self, item_id: str, by: str) -> None:
        del self.agenda[item_id]

    def cancel(self, *, reason: str, by: str) -> None:
        self._must_be_scheduled("be cancelled")
        self._cancel(reason=reason, by=by)

    @event(Cancelled)
    def _cancel(self, reason: str, by: str) -> None:
        self.status = CANCELLED

    def hold(
        self,
        *,
        attendance: list[Attendee],
        apologies: list[str],
        voting_members: Collection[str],
        today: date,
        by: str,
        terms: Version,
    ) -> None:
        """Record that the meeting took place on its day: who came, who sent apologies,
        and whether it was quorate. `voting_members`: the ids of the members entitled to
        vote, for the quorum."""
        self._must_be_scheduled("be held")
        day = self.starts_at.date()
        if today < day:
            raise MeetingStateConflict(
                f"this meeting is on {day.isoformat()}; it cannot be recorded as held before "
                "then (reschedule it if it moved)"
            )
        attending = [a.member_id for a in attendance]
        if len(set(attending)) != len(attending):
            raise InvalidMeeting("an organisation appears more than once in the attendance")
        for attendee in attendance:
            if len(set(attendee.representative_ids)) != len(attendee.representative_ids):
                raise InvalidMeeting(
                    f"a representative of member {attendee.member_id!r} is named twice"
                )
        both = sorted(set(attending) & set(apologies))
        if both:
            raise InvalidMeeting(f"member {both[0]!r} both attended and sent apologies")
        violations = check_attendance(
            terms.rules,
            terms.clauses,
            body=self.body,
            attendees={a.member_id: a.people for a in attendance},
        )
        if violations:
            raise RulesBroken(violations)
        needed = quorum_needed(terms.rules, self.body, voting_members=len(voting_members))
        present = len(set(attending) & set(voting_members))
        self._hold(
            held_on=day,
            attendance=[msgspec.to_builtins(a) for a in attendance],
            apologies=sorted(set(apologies)),
            quorum_needed=needed,
            quorate=needed is None or present >= needed,
            by=by,
            under_version=terms.number,
        )

    @event(Held)
    def _hold(
        self,
        held_on: date,
        attendance: list[dict[str, Any]],
        apologies: list[str],
        quorum_needed: int | None,
        quorate: bool,
        by: str,
        under_version: int,
    ) -> None:
        self.status = HELD
        self.held_on = held_on
        self.quorate = quorate
        self.attending = tuple(a["member_id"] for a in attendance)


def _check_place(terms: Version, body: str, format: str, location: str | None) -> None:
    violations = check_meeting(terms.rules, terms.clauses, body=body, format=format)
    if violations:
        raise RulesBroken(violations)
    if format == "in-person" and not location:
        raise InvalidMeeting("a meeting held in person needs a location")


def _new_id() -> str:
    return uuid4().hex[:12]
