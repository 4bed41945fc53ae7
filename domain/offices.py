"""Offices and committee seats: who holds them, from when, until when.

One `OfficeRoll` per office of the ToR (chair, co-chairs, sponsor...) and one `BodyRoster`
per committee or steering group. Each keeps every holding it ever had, so the rules that
look at the past (re-election, a change of sponsor) and at the present (seats filled,
different organisations) are checked against the roll itself, under the ToR in force.

A holding runs from `starts_on` until the earlier of its term's end (the ToR's term, from
the start) and the day its holder left. Personal data (the holder's name) lives only in
each event's `person` field.

An alliance's first officers are named when the umbrella onboards it (`found_offices`):
recorded `via="onboarding"`, checked against version 1 as any appointment is, except for
the rules of how a running alliance fills an office (see `FOUNDING_EXEMPT`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import HoldingEnded, MemberStateConflict, RulesBroken
from domain.privacy import ERASED, is_erased
from domain.rule_checks import (
    Holder,
    Violation,
    check_appointment,
    check_body_seat,
    rule_violation,
)
from domain.terms import Version, add_months
from domain.values import checked_text, natural_id

#: How an office came to be held: appointed or elected in the running alliance, or named
#: as one of its first officers when the umbrella onboarded it.
Via = Literal["appointed", "elected", "onboarding"]

#: The rules of an office that say how a running alliance fills it, and so do not bind its
#: first officers: they are named by the alliance's founding agreement before any body of
#: it has met (selection, appointed_by), before its register of members exists
#: (from_membership), and are not a change of holder (change_approved_by_outside). The
#: rest hold as for any appointment: the office exists, its seats, the size of its body,
#: different organisations, its term.
FOUNDING_EXEMPT = ("selection", "appointed_by", "from_membership", "change_approved_by_outside")


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
        via: Via,
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
        re-election, and any outside approval of a change. A first officer named at
        onboarding (`via="onboarding"`) is not held to FOUNDING_EXEMPT."""
        rule = terms.rules.office(self.office)
        months = rule.term_months if rule else None
        ends_on = _term_end(starts_on, months)
        holder = _holder_key(member_id, organisation, person_name)
        overlapping = [t for t in self.tenures.values() if t.overlaps(starts_on, ends_on)]
        if any(t.holder == holder for t in overlapping):
            raise MemberStateConflict(f"this holder already holds the office of {self.office}")
        # A first officer is checked as the office is filled (FOUNDING_EXEMPT aside).
        checked_via = (rule.selection if rule else "appointed") if via == "onboarding" else via
        violations = check_appointment(
            terms.rules,
            terms.clauses,
            office=self.office,
            holders=tuple(Holder(organisation=t.organisation) for t in overlapping),
            seats_taken=most_at_once(overlapping, starts_on, ends_on),
            candidate=Holder(organisation=member_id or _norm(organisation)),
            candidate_is_member=candidate_is_member,
            via=checked_via,
            by_body=by_body,
            previous_terms=sum(1 for t in self.tenures.values() if t.holder == holder),
            is_change=bool(self.tenures),
            outside_approval_ref=outside_approval_ref,
            body_members=body_members,
        )
        if via == "onboarding":
            exempt = {f"offices.{self.office}.{part}" for part in FOUNDING_EXEMPT}
            violations = [v for v in violations if v.rule not in exempt]
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


@dataclass(frozen=True)
class FoundingOfficer:
    """One of an alliance's first officers, as its onboarding names them."""

    office: str
    #: The organisation the officer comes from (the register of members is still empty).
    organisation: str
    #: Personal data: sealed under the person's key, as every holder's name is.
    person_name: str | None = None
    #: A reference to the founding agreement or meeting that chose them, if any.
    decision_ref: str | None = None


class FoundingOfficerRefused(RulesBroken):
    """An alliance's first officers must fit version 1 of its ToR, as any appointment does."""

    def __init__(self, entry: str, violations: list[Violation]) -> None:
        super().__init__(
            [
                Violation(rule=v.rule, clause=v.clause, message=f"{entry}: {v.message}")
                for v in violations
            ]
        )


def found_offices(
    terms: Version, officers: Sequence[FoundingOfficer], *, starts_on: date, by: str
) -> list[OfficeRoll]:
    """The office rolls of a new alliance holding its first officers, each from the
    start date for the term its office has in `terms` (version 1). Each officer is
    appointed as any holder is, in the order given (so a second holder of a one-seat
    office is refused); a refusal names the entry (`officers[<index>]`) and the clause."""
    rolls: dict[str, OfficeRoll] = {}
    for index, officer in enumerate(officers):
        entry = f"officers[{index}] ({officer.office})"
        checked_text(officer.organisation, f"officers[{index}].organisation")
        if officer.person_name is not None:
            checked_text(officer.person_name, f"officers[{index}].person_name")
        if officer.decision_ref is not None:
            checked_text(officer.decision_ref, f"officers[{index}].decision_ref")
        rule = terms.rules.office(officer.office)
        if rule is None:
            known = ", ".join(o.key for o in terms.rules.offices) or "none"
            problem = f"the ToR has no office {officer.office!r} (its offices: {known})"
            raise FoundingOfficerRefused(entry, [rule_violation(terms.clauses, "offices", problem)])
        if officer.office not in rolls:
            rolls[officer.office] = OfficeRoll.open(officer.office)
        roll = rolls[officer.office]
        # Holders of the body's offices sit on it: they count towards its size.
        sitting = sum(
            len(other.holders_on(starts_on))
            for other in rolls.values()
            if (other_rule := terms.rules.office(other.office)) and other_rule.body == rule.body
        )
        try:
            roll.appoint(
                terms=terms,
                via="onboarding",
                member_id=None,
                organisation=officer.organisation,
                person_name=officer.person_name,
                candidate_is_member=False,
                starts_on=starts_on,
                by_body=None,
                decision_ref=officer.decision_ref,
                election_ref=None,
                outside_approval_ref=None,
                by=by,
                body_members=sitting,
            )
        except RulesBroken as error:
            raise FoundingOfficerRefused(entry, list(error.violations)) from None
        except MemberStateConflict as error:
            path = f"offices.{officer.office}"
            raise FoundingOfficerRefused(
                entry, [rule_violation(terms.clauses, path, f"{error.message}: named twice")]
            ) from None
    return list(rolls.values())


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
