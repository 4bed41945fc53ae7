"""Offices and committee seats: who holds them, from when, until when.

One `OfficeRoll` per office of the ToR (chair, co-chairs, sponsor...) and one `BodyRoster`
per committee or steering group. Each keeps every holding it ever had, so the rules that
look at the past (re-election, a change of sponsor) and at the present (seats filled,
different organisations) are checked against the roll itself, under the ToR in force.

A holding runs from `starts_on` until the earlier of its term's end (the ToR's term, from
the start) and the day its holder left. Personal data (the holder's name) lives only in
each event's `person` field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import HoldingEnded, MemberStateConflict, RulesBroken
from domain.privacy import ERASED, is_erased
from domain.rule_checks import Holder, check_appointment, check_body_seat
from domain.terms import Version, add_months
from domain.values import natural_id


def _norm(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).strip()


@dataclass
class Tenure:
    """One holding of an office or seat, as the rules see it (no personal data)."""

    id: str
    organisation: str  # a member id, or the organisation's name for outside holders
    holder: str  # who holds it, normalised: organisation and person
    starts_on: date
    ends_on: date | None  # the term's end; None: until replaced
    left_on: date | None = None
    seat: str | None = None  # the required seat it fills, on a committee

    @property
    def until(self) -> date | None:
        """The first day it is no longer held (None: open-ended)."""
        ends = [d for d in (self.ends_on, self.left_on) if d is not None]
        return min(ends) if ends else None

    def overlaps(self, start: date, end: date | None) -> bool:
        return (end is None or self.starts_on < end) and (self.until is None or start < self.until)

    def held_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.until is None or day < self.until)


def most_at_once(tenures: list[Tenure], start: date, end: date | None) -> int:
    """The most of these tenures held on any one day of [start, end): a successor chosen
    in advance does not take a seat that is vacant until their term begins."""
    days = {start} | {
        t.starts_on for t in tenures if t.starts_on > start and (end is None or t.starts_on < end)
    }
    return max(sum(1 for t in tenures if t.held_on(day)) for day in days)


def _term_end(starts_on: date, months: int | None) -> date | None:
    return None if months is None else add_months(starts_on, months)


def _holder_key(member_id: str | None, organisation: str, person_name: str | None) -> str:
    return f"{member_id or _norm(organisation)}|{_norm(person_name)}"


def _recorded_holder(
    member_id: str | None, organisation: str, person: dict[str, Any], holding_id: str
) -> str:
    """The holder of a recorded holding. An erased holder is known by the holding alone:
    two erased people of one organisation must not look like one person."""
    if is_erased(person):
        return f"{member_id or _norm(organisation)}|{ERASED}:{holding_id}"
    return _holder_key(member_id, organisation, person.get("name"))


class OfficeRoll(Aggregate):
    """Every holding of one office of the alliance."""

    class Opened(Aggregate.Created):
        office: str

    class HolderAppointed(Aggregate.Event):
        holding_id: str
        member_id: str | None
        organisation: str
        #: Personal data: the holder's name.
        person: dict[str, Any]
        starts_on: str
        ends_on: str | None
        via: str
        by_body: str | None
        decision_ref: str | None
        election_ref: str | None
        outside_approval_ref: str | None
        by: str
        under_version: int

    class HolderLeft(Aggregate.Event):
        holding_id: str
        reason: str
        left_on: str
        by: str

    @staticmethod
    def create_id(office: str) -> UUID:
        return natural_id("office", office)

    @classmethod
    def open(cls, office: str) -> OfficeRoll:
        return cls(office=office)

    @event(Opened)
    def __init__(self, office: str) -> None:
        self.office = office
        self.tenures: dict[str, Tenure] = {}

    def holders_on(self, day: date) -> list[Tenure]:
        return [t for t in self.tenures.values() if t.held_on(day)]

    def has_held(self, member_id: str | None, organisation: str, person_name: str | None) -> bool:
        """Whether this person (of this organisation) has ever held the office."""
        holder = _holder_key(member_id, organisation, person_name)
        return any(t.holder == holder for t in self.tenures.values())

    def appoint(
        self,
        *,
        terms: Version,
        via: Literal["appointed", "elected"],
        member_id: str | None,
        organisation: str,
        person_name: str | None,
        candidate_is_member: bool,
        starts_on: date,
        by_body: str | None,
        decision_ref: str | None,
        election_ref: str | None,
        outside_approval_ref: str | None,
        by: str,
        body_members: int = 0,
    ) -> str:
        """Appoint to the office (or record an election's result), checked against the ToR:
        how the office is filled, by whom, its seats, its holders' organisations,
        re-election, and any outside approval of a change."""
        rule = terms.rules.office(self.office)
        months = rule.term_months if rule else None
        ends_on = _term_end(starts_on, months)
        holder = _holder_key(member_id, organisation, person_name)
        overlapping = [t for t in self.tenures.values() if t.overlaps(starts_on, ends_on)]
        if any(t.holder == holder for t in overlapping):
            raise MemberStateConflict(f"this holder already holds the office of {self.office}")
        violations = check_appointment(
            terms.rules,
            terms.clauses,
            office=self.office,
            holders=tuple(Holder(organisation=t.organisation) for t in overlapping),
            seats_taken=most_at_once(overlapping, starts_on, ends_on),
            candidate=Holder(organisation=member_id or _norm(organisation)),
            candidate_is_member=candidate_is_member,
            via=via,
            by_body=by_body,
            previous_terms=sum(1 for t in self.tenures.values() if t.holder == holder),
            is_change=bool(self.tenures),
            outside_approval_ref=outside_approval_ref,
            body_members=body_members,
        )
        if violations:
            raise RulesBroken(violations)
        holding_id = str(uuid4())
        self._appoint(
            holding_id=holding_id,
            member_id=member_id,
            organisation=organisation,
            person={"name": person_name},
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat() if ends_on else None,
            via=via,
            by_body=by_body,
            decision_ref=decision_ref,
            election_ref=election_ref,
            outside_approval_ref=outside_approval_ref,
            by=by,
            under_version=terms.number,
        )
        return holding_id

    @event(HolderAppointed)
    def _appoint(
        self,
        holding_id: str,
        member_id: str | None,
        organisation: str,
        person: dict[str, Any],
        starts_on: str,
        ends_on: str | None,
        via: str,
        by_body: str | None,
        decision_ref: str | None,
        election_ref: str | None,
        outside_approval_ref: str | None,
        by: str,
        under_version: int,
    ) -> None:
        self.tenures[holding_id] = Tenure(
            id=holding_id,
            organisation=member_id or _norm(organisation),
            holder=_recorded_holder(member_id, organisation, person, holding_id),
            starts_on=date.fromisoformat(starts_on),
            ends_on=date.fromisoformat(ends_on) if ends_on else None,
        )

    def leave(self, holding_id: str, *, reason: str, left_on: date, by: str) -> None:
        """The holder steps down or is removed before the term ends."""
        _check_can_leave(self.tenures[holding_id], left_on, "office holding")
        self._leave(holding_id=holding_id, reason=reason, left_on=left_on.isoformat(), by=by)

    @event(HolderLeft)
    def _leave(self, holding_id: str, reason: str, left_on: str, by: str) -> None:
        self.tenures[holding_id].left_on = date.fromisoformat(left_on)


def _check_can_leave(tenure: Tenure, left_on: date, what: str) -> None:
    if tenure.left_on is not None or (tenure.ends_on is not None and tenure.ends_on <= left_on):
        raise HoldingEnded(what)
    if left_on < tenure.starts_on:
        raise MemberStateConflict(
            f"this {what} starts on {tenure.starts_on.isoformat()}; it cannot end before that"
        )


class BodyRoster(Aggregate):
    """Every seat ever taken on one committee or steering group."""

    class Opened(Aggregate.Created):
        body: str

    class SeatTaken(Aggregate.Event):
        seat_id: str
        member_id: str | None
        organisation: str
        #: Personal data: the seat holder's name.
        person: dict[str, Any]
        required_seat: str | None
        starts_on: str
        ends_on: str | None
        agreed_by: str
        decision_ref: str
        by: str
        under_version: int

    class SeatLeft(Aggregate.Event):
        seat_id: str
        reason: str
        left_on: str
        by: str

    @staticmethod
    def create_id(body: str) -> UUID:
        return natural_id("body", body)

    @classmethod
    def open(cls, body: str) -> BodyRoster:
        return cls(body=body)

    @event(Opened)
    def __init__(self, body: str) -> None:
        self.body = body
        self.seats: dict[str, Tenure] = {}

    def take_seat(
        self,
        *,
        terms: Version,
        member_id: str | None,
        organisation: str,
        person_name: str | None,
        required_seat: str | None,
        starts_on: date,
        agreed_by: str,
        decision_ref: str,
        by: str,
        office_holders: int = 0,
    ) -> str:
        """Seat someone on the body, as agreed by the body the ToR names, within its size
        (its office holders, e.g. its chair, count towards it) and into a required seat if
        one is named."""
        rule = terms.rules.body(self.body)
        ends_on = _term_end(starts_on, rule.term_months if rule else None)
        overlapping = [t for t in self.seats.values() if t.overlaps(starts_on, ends_on)]
        holder = _holder_key(member_id, organisation, person_name)
        if any(t.holder == holder for t in overlapping):
            raise MemberStateConflict(f"this person already sits on the {self.body}")
        violations = check_body_seat(
            terms.rules,
            terms.clauses,
            body=self.body,
            agreed_by=agreed_by,
            seats_taken=most_at_once(overlapping, starts_on, ends_on) + office_holders,
            required_seat=required_seat,
            required_seat_taken=any(t.seat == required_seat for t in overlapping),
        )
        if violations:
            raise RulesBroken(violations)
        seat_id = str(uuid4())
        self._take_seat(
            seat_id=seat_id,
            member_id=member_id,
            organisation=organisation,
            person={"name": person_name},
            required_seat=required_seat,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat() if ends_on else None,
            agreed_by=agreed_by,
            decision_ref=decision_ref,
            by=by,
            under_version=terms.number,
        )
        return seat_id

    @event(SeatTaken)
    def _take_seat(
        self,
        seat_id: str,
        member_id: str | None,
        organisation: str,
        person: dict[str, Any],
        required_seat: str | None,
        starts_on: str,
        ends_on: str | None,
        agreed_by: str,
        decision_ref: str,
        by: str,
        under_version: int,
    ) -> None:
        self.seats[seat_id] = Tenure(
            id=seat_id,
            organisation=member_id or _norm(organisation),
            holder=_recorded_holder(member_id, organisation, person, seat_id),
            starts_on=date.fromisoformat(starts_on),
            ends_on=date.fromisoformat(ends_on) if ends_on else None,
            seat=required_seat,
        )

    def leave(self, seat_id: str, *, reason: str, left_on: date, by: str) -> None:
        """The seat holder stands down before the term ends."""
        _check_can_leave(self.seats[seat_id], left_on, "seat")
        self._leave(seat_id=seat_id, reason=reason, left_on=left_on.isoformat(), by=by)

    @event(SeatLeft)
    def _leave(self, seat_id: str, reason: str, left_on: str, by: str) -> None:
        self.seats[seat_id].left_on = date.fromisoformat(left_on)
