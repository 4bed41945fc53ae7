"""Offices and committee seats: appointments and elections checked against the roll itself.

Given a roll built by earlier appointments (their events collected), when someone is
appointed, seated or leaves, then only the new events are pending, or the act is refused
with the clause of the template that carries the rule, and nothing is pending.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest
from eventsourcing.application import Application

from domain.errors import HoldingEnded, MemberStateConflict, RulesBroken
from domain.offices import BodyRoster, OfficeRoll, Tenure
from domain.terms import Version
from tests.unit.tor import ACIC, FJA, KCA, KIN, TODAY, refusal, terms_of


def appoint(
    roll: OfficeRoll,
    terms: Version,
    member_id: str | None,
    *,
    via: str = "appointed",
    by_body: str | None = None,
    person: str | None = None,
    organisation: str | None = None,
    starts_on: date = TODAY,
    is_member: bool = True,
    outside_approval_ref: str | None = None,
) -> str:
    return roll.appoint(
        terms=terms,
        via=via,  # type: ignore[arg-type]
        member_id=member_id,
        organisation=organisation or f"Organisation {member_id}",
        person_name=person or f"Person of {member_id}",
        candidate_is_member=is_member,
        starts_on=starts_on,
        by_body=by_body,
        decision_ref="minutes item 5" if via == "appointed" else None,
        election_ref="election 2026" if via == "elected" else None,
        outside_approval_ref=outside_approval_ref,
        by="key:officer",
    )


def elect_co_chair(roll: OfficeRoll, member_id: str, starts_on: date = TODAY, **kw) -> str:
    return appoint(roll, kw.pop("terms", ACIC), member_id, via="elected", starts_on=starts_on, **kw)


def given_roll(office: str) -> OfficeRoll:
    roll = OfficeRoll.open(office)
    roll.collect_events()
    return roll


def given_co_chairs(*member_ids: str, terms: Version = ACIC) -> OfficeRoll:
    roll = OfficeRoll.open("co-chair")
    for member_id in member_ids:
        elect_co_chair(roll, member_id, terms=terms)
    roll.collect_events()
    return roll


# --------------------------------------------------------------------------- offices


def test_a_co_chair_is_elected_for_the_two_years_the_tor_sets():
    roll = given_roll("co-chair")

    holding = elect_co_chair(roll, "member-a")

    events = roll.collect_events()
    assert [type(e) for e in events] == [OfficeRoll.HolderAppointed]
    appointed = events[0]
    assert appointed.holding_id == holding
    assert appointed.member_id == "member-a"
    assert appointed.via == "elected"
    assert appointed.election_ref == "election 2026"
    assert appointed.starts_on == "2026-11-23"
    assert appointed.ends_on == "2028-11-23"  # offices.co-chair.term_months == 24
    assert appointed.person == {"name": "Person of member-a"}
    assert appointed.under_version == 1
    assert roll.tenures[holding].ends_on == date(2028, 11, 23)
    assert [t.id for t in roll.holders_on(TODAY)] == [holding]
    assert roll.holders_on(date(2028, 11, 23)) == []


def test_an_office_without_a_term_is_held_until_replaced():
    roll = given_roll("chair")

    holding = appoint(roll, FJA, "member-a", by_body="steering-group")

    assert roll.collect_events()[0].ends_on is None
    assert roll.tenures[holding].until is None
    assert roll.holders_on(date(2040, 1, 1))[0].id == holding


@pytest.mark.parametrize(
    ("terms", "office", "via", "by_body", "clause"),
    [
        (ACIC, "co-chair", "appointed", None, "6.1"),
        (KCA, "chair", "elected", None, "5"),
        (KIN, "chair", "elected", None, "5"),
    ],
    ids=["co-chairs-are-elected", "kinship-care-chair-is-appointed", "network-chair-is-appointed"],
)
def test_an_office_is_filled_the_way_the_tor_says(terms, office, via, by_body, clause):
    roll = given_roll(office)

    with pytest.raises(RulesBroken) as raised:
        appoint(roll, terms, "member-a", via=via, by_body=by_body)

    assert refusal(raised) == (f"offices.{office}.selection", clause)
    assert roll.collect_events() == []
    assert roll.tenures == {}


@pytest.mark.parametrize(
    ("terms", "office", "wrong_body", "right_body", "clause"),
    [
        (KCA, "chair", "executive-committee", "full-membership", "5"),
        (FJA, "chair", "full-membership", "steering-group", "3.2"),
        (ACIC, "working-group-lead", "working-groups", "full-membership", "7.1"),
        (KIN, "vice-chair", None, "full-membership", "5"),
    ],
)
def test_an_appointed_office_is_filled_by_the_body_the_tor_names(
    terms, office, wrong_body, right_body, clause
):
    roll = given_roll(office)

    with pytest.raises(RulesBroken) as raised:
        appoint(roll, terms, "member-a", by_body=wrong_body)
    refused = roll.collect_events()
    appoint(roll, terms, "member-a", by_body=right_body)

    assert refusal(raised) == (f"offices.{office}.appointed_by", clause)
    assert refused == []
    appointed = roll.collect_events()
    assert [type(e) for e in appointed] == [OfficeRoll.HolderAppointed]
    assert appointed[0].by_body == right_body


def test_a_third_co_chair_is_refused_while_two_sit():
    roll = given_co_chairs("member-a", "member-b")

    with pytest.raises(RulesBroken) as raised:
        elect_co_chair(roll, "member-c")

    assert refusal(raised) == ("offices.co-chair.seats", "6")
    assert roll.collect_events() == []
    assert len(roll.tenures) == 2


def test_a_single_seat_office_takes_one_holder():
    roll = given_roll("chair")
    appoint(roll, KCA, "member-a", by_body="full-membership")
    roll.collect_events()

    with pytest.raises(RulesBroken) as raised:
        appoint(roll, KCA, "member-b", by_body="full-membership")

    assert refusal(raised) == ("offices.chair.seats", "5")
    assert roll.collect_events() == []


def test_co_chairs_come_from_different_member_organisations():
    roll = given_co_chairs("member-a")

    with pytest.raises(RulesBroken) as raised:
        elect_co_chair(roll, "member-a", person="Another Person")

    assert refusal(raised) == ("offices.co-chair.distinct_organisations", "6")
    assert roll.collect_events() == []


def test_a_co_chair_comes_from_the_membership():
    roll = given_roll("co-chair")

    with pytest.raises(RulesBroken) as raised:
        elect_co_chair(roll, None, organisation="An Outside Body", is_member=False)

    assert refusal(raised) == ("offices.co-chair.from_membership", "6")
    assert roll.collect_events() == []


def test_the_same_holder_cannot_hold_the_office_twice_at_once():
    roll = given_co_chairs("member-a")

    with pytest.raises(MemberStateConflict):
        elect_co_chair(roll, "member-a", starts_on=TODAY + timedelta(days=100))

    assert roll.collect_events() == []


def test_a_co_chair_may_be_re_elected_when_the_term_ends():
    roll = given_co_chairs("member-a")

    again = elect_co_chair(roll, "member-a", starts_on=date(2028, 11, 23))

    events = roll.collect_events()
    assert [type(e) for e in events] == [OfficeRoll.HolderAppointed]
    assert events[0].ends_on == "2030-11-23"
    assert [t.id for t in roll.holders_on(date(2029, 1, 1))] == [again]


def test_a_holder_cannot_serve_again_where_the_tor_says_so():
    co_chair = ACIC.rules.office("co-chair")
    assert co_chair is not None
    once_only = msgspec.structs.replace(co_chair, re_eligible=False)
    rules = msgspec.structs.replace(
        ACIC.rules,
        offices=tuple(once_only if o.key == "co-chair" else o for o in ACIC.rules.offices),
    )
    terms = terms_of("children-in-care", rules)
    roll = given_co_chairs("member-a", terms=terms)

    with pytest.raises(RulesBroken) as raised:
        elect_co_chair(roll, "member-a", starts_on=date(2028, 11, 23), terms=terms)
    refused = roll.collect_events()
    # Another person from the same organisation is a different holder.
    elect_co_chair(roll, "member-a", starts_on=date(2028, 11, 23), person="New", terms=terms)

    assert refusal(raised) == ("offices.co-chair.re_eligible", "6.1")
    assert refused == []
    assert len(roll.collect_events()) == 1


def test_a_co_chair_seat_frees_on_the_day_the_term_ends_and_not_before():
    roll = given_co_chairs("member-a", "member-b")

    with pytest.raises(RulesBroken) as raised:
        elect_co_chair(roll, "member-c", starts_on=date(2028, 11, 22))
    refused = roll.collect_events()
    elect_co_chair(roll, "member-c", starts_on=date(2028, 11, 23))

    assert refusal(raised) == ("offices.co-chair.seats", "6")
    assert refused == []
    assert len(roll.collect_events()) == 1


def test_a_seat_frees_when_its_holder_leaves():
    roll = given_roll("chair")
    first = appoint(roll, FJA, "member-a", by_body="steering-group")
    roll.collect_events()

    roll.leave(first, reason="stepped down", left_on=date(2027, 3, 1), by="key:officer")
    left = roll.collect_events()
    appoint(roll, FJA, "member-b", by_body="steering-group", starts_on=date(2027, 3, 1))

    assert [type(e) for e in left] == [OfficeRoll.HolderLeft]
    assert left[0].holding_id == first
    assert left[0].left_on == "2027-03-01"
    assert roll.tenures[first].until == date(2027, 3, 1)
    assert len(roll.collect_events()) == 1
    assert [t.organisation for t in roll.holders_on(date(2027, 3, 1))] == ["member-b"]


def test_the_seat_is_still_held_before_the_holder_leaves():
    roll = given_roll("chair")
    first = appoint(roll, FJA, "member-a", by_body="steering-group")
    roll.leave(first, reason="stepped down", left_on=date(2027, 3, 1), by="key:officer")
    roll.collect_events()

    with pytest.raises(RulesBroken) as raised:
        appoint(roll, FJA, "member-b", by_body="steering-group", starts_on=date(2027, 2, 28))

    assert refusal(raised) == ("offices.chair.seats", "3.2")
    assert roll.collect_events() == []


def test_a_holding_ends_once():
    roll = given_roll("chair")
    holding = appoint(roll, FJA, "member-a", by_body="steering-group")
    roll.leave(holding, reason="stepped down", left_on=date(2027, 3, 1), by="k")
    roll.collect_events()

    with pytest.raises(HoldingEnded):
        roll.leave(holding, reason="again", left_on=date(2027, 4, 1), by="k")

    assert roll.collect_events() == []
    assert roll.tenures[holding].left_on == date(2027, 3, 1)


def test_a_holding_whose_term_has_run_out_cannot_be_left():
    roll = given_co_chairs("member-a")
    holding = next(iter(roll.tenures))

    with pytest.raises(HoldingEnded):
        roll.leave(holding, reason="late", left_on=date(2028, 11, 23), by="k")

    assert roll.collect_events() == []


def test_a_holding_cannot_end_before_it_starts():
    roll = given_roll("co-chair")
    holding = elect_co_chair(roll, "member-a", starts_on=date(2027, 1, 1))
    roll.collect_events()

    with pytest.raises(MemberStateConflict):
        roll.leave(holding, reason="r", left_on=date(2026, 12, 31), by="k")

    assert roll.collect_events() == []
    assert roll.tenures[holding].left_on is None


def test_the_first_sponsor_needs_no_outside_approval_but_a_change_of_sponsor_does():
    roll = given_roll("sponsor")

    first = appoint(roll, KIN, None, organisation="Kent County Council", is_member=False)
    appointed = roll.collect_events()
    roll.leave(first, reason="retired", left_on=date(2027, 6, 1), by="k")
    roll.collect_events()
    with pytest.raises(RulesBroken) as raised:
        appoint(
            roll,
            KIN,
            None,
            organisation="Surrey County Council",
            is_member=False,
            starts_on=date(2027, 6, 1),
        )
    refused = roll.collect_events()
    appoint(
        roll,
        KIN,
        None,
        organisation="Surrey County Council",
        is_member=False,
        starts_on=date(2027, 6, 1),
        outside_approval_ref="regional DCS group, 2027-05-20",
    )
    changed = roll.collect_events()

    assert [type(e) for e in appointed] == [OfficeRoll.HolderAppointed]
    assert appointed[0].outside_approval_ref is None
    assert refusal(raised) == ("offices.sponsor.change_approved_by_outside", "3")
    assert refused == []
    assert [type(e) for e in changed] == [OfficeRoll.HolderAppointed]
    assert changed[0].outside_approval_ref == "regional DCS group, 2027-05-20"
    assert [t.organisation for t in roll.holders_on(date(2027, 6, 1))] == ["surrey county council"]


def test_an_office_the_tor_does_not_have_is_refused_without_a_clause():
    roll = given_roll("treasurer")

    with pytest.raises(RulesBroken) as raised:
        appoint(roll, ACIC, "member-a", by_body="full-membership")

    assert refusal(raised) == ("offices.treasurer", None)
    assert roll.collect_events() == []


def test_a_successor_elected_in_advance_does_not_block_the_other_vacant_seat():
    roll = OfficeRoll.open("co-chair")
    elect_co_chair(roll, "member-a", starts_on=date(2025, 1, 1))  # until 2027-01-01
    elect_co_chair(roll, "member-d", starts_on=date(2027, 1, 1))  # a's successor
    roll.collect_events()

    # On every day of member-c's term, at most one other co-chair holds office.
    elect_co_chair(roll, "member-c")

    assert len(roll.collect_events()) == 1


# --------------------------------------------------------------------------- committee seats


def seat(
    roster: BodyRoster,
    terms: Version,
    member_id: str,
    *,
    agreed_by: str = "full-membership",
    required_seat: str | None = None,
    starts_on: date = TODAY,
    person: str | None = None,
) -> str:
    return roster.take_seat(
        terms=terms,
        member_id=member_id,
        organisation=f"Organisation {member_id}",
        person_name=person or f"Person of {member_id}",
        required_seat=required_seat,
        starts_on=starts_on,
        agreed_by=agreed_by,
        decision_ref="AGM 2026 item 7",
        by="key:officer",
    )


def given_roster(body: str, terms: Version | None = None, *member_ids: str) -> BodyRoster:
    roster = BodyRoster.open(body)
    for member_id in member_ids:
        assert terms is not None
        seat(roster, terms, member_id)
    roster.collect_events()
    return roster


def test_the_full_membership_agrees_a_seat_on_the_executive_committee_for_three_years():
    roster = given_roster("executive-committee")

    seat_id = seat(roster, KCA, "member-a")

    events = roster.collect_events()
    assert [type(e) for e in events] == [BodyRoster.SeatTaken]
    assert events[0].seat_id == seat_id
    assert events[0].agreed_by == "full-membership"
    assert events[0].starts_on == "2026-11-23"
    assert events[0].ends_on == "2029-11-23"  # bodies.executive-committee.term_months == 36
    assert events[0].required_seat is None
    assert events[0].under_version == 1
    assert roster.seats[seat_id].organisation == "member-a"


@pytest.mark.parametrize(
    ("terms", "body", "clause"),
    [
        (KCA, "full-membership", "4"),
        (ACIC, "full-membership", "3"),
        (ACIC, "working-groups", "7"),
    ],
)
def test_bodies_whose_members_join_otherwise_have_no_seats(terms, body, clause):
    roster = given_roster(body)

    with pytest.raises(RulesBroken) as raised:
        seat(roster, terms, "member-a")

    assert refusal(raised) == (f"bodies.{body}", clause)
    assert roster.collect_events() == []
    assert roster.seats == {}


def test_executive_committee_seats_are_agreed_only_by_the_full_membership():
    roster = given_roster("executive-committee")

    with pytest.raises(RulesBroken) as raised:
        seat(roster, KCA, "member-a", agreed_by="executive-committee")

    assert refusal(raised) == ("bodies.executive-committee.members_agreed_by", "6")
    assert roster.collect_events() == []


def test_the_executive_committee_has_at_most_seven_members():
    roster = given_roster("executive-committee", KCA, *(f"member-{n}" for n in range(6)))

    seventh = seat(roster, KCA, "member-6")
    assert len(roster.collect_events()) == 1
    with pytest.raises(RulesBroken) as raised:
        seat(roster, KCA, "member-7")

    assert refusal(raised) == ("bodies.executive-committee.max_members", "6")
    assert roster.collect_events() == []
    assert len(roster.seats) == 7 and seventh in roster.seats


def test_the_chair_counts_towards_the_executive_committees_seven():
    roster = given_roster("executive-committee", KCA, *(f"member-{n}" for n in range(6)))

    with pytest.raises(RulesBroken) as raised:
        roster.take_seat(
            terms=KCA,
            member_id="member-6",
            organisation="Organisation member-6",
            person_name="Person of member-6",
            required_seat=None,
            starts_on=TODAY,
            agreed_by="full-membership",
            decision_ref="agm",
            by="key:officer",
            office_holders=1,
        )

    assert refusal(raised) == ("bodies.executive-committee.max_members", "6")
    assert roster.collect_events() == []


def test_no_chair_is_appointed_to_a_full_executive_committee():
    roll = given_roll("chair")

    with pytest.raises(RulesBroken) as raised:
        roll.appoint(
            terms=KCA,
            via="appointed",
            member_id="member-7",
            organisation="Organisation member-7",
            person_name="Person of member-7",
            candidate_is_member=True,
            starts_on=TODAY,
            by_body="full-membership",
            decision_ref="agm",
            election_ref=None,
            outside_approval_ref=None,
            by="key:officer",
            body_members=7,
        )

    assert refusal(raised) == ("bodies.executive-committee.max_members", "6")
    assert roll.collect_events() == []


def test_a_committee_seat_frees_when_its_holder_leaves():
    roster = given_roster("executive-committee", KCA, *(f"member-{n}" for n in range(7)))
    leaving = next(iter(roster.seats))

    roster.leave(leaving, reason="stood down", left_on=date(2027, 5, 1), by="k")
    left = roster.collect_events()
    seat(roster, KCA, "member-7", starts_on=date(2027, 5, 1))

    assert [type(e) for e in left] == [BodyRoster.SeatLeft]
    assert left[0].seat_id == leaving and left[0].left_on == "2027-05-01"
    assert len(roster.collect_events()) == 1


def test_the_same_person_does_not_sit_twice():
    roster = given_roster("executive-committee", KCA, "member-a")

    with pytest.raises(MemberStateConflict):
        seat(roster, KCA, "member-a")

    assert roster.collect_events() == []


def test_a_seat_ends_once():
    roster = given_roster("executive-committee", KCA, "member-a")
    seat_id = next(iter(roster.seats))
    roster.leave(seat_id, reason="stood down", left_on=date(2027, 1, 1), by="k")
    roster.collect_events()

    with pytest.raises(HoldingEnded):
        roster.leave(seat_id, reason="again", left_on=date(2027, 2, 1), by="k")

    assert roster.collect_events() == []


def test_the_steering_group_fills_its_required_seats():
    roster = given_roster("steering-group")

    seat_id = seat(roster, FJA, "member-a", required_seat="mediator")

    events = roster.collect_events()
    assert events[0].required_seat == "mediator"
    assert events[0].ends_on is None  # the steering group sets no term
    assert roster.seats[seat_id].seat == "mediator"


def test_a_seat_the_steering_group_does_not_have_is_refused():
    roster = given_roster("steering-group")

    with pytest.raises(RulesBroken) as raised:
        seat(roster, FJA, "member-a", required_seat="treasurer")

    assert refusal(raised) == ("bodies.steering-group.required_seats", "3")
    assert roster.collect_events() == []


def test_a_required_seat_is_filled_once_until_its_holder_leaves():
    roster = given_roster("steering-group")
    mediator = seat(roster, FJA, "member-a", required_seat="mediator")
    roster.collect_events()

    with pytest.raises(RulesBroken) as raised:
        seat(roster, FJA, "member-b", required_seat="mediator")
    refused = roster.collect_events()
    roster.leave(mediator, reason="retired", left_on=date(2027, 1, 1), by="k")
    seat(roster, FJA, "member-b", required_seat="mediator", starts_on=date(2027, 1, 1))

    assert refusal(raised) == ("bodies.steering-group.required_seats", "3")
    assert refused == []
    assert [type(e) for e in roster.collect_events()] == [
        BodyRoster.SeatLeft,
        BodyRoster.SeatTaken,
    ]


def test_the_steering_group_is_agreed_by_the_full_membership():
    roster = given_roster("steering-group")

    with pytest.raises(RulesBroken) as raised:
        seat(roster, FJA, "member-a", agreed_by="steering-group", required_seat="solicitor")

    assert refusal(raised) == ("bodies.steering-group.members_agreed_by", "3")
    assert roster.collect_events() == []


def test_a_body_the_tor_does_not_have_is_refused_without_a_clause():
    roster = given_roster("board-of-trustees")

    with pytest.raises(RulesBroken) as raised:
        seat(roster, KCA, "member-a")

    assert refusal(raised) == ("bodies", None)
    assert roster.collect_events() == []


def test_a_successor_agreed_in_advance_does_not_block_a_vacancy_on_the_committee():
    roster = BodyRoster.open("executive-committee")
    for n in range(5):
        seat(roster, KCA, f"member-{n}")
    seat(roster, KCA, "outgoing", starts_on=date(2024, 1, 1))  # until 2027-01-01
    seat(roster, KCA, "successor", starts_on=date(2027, 1, 1))
    roster.collect_events()

    # Six sit on every day of the new term: there is room for a seventh.
    seat(roster, KCA, "member-new")

    assert len(roster.collect_events()) == 1


# --------------------------------------------------------------------------- replay


def test_replaying_an_office_roll_rebuilds_the_same_tenures():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    roll = OfficeRoll.open("co-chair")
    a = elect_co_chair(roll, "member-a")
    elect_co_chair(roll, "member-b")
    roll.leave(a, reason="new job", left_on=date(2027, 9, 1), by="k")
    elect_co_chair(roll, "member-c", starts_on=date(2027, 9, 1))
    app.save(roll)

    replayed = app.repository.get(roll.id)

    assert replayed.office == "co-chair"
    assert replayed.tenures == roll.tenures
    assert replayed.tenures[a] == Tenure(
        id=a,
        organisation="member-a",
        holder="member-a|person of member a",
        starts_on=TODAY,
        ends_on=date(2028, 11, 23),
        left_on=date(2027, 9, 1),
    )
    assert sorted(t.organisation for t in replayed.holders_on(date(2027, 9, 1))) == [
        "member-b",
        "member-c",
    ]
    assert replayed.id == OfficeRoll.create_id("co-chair")


def test_replaying_a_body_roster_rebuilds_the_same_seats():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    roster = BodyRoster.open("steering-group")
    judge = seat(roster, FJA, "member-a", required_seat="judiciary")
    seat(roster, FJA, "member-b", required_seat="mediator")
    seat(roster, FJA, "member-c")
    roster.leave(judge, reason="retired", left_on=date(2027, 4, 1), by="k")
    app.save(roster)

    replayed = app.repository.get(roster.id)

    assert replayed.body == "steering-group"
    assert replayed.seats == roster.seats
    assert replayed.seats[judge].seat == "judiciary"
    assert replayed.seats[judge].left_on == date(2027, 4, 1)
    assert len(replayed.seats) == 3
    assert replayed.id == BodyRoster.create_id("steering-group")
