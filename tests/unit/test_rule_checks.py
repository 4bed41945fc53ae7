"""The rule checks the next features call: each returns the violations, citing the clause."""

from __future__ import annotations

import msgspec
import pytest

from domain.rule_checks import (
    Applicant,
    Holder,
    check_amendment_approval,
    check_application,
    check_appointment,
    check_candidacy_statement,
    check_decision,
    check_meeting,
    check_representatives,
    validate_rules,
)
from domain.rules import Seat
from domain.templates import template

ACIC = template("children-in-care")
KCA = template("kinship-care")
FJA = template("family-justice")
KIN = template("kinship-network")


def rules_of(doc):
    return doc.rules, doc.clauses


def only(violations):
    assert len(violations) == 1, violations
    return violations[0]


def test_an_eligible_ngo_may_apply_to_the_children_in_care_alliance():
    applicant = Applicant(name="Care Leavers Together", organisation_kind="charity")

    assert check_application(*rules_of(ACIC), applicant) == []


def test_a_government_body_cannot_be_a_member_but_may_be_an_observer():
    council = Applicant(name="A County Council", governmental=True)

    refused = only(check_application(*rules_of(ACIC), council))
    observer = check_application(
        *rules_of(ACIC), msgspec.structs.replace(council, status="observer")
    )

    assert refused.rule == "membership.eligibility.non_governmental_only"
    assert refused.clause is not None and f"clause {refused.clause}" in refused.message
    assert observer == []


def test_kinship_care_wants_a_legal_entity_and_a_chief_executive_signature():
    applicant = Applicant(name="Kin Group", legal_entity=False, signatory_role="volunteer")

    rules = {v.rule for v in check_application(*rules_of(KCA), applicant)}

    assert rules == {
        "membership.eligibility.legal_entity_required",
        "membership.route.signatory_roles",
    }
    ok = Applicant(name="Kin Group", legal_entity=True, signatory_role="Chief Executive")
    assert check_application(*rules_of(KCA), ok) == []


def test_individuals_join_kinship_care_only_in_an_advisory_capacity():
    expert = Applicant(capacity="individual", name="An Expert", status="advisory")

    assert check_application(*rules_of(KCA), expert) == []
    as_member = only(
        check_application(*rules_of(KCA), msgspec.structs.replace(expert, status="member"))
    )
    assert as_member.rule == "membership.eligibility.individuals_advisory"
    assert check_application(*rules_of(ACIC), expert)  # no individuals at all there


def test_the_kinship_network_is_open_only_to_its_listed_authorities():
    listed = KIN.rules.membership.eligibility.eligible_bodies[0]
    kinds = KIN.rules.membership.eligibility.organisation_kinds
    member = Applicant(
        name=listed,
        organisation_kind=kinds[0],
        governmental=True,
        region=KIN.rules.membership.eligibility.region,
    )

    assert check_application(*rules_of(KIN), member) == []
    outsider = msgspec.structs.replace(member, name="A Northern Borough")
    assert only(check_application(*rules_of(KIN), outsider)).rule == (
        "membership.eligibility.eligible_bodies"
    )


def test_family_justice_members_are_drawn_from_kent():
    assert check_application(*rules_of(FJA), Applicant(name="Mediation Kent", region="Kent")) == []
    elsewhere = check_application(*rules_of(FJA), Applicant(name="M", region="Cumbria"))
    assert only(elsewhere).rule == "membership.eligibility.region"


def test_at_most_two_representatives_and_exactly_one_principal_contact():
    assert check_representatives(*rules_of(ACIC), representatives=2, principal_contacts=1) == []
    too_many = only(check_representatives(*rules_of(ACIC), representatives=3, principal_contacts=1))
    assert too_many.rule == "membership.max_representatives" and "at most 2" in too_many.message
    no_principal = only(
        check_representatives(*rules_of(ACIC), representatives=1, principal_contacts=0)
    )
    assert no_principal.rule == "membership.principal_contact_required"


def test_co_chairs_must_come_from_different_organisations():
    sitting = (Holder(organisation="org-a"),)

    same = check_appointment(
        *rules_of(ACIC),
        office="co-chair",
        holders=sitting,
        candidate=Holder(organisation="org-a"),
        candidate_is_member=True,
        via="elected",
    )
    other = check_appointment(
        *rules_of(ACIC),
        office="co-chair",
        holders=sitting,
        candidate=Holder(organisation="org-b"),
        candidate_is_member=True,
        via="elected",
    )

    assert only(same).rule == "offices.co-chair.distinct_organisations"
    assert other == []


def test_an_elected_office_is_not_appointed_and_its_seats_can_fill_up():
    full = (Holder(organisation="a"), Holder(organisation="b"))

    violations = check_appointment(
        *rules_of(ACIC),
        office="co-chair",
        holders=full,
        candidate=Holder(organisation="c"),
        candidate_is_member=False,
        via="appointed",
    )

    assert {v.rule for v in violations} == {
        "offices.co-chair.selection",
        "offices.co-chair.seats",
        "offices.co-chair.from_membership",
    }


def test_an_unknown_office_is_named():
    violation = only(
        check_appointment(
            *rules_of(ACIC),
            office="treasurer",
            holders=(),
            candidate=Holder(organisation="a"),
            candidate_is_member=True,
            via="elected",
        )
    )
    assert "treasurer" in violation.message


def test_candidacy_statements_keep_to_the_word_limit():
    limit = ACIC.rules.office("co-chair").election.statement_word_limit

    assert (
        check_candidacy_statement(*rules_of(ACIC), office="co-chair", statement="word " * limit)
        == []
    )
    long = only(
        check_candidacy_statement(
            *rules_of(ACIC), office="co-chair", statement="word " * (limit + 1)
        )
    )
    assert f"at most {limit} words" in long.message


def test_decisions_of_the_children_in_care_alliance_are_taken_at_main_meetings_only():
    assert check_decision(*rules_of(ACIC), body="full-membership", at_main_meeting=True) == []
    outside = only(check_decision(*rules_of(ACIC), body="full-membership", at_main_meeting=False))
    assert outside.rule.endswith("main_meetings_only")


def test_meetings_take_the_formats_the_tor_allows():
    assert check_meeting(*rules_of(FJA), body="full-membership", format="virtual") == []
    assert check_meeting(*rules_of(FJA), body="full-membership", format="in-person") == []
    assert check_meeting(*rules_of(FJA), body="the-pub", format="virtual")


def test_only_the_named_body_approves_amendments():
    required = ACIC.rules.review.amendments_approved_by

    assert check_amendment_approval(*rules_of(ACIC), body=required) == []
    assert only(check_amendment_approval(*rules_of(ACIC), body="working-groups")).clause


@pytest.mark.parametrize("doc", [ACIC, KCA, FJA, KIN, template("separated-families")])
def test_every_template_holds_together(doc):
    assert validate_rules(doc.rules, doc.clauses) == []


def test_a_committee_smaller_than_its_required_seats_is_a_contradiction():
    executive = KCA.rules.body("executive-committee")
    crowded = msgspec.structs.replace(
        executive, required_seats=tuple(Seat(key=f"s{n}", name=f"S{n}") for n in range(8))
    )
    rules = msgspec.structs.replace(
        KCA.rules, bodies=tuple(crowded if b.key == executive.key else b for b in KCA.rules.bodies)
    )

    violation = only(validate_rules(rules, KCA.clauses))

    assert violation.rule == "bodies.executive-committee.max_members"
    assert violation.clause is not None


def test_references_to_missing_bodies_and_offices_are_contradictions():
    decision = ACIC.rules.decision_rule("full-membership")
    broken = msgspec.structs.replace(
        decision, casting_vote_office="president", escalate_to="senate"
    )
    rules = msgspec.structs.replace(
        ACIC.rules,
        decisions=tuple(broken if d.key == decision.key else d for d in ACIC.rules.decisions),
    )

    found = {v.rule for v in validate_rules(rules, ACIC.clauses)}

    assert "decisions.full-membership.casting_vote_office" in found
    assert "decisions.full-membership.escalate_to" in found


def test_a_main_meetings_only_rule_binds_its_own_body_and_no_other():
    working_group = check_decision(*rules_of(ACIC), body="working-groups", at_main_meeting=False)

    assert working_group == []
