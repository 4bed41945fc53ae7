"""The rule checks behind membership, offices, committees, working groups and the work plan.

Each is a pure function over one template's rules and clauses; each violation names the
rule path and the clause of the template that carries it.
"""

from __future__ import annotations

import msgspec
import pytest

from domain.rule_checks import (
    Holder,
    Violation,
    check_appointment,
    check_body_exists,
    check_body_seat,
    check_conduct_review,
    check_membership_decision,
    check_route_step,
    check_work_plan_agreement,
    check_working_group_body,
    check_working_group_decision,
    working_group_body,
)
from domain.rules import Rules
from domain.templates import template

ACIC = template("children-in-care")
KCA = template("kinship-care")
FJA = template("family-justice")
KIN = template("kinship-network")
SSF = template("separated-families")

NOTHING: frozenset[str] = frozenset()


def rules_of(doc):
    return doc.rules, doc.clauses


def only(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, violations
    violation = violations[0]
    if violation.clause is not None:
        assert f"(ToR clause {violation.clause})" in violation.message
    return violation


def cited(violations: list[Violation]) -> list[tuple[str, str | None]]:
    return [(v.rule, v.clause) for v in violations]


def with_membership(rules: Rules, eligibility: dict | None = None, **membership) -> Rules:
    """The rules with some membership (and eligibility) fields changed."""
    changed = msgspec.structs.replace(rules.membership.eligibility, **(eligibility or {}))
    return msgspec.structs.replace(
        rules,
        membership=msgspec.structs.replace(rules.membership, eligibility=changed, **membership),
    )


# --------------------------------------------------------------------------- the route


def test_children_in_care_route_is_recommendation_by_the_co_chairs_then_the_full_membership():
    rules, clauses = rules_of(ACIC)

    assert check_route_step(rules, clauses, step="recommend", by="co-chair", done=NOTHING) == []
    assert (
        check_route_step(
            rules, clauses, step="decide", by="full-membership", done=frozenset({"recommend"})
        )
        == []
    )


def test_kinship_care_route_is_circulation_to_and_decision_by_the_executive_committee():
    rules, clauses = rules_of(KCA)

    assert (
        check_route_step(rules, clauses, step="circulate", by="executive-committee", done=NOTHING)
        == []
    )
    assert (
        check_route_step(
            rules,
            clauses,
            step="decide",
            by="executive-committee",
            done=frozenset({"circulate"}),
        )
        == []
    )


@pytest.mark.parametrize("doc", [FJA, KIN, SSF], ids=["family-justice", "network", "separated"])
def test_where_the_tor_has_no_earlier_step_the_deciding_body_decides_at_once(doc):
    decider = doc.rules.membership.route.decided_by

    assert check_route_step(*rules_of(doc), step="decide", by=decider, done=NOTHING) == []


@pytest.mark.parametrize(
    ("doc", "step", "by", "done", "rule", "clause", "says"),
    [
        (ACIC, "circulate", "full-membership", NOTHING, "circulated_to", "3.1", "do not circulate"),
        (ACIC, "recommend", "full-membership", NOTHING, "recommended_by", "3.1", "by the Co-chair"),
        (ACIC, "decide", "full-membership", NOTHING, "recommended_by", "3.1", "must first"),
        (ACIC, "decide", "co-chair", {"recommend"}, "decided_by", "3.1", "not the Co-chair"),
        (ACIC, "recommend", "co-chair", {"recommend"}, "recommended_by", "3.1", "already"),
        (KCA, "circulate", "full-membership", NOTHING, "circulated_to", "4.2", "to the Executive"),
        (KCA, "circulate", "executive-committee", {"circulate"}, "circulated_to", "4.2", "already"),
        (KCA, "decide", "executive-committee", NOTHING, "circulated_to", "4.2", "first be"),
        (KCA, "decide", "full-membership", {"circulate"}, "decided_by", "4.2", "Executive"),
        (FJA, "decide", "full-membership", NOTHING, "decided_by", "2.1", "Steering group"),
        (FJA, "recommend", "steering-group", NOTHING, "recommended_by", "2.1", "no recommend"),
        (KIN, "decide", "chair", NOTHING, "decided_by", "6.1", "not the Chair"),
    ],
)
def test_a_step_out_of_order_or_by_the_wrong_hands_names_the_route_rule_and_clause(
    doc, step, by, done, rule, clause, says
):
    violation = only(check_route_step(*rules_of(doc), step=step, by=by, done=frozenset(done)))

    assert (violation.rule, violation.clause) == (f"membership.route.{rule}", clause)
    assert says in violation.message


def test_a_recommendation_where_there_is_none_and_before_circulation_gives_both_reasons():
    found = check_route_step(
        *rules_of(KCA), step="recommend", by="executive-committee", done=NOTHING
    )

    assert cited(found) == [
        ("membership.route.recommended_by", "4.2"),
        ("membership.route.circulated_to", "4.2"),
    ]


def test_a_decision_before_its_recommendation_is_refused_even_by_the_right_body():
    # A children-in-care decision needs the recommendation, whoever decides.
    found = check_route_step(*rules_of(ACIC), step="decide", by="co-chair", done=NOTHING)

    assert cited(found) == [
        ("membership.route.decided_by", "3.1"),
        ("membership.route.recommended_by", "3.1"),
    ]


def test_an_observer_is_decided_by_the_body_that_approves_observers():
    rules = with_membership(
        FJA.rules, {"observers": True, "observers_approved_by": "full-membership"}
    )

    by_approver = check_route_step(
        rules, FJA.clauses, step="decide", by="full-membership", done=NOTHING, status="observer"
    )
    by_decider = only(
        check_route_step(
            rules, FJA.clauses, step="decide", by="steering-group", done=NOTHING, status="observer"
        )
    )
    member_by_approver = only(
        check_route_step(
            rules, FJA.clauses, step="decide", by="full-membership", done=NOTHING, status="member"
        )
    )

    assert by_approver == []
    assert (by_decider.rule, by_decider.clause) == (
        "membership.eligibility.observers_approved_by",
        "2",
    )
    assert (member_by_approver.rule, member_by_approver.clause) == (
        "membership.route.decided_by",
        "2.1",
    )


def test_children_in_care_observers_still_wait_for_the_co_chairs_recommendation():
    found = check_route_step(
        *rules_of(ACIC), step="decide", by="co-chair", done=NOTHING, status="observer"
    )

    assert cited(found) == [
        ("membership.eligibility.observers_approved_by", "3.4"),
        ("membership.route.recommended_by", "3.1"),
    ]


# --------------------------------------------------------------------------- members


@pytest.mark.parametrize(
    ("doc", "allowed", "refused", "clause"),
    [
        (ACIC, "full-membership", "co-chair", "3.1"),
        (KCA, "executive-committee", "full-membership", "4.2"),
        (FJA, "steering-group", "full-membership", "2.1"),
    ],
)
def test_the_body_that_admits_members_suspends_reinstates_and_removes_them(
    doc, allowed, refused, clause
):
    assert check_membership_decision(*rules_of(doc), by_body=allowed, act="suspended") == []
    violation = only(check_membership_decision(*rules_of(doc), by_body=refused, act="removed"))

    assert (violation.rule, violation.clause) == ("membership.route.decided_by", clause)
    assert "a member is removed by the" in violation.message


def test_the_body_that_reviews_conduct_may_also_suspend():
    rules = with_membership(FJA.rules, conduct_reviewed_by="full-membership")

    for body in ("steering-group", "full-membership"):
        assert check_membership_decision(rules, FJA.clauses, by_body=body, act="suspended") == []
    outsider = only(check_membership_decision(rules, FJA.clauses, by_body="chair", act="removed"))
    assert "Alliance: all member organisations or the Steering group" in outsider.message


def test_kinship_care_conduct_is_reviewed_by_the_executive_committee_it_names():
    assert check_conduct_review(*rules_of(KCA), by_body="executive-committee") == []
    violation = only(check_conduct_review(*rules_of(KCA), by_body="full-membership"))

    assert (violation.rule, violation.clause) == ("membership.conduct_reviewed_by", "4.3")
    assert "reviewed by the Executive committee" in violation.message


def test_where_the_tor_names_no_conduct_body_the_deciding_body_reviews():
    assert check_conduct_review(*rules_of(FJA), by_body="steering-group") == []
    violation = only(check_conduct_review(*rules_of(FJA), by_body="full-membership"))

    assert (violation.rule, violation.clause) == ("membership.route.decided_by", "2.1")


# --------------------------------------------------------------------------- committee seats


def seat(doc, body: str, **kw):
    facts = {
        "agreed_by": "full-membership",
        "seats_taken": 0,
        "required_seat": None,
        "required_seat_taken": False,
    } | kw
    return check_body_seat(*rules_of(doc), body=body, **facts)


def test_a_seat_within_the_rules_is_allowed():
    assert seat(KCA, "executive-committee", seats_taken=6) == []
    assert seat(FJA, "steering-group", required_seat="judiciary") == []
    # The steering group has no upper size: a seat beyond the required ones is allowed.
    assert seat(FJA, "steering-group", seats_taken=12) == []


@pytest.mark.parametrize(
    ("doc", "body", "clause", "how"),
    [
        (ACIC, "full-membership", "3", "by admission"),
        (ACIC, "working-groups", "7", "by joining a working group"),
        (KCA, "full-membership", "4", "by admission"),
    ],
)
def test_the_full_membership_and_working_groups_have_no_appointed_seats(doc, body, clause, how):
    violation = only(seat(doc, body))

    assert (violation.rule, violation.clause) == (f"bodies.{body}", clause)
    assert how in violation.message


def test_the_executive_committee_is_agreed_by_the_full_membership_and_has_seven_seats():
    wrong = only(seat(KCA, "executive-committee", agreed_by="executive-committee"))
    full = only(seat(KCA, "executive-committee", seats_taken=7))
    both = seat(KCA, "executive-committee", agreed_by="chair", seats_taken=7)

    assert (wrong.rule, wrong.clause) == ("bodies.executive-committee.members_agreed_by", "6")
    assert (full.rule, full.clause) == ("bodies.executive-committee.max_members", "6")
    assert "at most 7 members" in full.message
    assert cited(both) == [
        ("bodies.executive-committee.members_agreed_by", "6"),
        ("bodies.executive-committee.max_members", "6"),
    ]


def test_the_steering_group_has_six_required_seats_each_filled_once():
    unknown = only(seat(FJA, "steering-group", required_seat="treasurer"))
    taken = only(seat(FJA, "steering-group", required_seat="mediator", required_seat_taken=True))

    assert (unknown.rule, unknown.clause) == ("bodies.steering-group.required_seats", "3")
    assert "no required seat 'treasurer'" in unknown.message
    assert (taken.rule, taken.clause) == ("bodies.steering-group.required_seats", "3")
    assert "already filled" in taken.message
    assert len(FJA.rules.body("steering-group").required_seats) == 6


def test_a_seat_on_a_body_the_tor_does_not_have_is_refused():
    violation = only(seat(KCA, "board"))

    assert (violation.rule, violation.clause) == ("bodies", None)
    assert "'board'" in violation.message


# --------------------------------------------------------------------------- working groups


def test_the_working_group_body_is_found_where_the_tor_has_one():
    assert working_group_body(ACIC.rules) == "working-groups"
    assert working_group_body(KIN.rules) == "working-groups"
    assert working_group_body(FJA.rules) is None
    assert working_group_body(KCA.rules) is None


@pytest.mark.parametrize(
    ("doc", "clause"),
    [(FJA, "2"), (KCA, "4"), (SSF, "3")],
    ids=["family-justice", "kinship-care", "ssf"],
)
def test_tor_without_working_groups_refuses_them_under_bodies(doc, clause):
    violation = only(check_working_group_body(*rules_of(doc)))
    decision = only(
        check_working_group_decision(*rules_of(doc), by_body="full-membership", act="established")
    )

    # No clause carries the bare "bodies" rule: the one that sets out the bodies is cited.
    assert (violation.rule, violation.clause) == ("bodies", clause)
    assert "kind 'working-group'" in violation.message
    assert decision == violation


def test_tor_with_working_groups_accepts_them():
    assert check_working_group_body(*rules_of(ACIC)) == []
    assert check_working_group_body(*rules_of(KIN)) == []


@pytest.mark.parametrize(("doc", "clause"), [(ACIC, "7"), (KIN, "9")], ids=["acic", "network"])
def test_working_groups_are_established_and_dissolved_by_the_body_the_tor_names(doc, clause):
    assert (
        check_working_group_decision(*rules_of(doc), by_body="full-membership", act="established")
        == []
    )
    violation = only(
        check_working_group_decision(*rules_of(doc), by_body="co-chair", act="dissolved")
    )

    assert (violation.rule, violation.clause) == ("bodies.working-groups.established_by", clause)
    assert "working groups are dissolved by the" in violation.message


def test_where_no_establishing_body_is_named_the_full_membership_establishes():
    groups = KIN.rules.body("working-groups")
    silent = msgspec.structs.replace(groups, established_by=None)
    rules = msgspec.structs.replace(
        KIN.rules, bodies=tuple(silent if b.key == groups.key else b for b in KIN.rules.bodies)
    )

    assert (
        check_working_group_decision(
            rules, KIN.clauses, by_body="full-membership", act="established"
        )
        == []
    )
    refused = only(
        check_working_group_decision(rules, KIN.clauses, by_body="working-groups", act="x")
    )
    assert refused.rule == "bodies.working-groups.established_by"


# --------------------------------------------------------------------------- work plan


@pytest.mark.parametrize(
    ("doc", "agreer", "wrong", "clause"),
    [
        (KCA, "executive-committee", "full-membership", "6.4"),
        (KIN, "full-membership", "working-groups", "7"),
        (ACIC, "full-membership", "co-chair", None),  # silent: the full membership
        (FJA, "full-membership", "steering-group", None),  # silent: the full membership
    ],
    ids=["kinship-care", "network", "children-in-care", "family-justice"],
)
def test_the_work_plan_is_agreed_by_the_body_the_tor_names_else_the_full_membership(
    doc, agreer, wrong, clause
):
    assert check_work_plan_agreement(*rules_of(doc), by_body=agreer) == []
    violation = only(check_work_plan_agreement(*rules_of(doc), by_body=wrong))

    assert (violation.rule, violation.clause) == ("work_plan.agreed_by", clause)


def test_a_body_of_the_tor_exists_and_any_other_is_named_with_the_bodies_there_are():
    assert check_body_exists(*rules_of(FJA), body="steering-group", rule="item body") == []
    violation = only(check_body_exists(*rules_of(FJA), body="board", rule="item body"))

    assert (violation.rule, violation.clause) == ("bodies", "2")
    assert violation.message.startswith("item body: the ToR has no body 'board'")
    assert "full-membership, steering-group" in violation.message


# --------------------------------------------------------------------------- a change of office


def sponsor(**kw):
    facts = {
        "holders": (),
        "candidate": Holder(organisation="surrey county council"),
        "candidate_is_member": False,
        "via": "appointed",
    } | kw
    return check_appointment(*rules_of(KIN), office="sponsor", **facts)


def test_the_first_sponsor_needs_no_outside_approval():
    assert sponsor() == []
    assert sponsor(is_change=False, outside_approval_ref=None) == []


def test_a_change_of_sponsor_needs_a_reference_to_the_outside_approval():
    violation = only(sponsor(is_change=True))

    assert (violation.rule, violation.clause) == ("offices.sponsor.change_approved_by_outside", "3")
    assert "regional group of Directors of Children's Services" in violation.message
    assert sponsor(is_change=True, outside_approval_ref="DCS group minutes 2027-05") == []


def test_an_office_with_no_outside_approver_changes_without_one():
    change = check_appointment(
        *rules_of(KIN),
        office="chair",
        holders=(),
        candidate=Holder(organisation="member-b"),
        candidate_is_member=True,
        via="appointed",
        by_body="full-membership",
        is_change=True,
    )

    assert change == []


def test_a_change_into_a_full_sponsor_seat_gives_both_reasons():
    found = sponsor(holders=(Holder(organisation="kent county council"),), is_change=True)

    assert cited(found) == [
        ("offices.sponsor.seats", "3"),
        ("offices.sponsor.change_approved_by_outside", "3"),
    ]
