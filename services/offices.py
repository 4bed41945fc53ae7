"""Use cases of offices and committees: appoint, record an election result, seat someone
on a committee, end a holding; and the read side of who holds what, what is vacant and
which terms are ending."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from domain.membership import Member
from domain.offices import BodyRoster, OfficeRoll
from domain.terms import Version
from projections import office_holders as view
from services.errors import InvalidRequest, NotFound
from services.runtime import Runtime
from services.tenancy import Command, command, rules_in_force, views

#: A term ending within this many days is listed as expiring.
EXPIRING_WITHIN_DAYS = 90


def _candidate(cmd: Command, member_id: str | None, organisation: str | None) -> tuple[str, bool]:
    """The holder's organisation name, and whether it is a voting member now."""
    if member_id is None:
        if not organisation:
            raise InvalidRequest(
                "name the member (member_id) or, for a holder from outside the membership, "
                "the organisation"
            )
        return organisation, False
    member = cmd.get(Member, member_id, "member")
    return member.name or organisation or "", member.votes


def _office_roll(cmd: Command, office: str) -> OfficeRoll:
    if cmd.terms.rules.office(office) is None:
        known = ", ".join(o.key for o in cmd.terms.rules.offices) or "none"
        raise NotFound(f"the Terms of Reference in force have no office {office!r} ({known})")
    return cmd.find(OfficeRoll, OfficeRoll.create_id(office)) or OfficeRoll.open(office)


def appoint(
    runtime: Runtime,
    slug: str,
    office: str,
    *,
    via: Literal["appointed", "elected"],
    member_id: str | None,
    organisation: str | None,
    person_name: str | None,
    starts_on: date | None,
    by_body: str | None,
    decision_ref: str | None,
    election_ref: str | None,
    outside_approval_ref: str | None,
    by: str,
) -> str:
    """Fill a seat of an office: by appointment, or by recording an election's result."""
    with command(runtime, slug, f"{'appoint' if via == 'appointed' else 'elect'}_office") as cmd:
        roll = _office_roll(cmd, office)
        name, is_member = _candidate(cmd, member_id, organisation)
        start = starts_on or cmd.today
        rule = cmd.terms.rules.office(office)
        assert rule is not None
        holding_id = roll.appoint(
            body_members=body_members(cmd, rule.body, start),
            terms=cmd.terms,
            via=via,
            member_id=member_id,
            organisation=name,
            person_name=person_name,
            candidate_is_member=is_member,
            starts_on=start,
            by_body=by_body,
            decision_ref=decision_ref,
            election_ref=election_ref,
            outside_approval_ref=outside_approval_ref,
            by=by,
        )
        cmd.record(roll)
        return holding_id


def end_holding(
    runtime: Runtime,
    slug: str,
    office: str,
    holding_id: str,
    *,
    reason: str,
    left_on: date | None,
    by: str,
) -> None:
    with command(runtime, slug, "end_office_holding") as cmd:
        roll = cmd.find(OfficeRoll, OfficeRoll.create_id(office))
        if roll is None or holding_id not in roll.tenures:
            raise NotFound(f"no holding {holding_id!r} of the office {office!r}")
        roll.leave(holding_id, reason=reason, left_on=left_on or cmd.today, by=by)
        cmd.record(roll)


def take_seat(
    runtime: Runtime,
    slug: str,
    body: str,
    *,
    member_id: str | None,
    organisation: str | None,
    person_name: str | None,
    required_seat: str | None,
    starts_on: date | None,
    agreed_by: str,
    decision_ref: str,
    by: str,
) -> str:
    with command(runtime, slug, "take_committee_seat") as cmd:
        if cmd.terms.rules.body(body) is None:
            known = ", ".join(b.key for b in cmd.terms.rules.bodies)
            raise NotFound(f"the Terms of Reference in force have no body {body!r} ({known})")
        roster = cmd.find(BodyRoster, BodyRoster.create_id(body)) or BodyRoster.open(body)
        name, _ = _candidate(cmd, member_id, organisation)
        start = starts_on or cmd.today
        seat_id = roster.take_seat(
            office_holders=_office_holders(cmd, body, start),
            terms=cmd.terms,
            member_id=member_id,
            organisation=name,
            person_name=person_name,
            required_seat=required_seat,
            starts_on=start,
            agreed_by=agreed_by,
            decision_ref=decision_ref,
            by=by,
        )
        cmd.record(roster)
        return seat_id


def _office_holders(cmd: Command, body: str, day: date) -> int:
    """How many hold an office of this body on a day (they sit on it too)."""
    count = 0
    for rule in cmd.terms.rules.offices:
        if rule.body == body:
            roll = cmd.find(OfficeRoll, OfficeRoll.create_id(rule.key))
            count += len(roll.holders_on(day)) if roll else 0
    return count


def body_members(cmd: Command, body: str, day: date) -> int:
    """How many sit on a body on a day: its seats and the holders of its offices."""
    roster = cmd.find(BodyRoster, BodyRoster.create_id(body))
    seats = sum(1 for t in roster.seats.values() if t.held_on(day)) if roster else 0
    return seats + _office_holders(cmd, body, day)


def leave_seat(
    runtime: Runtime,
    slug: str,
    body: str,
    seat_id: str,
    *,
    reason: str,
    left_on: date | None,
    by: str,
) -> None:
    with command(runtime, slug, "leave_committee_seat") as cmd:
        roster = cmd.find(BodyRoster, BodyRoster.create_id(body))
        if roster is None or seat_id not in roster.seats:
            raise NotFound(f"no seat {seat_id!r} on the body {body!r}")
        roster.leave(seat_id, reason=reason, left_on=left_on or cmd.today, by=by)
        cmd.record(roster)


# ----------------------------------------------------------------------------- reads


def _expiring(ends_on: str | None, today: date) -> bool:
    return ends_on is not None and ends_on <= (today + timedelta(EXPIRING_WITHIN_DAYS)).isoformat()


def offices(runtime: Runtime, slug: str, *, on: date | None = None) -> list[dict[str, Any]]:
    """Each office of the ToR in force: its current holders and their term ends, its
    vacancies, and whether a term ends within EXPIRING_WITHIN_DAYS days."""
    terms = rules_in_force(runtime, slug)
    today = on or runtime.clock().date()
    with views(runtime, slug) as sql:
        current = view.holdings(sql, current_on=today.isoformat())
    return [_office(terms, rule.key, current, today) for rule in terms.rules.offices]


def _office(terms: Version, key: str, current: list[dict[str, Any]], today: date) -> dict[str, Any]:
    rule = terms.rules.office(key)
    assert rule is not None
    holders = [h for h in current if h["office"] == key]
    for holder in holders:
        holder["expiring"] = _expiring(holder["ends_on"], today)
    return {
        "office": key,
        "name": rule.name,
        "body": rule.body,
        "selection": rule.selection,
        "seats": rule.seats,
        "term_months": rule.term_months,
        "re_eligible": rule.re_eligible,
        "distinct_organisations": rule.distinct_organisations,
        "holders": holders,
        "vacancies": max(rule.seats - len(holders), 0),
        "terms_expiring": sum(1 for h in holders if h["expiring"]),
    }


def office(runtime: Runtime, slug: str, key: str) -> dict[str, Any]:
    """One office: as in the overview, plus every holding it ever had."""
    terms = rules_in_force(runtime, slug)
    if terms.rules.office(key) is None:
        raise NotFound(f"the Terms of Reference in force have no office {key!r}")
    today = runtime.clock().date()
    with views(runtime, slug) as sql:
        current = view.holdings(sql, office=key, current_on=today.isoformat())
        history = view.holdings(sql, office=key)
    found = _office(terms, key, current, today)
    found["history"] = history
    return found


def bodies(runtime: Runtime, slug: str) -> list[dict[str, Any]]:
    """Each body of the ToR in force: its size limit, who sits on it now, the places
    still free (its office holders count towards its size), and which required seats
    are unfilled."""
    terms = rules_in_force(runtime, slug)
    today = runtime.clock().date()
    with views(runtime, slug) as sql:
        current = view.seats(sql, current_on=today.isoformat())
        holders = view.holdings(sql, current_on=today.isoformat())
    result = []
    for rule in terms.rules.bodies:
        seats = [s for s in current if s["body"] == rule.key]
        # Holders of the body's offices (e.g. its chair) sit on it too.
        offices_here = {o.key for o in terms.rules.offices if o.body == rule.key}
        sitting = len(seats) + sum(1 for h in holders if h["office"] in offices_here)
        for seat in seats:
            seat["expiring"] = _expiring(seat["ends_on"], today)
        filled = {s["required_seat"] for s in seats}
        result.append(
            {
                "body": rule.key,
                "name": rule.name,
                "kind": rule.kind,
                "max_members": rule.max_members,
                "term_months": rule.term_months,
                "members_agreed_by": rule.members_agreed_by,
                "seats": seats,
                "required_seats": [
                    {"key": s.key, "name": s.name, "filled": s.key in filled}
                    for s in rule.required_seats
                ],
                "required_seats_unfilled": [
                    s.key for s in rule.required_seats if s.key not in filled
                ],
                "places_free": (
                    None if rule.max_members is None else max(rule.max_members - sitting, 0)
                ),
            }
        )
    return result
