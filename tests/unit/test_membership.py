"""Membership: applications on the ToR's route, the members they admit, and representatives.

Given an aggregate built by earlier commands (its events already collected), when one
command runs, then only its new events are pending, or it is refused with the clause of
the template that carries the rule, and nothing at all is pending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from eventsourcing.application import Application

from domain.errors import ApplicationClosed, MemberStateConflict, RulesBroken
from domain.membership import (
    ACTIVE,
    ADMITTED,
    CIRCULATED,
    RECOMMENDED,
    REJECTED,
    REMOVED,
    RESIGNED,
    SUBMITTED,
    SUSPENDED,
    WITHDRAWN,
    Member,
    MembershipApplication,
    Representative,
)
from domain.rule_checks import Applicant
from domain.terms import Version
from tests.unit.tor import ACIC, FJA, KCA, KIN, SSF, refusal, terms_of

NGO = Applicant(name="Care Leavers Together", organisation_kind="charity")
COUNCIL = Applicant(name="A County Council", organisation_kind="local authority", governmental=True)
KINSHIP_CHARITY = Applicant(name="Kinship Families", signatory_role="Chief Executive")
EXPERT = Applicant(capacity="individual", name="Dr Ada Expert", status="advisory")
KENT_MEDIATION = Applicant(name="Mediation Kent", region="Kent")
KENT_COUNCIL = Applicant(
    name="Kent County Council",
    organisation_kind="local authority",
    governmental=True,
    region="South East",
)
LEICESTER_MEDIATION = Applicant(name="Leicester Family Mediation", region="Leicester")


def submit(terms: Version, applicant: Applicant, *, email: str | None = None):
    return MembershipApplication.submit(
        terms=terms,
        applicant=applicant,
        request_text="We wish to join the alliance and share its aims.",
        signatory_name="Sam Signatory",
        email=email,
        submitted_by="key:officer",
    )


def given_submitted(terms: Version, applicant: Applicant) -> MembershipApplication:
    application = submit(terms, applicant)
    application.collect_events()
    return application


def recommend(application: MembershipApplication, terms: Version, by_office: str = "co-chair"):
    application.recommend(
        by_office=by_office, recommendation="admit", note="fits", by="key:cochair", terms=terms
    )


def circulate(application: MembershipApplication, terms: Version, to_body: str):
    application.circulate(to_body=to_body, by="key:officer", terms=terms)


def decide(
    application: MembershipApplication,
    terms: Version,
    by_body: str,
    *,
    outcome: str = "admit",
    standing: str | None = None,
) -> Member | None:
    return application.decide(
        by_body=by_body,
        outcome=outcome,  # type: ignore[arg-type]
        standing=standing,  # type: ignore[arg-type]
        reason="meets the criteria",
        decision_ref="minutes 2026-11 item 3",
        by="key:officer",
        terms=terms,
    )


# The route of each template, as (step, by) pairs taken before the decision.
ROUTE_BEFORE_DECISION: dict[str, tuple[Version, tuple[tuple[str, str], ...], str]] = {
    "children-in-care": (ACIC, (("recommend", "co-chair"),), "full-membership"),
    "kinship-care": (KCA, (("circulate", "executive-committee"),), "executive-committee"),
    "family-justice": (FJA, (), "steering-group"),
    "kinship-network": (KIN, (), "full-membership"),
    "separated-families": (SSF, (), "full-membership"),
}
APPLICANT_OF = {
    "children-in-care": NGO,
    "kinship-care": KINSHIP_CHARITY,
    "family-justice": KENT_MEDIATION,
    "kinship-network": KENT_COUNCIL,
    "separated-families": LEICESTER_MEDIATION,
}


def take_route(application: MembershipApplication, terms: Version, steps) -> None:
    for step, by in steps:
        if step == "recommend":
            recommend(application, terms, by)
        else:
            circulate(application, terms, by)


def admitted_member(name: str = "kinship-care") -> Member:
    """A member admitted under the named template, its events already collected."""
    terms, steps, decider = ROUTE_BEFORE_DECISION[name]
    application = submit(terms, APPLICANT_OF[name])
    take_route(application, terms, steps)
    member = decide(application, terms, decider)
    assert member is not None
    member.collect_events()
    return member


# --------------------------------------------------------------------------- submission


def test_an_eligible_organisation_submits_and_the_event_keeps_the_facts_the_rules_check():
    application = submit(ACIC, NGO)

    events = application.collect_events()

    assert [type(e) for e in events] == [MembershipApplication.Submitted]
    submitted = events[0]
    assert submitted.applicant["name"] == "Care Leavers Together"
    assert submitted.applicant["status"] == "member"
    assert submitted.person == {"signatory_name": "Sam Signatory"}
    assert submitted.submitted_by == "key:officer"
    assert submitted.under_version == 1
    assert application.stage == SUBMITTED


@pytest.mark.parametrize("region", ["Cumbria", None])
def test_family_justice_refuses_an_organisation_from_outside_kent(region):
    with pytest.raises(RulesBroken) as raised:
        submit(FJA, msgspec.structs.replace(KENT_MEDIATION, region=region))

    assert refusal(raised) == ("membership.eligibility.region", "2")


def test_family_justice_takes_an_organisation_based_anywhere_in_kent():
    application = submit(FJA, msgspec.structs.replace(KENT_MEDIATION, region="West Kent"))

    assert application.applicant["region"] == "West Kent"


def test_the_kinship_network_refuses_an_unlisted_organisation_of_another_kind():
    charity = Applicant(
        name="South East Kinship Charity", organisation_kind="charity", region="South East"
    )

    with pytest.raises(RulesBroken) as raised:
        submit(KIN, charity)

    assert [(v.rule, v.clause) for v in raised.value.violations] == [
        ("membership.eligibility.organisation_kinds", "6"),
        ("membership.eligibility.eligible_bodies", "6"),
    ]


def test_the_kinship_network_takes_a_listed_authority_of_an_eligible_kind():
    trust = Applicant(
        name="Slough (Slough Children First)",
        organisation_kind="Children's Trust",
        governmental=True,
        region="South East",
    )

    application = submit(KIN, trust)

    assert application.applicant["organisation_kind"] == "Children's Trust"


def test_children_in_care_refuses_a_government_body_as_member_but_takes_it_as_observer():
    with pytest.raises(RulesBroken) as raised:
        submit(ACIC, COUNCIL)
    observer = submit(ACIC, msgspec.structs.replace(COUNCIL, status="observer"))

    assert refusal(raised) == ("membership.eligibility.non_governmental_only", "3")
    assert observer.applicant["status"] == "observer"


def test_children_in_care_has_no_advisory_organisations():
    with pytest.raises(RulesBroken) as raised:
        submit(ACIC, msgspec.structs.replace(NGO, status="advisory"))

    assert refusal(raised) == ("membership.eligibility.individuals_advisory", "3")


def test_kinship_care_takes_individuals_only_in_an_advisory_capacity():
    with pytest.raises(RulesBroken) as raised:
        submit(KCA, msgspec.structs.replace(EXPERT, status="member"))
    application = submit(KCA, EXPERT, email="ada@example.org")

    assert refusal(raised) == ("membership.eligibility.individuals_advisory", "4.1")
    # The individual's name is personal data: only in the event's `person`.
    submitted = application.collect_events()[0]
    assert submitted.applicant["name"] is None
    assert submitted.person == {
        "signatory_name": "Sam Signatory",
        "name": "Dr Ada Expert",
        "email": "ada@example.org",
    }


def test_family_justice_takes_no_individuals_at_all():
    with pytest.raises(RulesBroken) as raised:
        submit(FJA, EXPERT)

    assert refusal(raised) == ("membership.eligibility.individuals_advisory", "2")


def test_kinship_care_members_are_legal_entities_asking_through_their_chief_executive():
    unincorporated = msgspec.structs.replace(
        KINSHIP_CHARITY, legal_entity=False, signatory_role="volunteer"
    )

    with pytest.raises(RulesBroken) as raised:
        submit(KCA, unincorporated)

    assert refusal(raised) == ("membership.eligibility.legal_entity_required", "4")
    assert [(v.rule, v.clause) for v in raised.value.violations[1:]] == [
        ("membership.route.signatory_roles", "4.2")
    ]


# --------------------------------------------------------------------------- the route


def test_children_in_care_co_chairs_recommend_then_the_full_membership_admits():
    application = given_submitted(ACIC, NGO)

    recommend(application, ACIC)
    recommended = application.collect_events()
    member = decide(application, ACIC, "full-membership")
    decided = application.collect_events()

    assert [type(e) for e in recommended] == [MembershipApplication.Recommended]
    assert recommended[0].by_office == "co-chair"
    assert recommended[0].recommendation == "admit"
    assert [type(e) for e in decided] == [MembershipApplication.Decided]
    assert decided[0].by_body == "full-membership"
    assert decided[0].outcome == ADMITTED
    assert decided[0].standing == "member"
    assert decided[0].under_version == 1
    assert application.stage == ADMITTED
    assert member is not None
    assert decided[0].member_id == str(member.id)
    assert member.id == Member.create_id(str(application.id))
    admitted = member.collect_events()
    assert [type(e) for e in admitted] == [Member.Admitted]
    assert admitted[0].name == "Care Leavers Together"
    assert admitted[0].standing == "member"
    assert admitted[0].by_body == "full-membership"
    assert admitted[0].application_id == str(application.id)
    assert member.votes is True


def test_kinship_care_applications_are_circulated_to_the_executive_committee_which_decides():
    application = given_submitted(KCA, KINSHIP_CHARITY)

    circulate(application, KCA, "executive-committee")
    circulated = application.collect_events()
    member = decide(application, KCA, "executive-committee")

    assert [type(e) for e in circulated] == [MembershipApplication.Circulated]
    assert circulated[0].to_body == "executive-committee"
    assert member is not None and member.standing == "member"
    assert application.stage == ADMITTED


def test_family_justice_steering_group_decides_with_no_step_before():
    application = given_submitted(FJA, KENT_MEDIATION)

    member = decide(application, FJA, "steering-group")

    decided = application.collect_events()
    assert [type(e) for e in decided] == [MembershipApplication.Decided]
    assert decided[0].by_body == "steering-group"
    assert member is not None and member.name == "Mediation Kent"


TERMS_OF = {name: terms for name, (terms, _, _) in ROUTE_BEFORE_DECISION.items()}
EXECUTIVE = "executive-committee"
CO_CHAIRS_REC = (("recommend", "co-chair"),)
EXEC_CIRC = (("circulate", EXECUTIVE),)


@pytest.mark.parametrize(
    ("name", "before", "step", "by", "rule", "clause"),
    [
        ("children-in-care", (), "circulate", "full-membership", "circulated_to", "3.1"),
        ("children-in-care", (), "decide", "full-membership", "recommended_by", "3.1"),
        ("children-in-care", (), "recommend", "full-membership", "recommended_by", "3.1"),
        ("children-in-care", CO_CHAIRS_REC, "decide", "co-chair", "decided_by", "3.1"),
        ("children-in-care", CO_CHAIRS_REC, "recommend", "co-chair", "recommended_by", "3.1"),
        ("kinship-care", (), "circulate", "full-membership", "circulated_to", "4.2"),
        ("kinship-care", (), "decide", EXECUTIVE, "circulated_to", "4.2"),
        ("kinship-care", EXEC_CIRC, "decide", "full-membership", "decided_by", "4.2"),
        ("kinship-care", EXEC_CIRC, "circulate", EXECUTIVE, "circulated_to", "4.2"),
        ("kinship-care", EXEC_CIRC, "recommend", EXECUTIVE, "recommended_by", "4.2"),
        ("family-justice", (), "decide", "full-membership", "decided_by", "2.1"),
        ("kinship-network", (), "decide", "working-groups", "decided_by", "6.1"),
    ],
    ids=[
        "children-in-care-does-not-circulate",
        "children-in-care-decided-before-the-recommendation",
        "children-in-care-recommended-by-the-wrong-body",
        "children-in-care-decided-by-the-co-chairs",
        "children-in-care-recommended-twice",
        "kinship-care-circulated-to-the-full-membership",
        "kinship-care-decided-before-circulation",
        "kinship-care-decided-by-the-full-membership",
        "kinship-care-circulated-twice",
        "kinship-care-has-no-recommendation",
        "family-justice-decided-by-the-full-membership",
        "kinship-network-decided-by-a-working-group",
    ],
)
def test_a_step_out_of_order_or_by_the_wrong_office_or_body_is_refused(
    name, before, step, by, rule, clause
):
    terms = TERMS_OF[name]
    application = submit(terms, APPLICANT_OF[name])
    take_route(application, terms, before)
    application.collect_events()
    stage = application.stage

    with pytest.raises(RulesBroken) as raised:
        if step == "decide":
            decide(application, terms, by)
        else:
            take_route(application, terms, ((step, by),))

    assert refusal(raised) == (f"membership.route.{rule}", clause)
    assert application.collect_events() == []
    assert application.stage == stage


def test_the_co_chairs_may_recommend_a_rejection_and_the_membership_rejects():
    application = given_submitted(ACIC, NGO)
    application.recommend(
        by_office="co-chair", recommendation="reject", note="no", by="k", terms=ACIC
    )
    application.collect_events()

    member = decide(application, ACIC, "full-membership", outcome="reject")

    assert member is None
    decided = application.collect_events()
    assert [type(e) for e in decided] == [MembershipApplication.Decided]
    assert decided[0].outcome == REJECTED
    assert decided[0].standing is None
    assert decided[0].member_id is None
    assert application.stage == REJECTED and application.member_id is None


# --------------------------------------------------------------------------- observers


def test_children_in_care_observers_are_approved_by_the_full_membership_not_the_co_chairs():
    application = given_submitted(ACIC, msgspec.structs.replace(COUNCIL, status="observer"))
    recommend(application, ACIC)
    application.collect_events()

    with pytest.raises(RulesBroken) as raised:
        decide(application, ACIC, "co-chair")
    refused = application.collect_events()
    observer = decide(application, ACIC, "full-membership")

    assert refusal(raised) == ("membership.eligibility.observers_approved_by", "3.4")
    assert refused == []
    assert observer is not None
    assert observer.standing == "observer"
    assert observer.votes is False
    assert application.collect_events()[0].standing == "observer"


def fja_with_observers() -> Version:
    """Family justice, amended so that the full membership approves observers (the
    steering group still decides on members)."""
    rules = FJA.rules
    eligibility = msgspec.structs.replace(
        rules.membership.eligibility, observers=True, observers_approved_by="full-membership"
    )
    membership = msgspec.structs.replace(rules.membership, eligibility=eligibility)
    return terms_of("family-justice", msgspec.structs.replace(rules, membership=membership))


def test_observers_are_approved_by_the_body_the_tor_names_even_when_another_admits_members():
    terms = fja_with_observers()
    application = given_submitted(terms, msgspec.structs.replace(KENT_MEDIATION, status="observer"))

    with pytest.raises(RulesBroken) as raised:
        decide(application, terms, "steering-group")
    refused = application.collect_events()
    observer = decide(application, terms, "full-membership")

    assert refusal(raised) == ("membership.eligibility.observers_approved_by", "2")
    assert refused == []
    assert observer is not None and observer.standing == "observer"


def test_granting_observer_standing_to_a_member_applicant_is_for_the_observer_body():
    terms = fja_with_observers()
    application = given_submitted(terms, KENT_MEDIATION)

    with pytest.raises(RulesBroken) as raised:
        decide(application, terms, "steering-group", standing="observer")

    assert refusal(raised) == ("membership.eligibility.observers_approved_by", "2")
    assert application.collect_events() == []


def test_the_body_that_approves_observers_also_turns_an_observer_application_down():
    terms = fja_with_observers()
    application = given_submitted(terms, msgspec.structs.replace(KENT_MEDIATION, status="observer"))

    decide(application, terms, "full-membership", outcome="reject")

    assert application.stage == REJECTED


def test_admission_rechecks_eligibility_for_the_standing_granted():
    application = given_submitted(ACIC, msgspec.structs.replace(COUNCIL, status="observer"))
    recommend(application, ACIC)
    application.collect_events()

    with pytest.raises(RulesBroken) as raised:
        decide(application, ACIC, "full-membership", standing="member")

    assert refusal(raised) == ("membership.eligibility.non_governmental_only", "3")
    assert application.collect_events() == []
    assert application.stage == RECOMMENDED and application.member_id is None


def test_an_individual_is_admitted_as_an_advisory_member_without_a_vote():
    application = given_submitted(KCA, EXPERT)
    circulate(application, KCA, "executive-committee")

    member = decide(application, KCA, "executive-committee")

    assert member is not None
    admitted = member.collect_events()[0]
    assert admitted.capacity == "individual"
    assert admitted.name is None  # the name is personal data, kept in `person` only
    assert admitted.person == {"name": "Dr Ada Expert"}
    assert member.standing == "advisory"
    assert member.votes is False


# --------------------------------------------------------------------------- a closed application


def closed(how: str) -> MembershipApplication:
    application = submit(FJA, KENT_MEDIATION)
    if how == "withdrawn":
        application.withdraw(reason="merged with another member", by="key:applicant")
    else:
        decide(application, FJA, "steering-group", outcome=how)
    application.collect_events()
    return application


@pytest.mark.parametrize("how", ["admit", "reject", "withdrawn"])
def test_a_closed_application_takes_no_further_decision(how):
    application = closed(how)
    stage = application.stage

    with pytest.raises(ApplicationClosed):
        decide(application, FJA, "steering-group")

    assert application.collect_events() == []
    assert application.stage == stage


@pytest.mark.parametrize("how", ["admit", "reject", "withdrawn"])
def test_a_closed_application_cannot_be_withdrawn(how):
    application = closed(how)

    with pytest.raises(ApplicationClosed):
        application.withdraw(reason="changed our mind", by="key:applicant")

    assert application.collect_events() == []


def test_a_closed_application_is_not_circulated_or_recommended():
    application = submit(KCA, KINSHIP_CHARITY)
    application.withdraw(reason="not now", by="key:applicant")
    application.collect_events()

    with pytest.raises(ApplicationClosed):
        circulate(application, KCA, "executive-committee")

    assert application.collect_events() == []


def test_an_applicant_withdraws_before_the_decision():
    application = given_submitted(KCA, KINSHIP_CHARITY)
    circulate(application, KCA, "executive-committee")
    application.collect_events()

    application.withdraw(reason="merged with another member", by="key:applicant")

    events = application.collect_events()
    assert [type(e) for e in events] == [MembershipApplication.Withdrawn]
    assert events[0].reason == "merged with another member"
    assert application.stage == WITHDRAWN


# --------------------------------------------------------------------------- a member's status


def suspend(member: Member, terms: Version, by_body: str) -> None:
    member.suspend(
        reason="unpaid subscription", by_body=by_body, decision_ref="d1", by="k", terms=terms
    )


def test_the_deciding_body_suspends_and_reinstates_a_member():
    member = admitted_member("kinship-care")

    suspend(member, KCA, "executive-committee")
    suspended = member.collect_events()
    member.reinstate(by_body="executive-committee", decision_ref="d2", by="k", terms=KCA)
    reinstated = member.collect_events()

    assert [type(e) for e in suspended] == [Member.Suspended]
    assert suspended[0].by_body == "executive-committee"
    assert suspended[0].reason == "unpaid subscription"
    assert suspended[0].under_version == 1
    assert [type(e) for e in reinstated] == [Member.Reinstated]
    assert member.status == ACTIVE and member.votes is True


def test_a_suspended_member_has_no_vote_and_may_resign():
    member = admitted_member("family-justice")
    suspend(member, FJA, "steering-group")
    member.collect_events()

    assert member.votes is False
    member.resign(reason="closing down", by="key:member")

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.Resigned]
    assert member.status == RESIGNED


def test_a_suspended_member_may_be_removed():
    member = admitted_member("children-in-care")
    suspend(member, ACIC, "full-membership")
    member.collect_events()

    member.remove(
        reason="breach of values", by_body="full-membership", decision_ref="d", by="k", terms=ACIC
    )

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.Removed]
    assert events[0].by_body == "full-membership"
    assert member.status == REMOVED


def _suspend(m: Member) -> None:
    suspend(m, KCA, "executive-committee")


def _reinstate(m: Member) -> None:
    m.reinstate(by_body="executive-committee", decision_ref="d", by="k", terms=KCA)


def _resign(m: Member) -> None:
    m.resign(reason="r", by="k")


def _remove(m: Member) -> None:
    m.remove(reason="r", by_body="executive-committee", decision_ref="d", by="k", terms=KCA)


def _review(m: Member) -> None:
    m.review_conduct(
        by_body="executive-committee",
        outcome="satisfactory",
        notes="n",
        decision_ref="d",
        by="k",
        terms=KCA,
    )


def _add_representative(m: Member) -> None:
    m.add_representative(
        role="policy lead", name="P", email="p@example.org", principal=None, by="k", terms=KCA
    )


@pytest.mark.parametrize(
    ("given", "when", "status"),
    [
        ((), _reinstate, ACTIVE),
        ((_suspend,), _suspend, SUSPENDED),
        ((_resign,), _resign, RESIGNED),
        ((_resign,), _suspend, RESIGNED),
        ((_resign,), _reinstate, RESIGNED),
        ((_remove,), _remove, REMOVED),
        ((_remove,), _resign, REMOVED),
        ((_remove,), _review, REMOVED),
        ((_resign,), _add_representative, RESIGNED),
    ],
    ids=[
        "reinstate-active",
        "suspend-suspended",
        "resign-resigned",
        "suspend-resigned",
        "reinstate-resigned",
        "remove-removed",
        "resign-removed",
        "review-removed",
        "represent-resigned",
    ],
)
def test_a_member_s_status_allows_only_the_acts_that_fit_it(
    given: tuple[Callable[[Member], Any], ...], when: Callable[[Member], Any], status: str
):
    member = admitted_member("kinship-care")
    for act in given:
        act(member)
    member.collect_events()

    with pytest.raises(MemberStateConflict):
        when(member)

    assert member.collect_events() == []
    assert member.status == status


@pytest.mark.parametrize(
    ("name", "terms", "wrong_body", "clause"),
    [
        ("children-in-care", ACIC, "co-chair", "3.1"),
        ("kinship-care", KCA, "full-membership", "4.2"),
        ("family-justice", FJA, "full-membership", "2.1"),
    ],
)
@pytest.mark.parametrize("act", ["suspend", "remove"])
def test_only_the_body_that_admits_members_suspends_or_removes_them(
    name, terms, wrong_body, clause, act
):
    member = admitted_member(name)

    with pytest.raises(RulesBroken) as raised:
        getattr(member, act)(reason="r", by_body=wrong_body, decision_ref="d", by="k", terms=terms)

    assert refusal(raised) == ("membership.route.decided_by", clause)
    assert member.collect_events() == []
    assert member.status == ACTIVE


def test_only_the_deciding_body_reinstates():
    member = admitted_member("family-justice")
    suspend(member, FJA, "steering-group")
    member.collect_events()

    with pytest.raises(RulesBroken) as raised:
        member.reinstate(by_body="full-membership", decision_ref="d", by="k", terms=FJA)

    assert refusal(raised) == ("membership.route.decided_by", "2.1")
    assert member.collect_events() == []
    assert member.status == SUSPENDED


def test_kinship_care_conduct_is_reviewed_by_the_executive_committee():
    member = admitted_member("kinship-care")

    review_id = member.review_conduct(
        by_body="executive-committee",
        outcome="concerns-raised",
        notes="late reports",
        decision_ref="exec 2026-11 item 2",
        by="key:officer",
        terms=KCA,
    )

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.ConductReviewed]
    assert events[0].review_id == review_id
    assert events[0].outcome == "concerns-raised"
    assert events[0].by_body == "executive-committee"


@pytest.mark.parametrize(
    ("name", "terms", "wrong_body", "rule", "clause"),
    [
        ("kinship-care", KCA, "full-membership", "membership.conduct_reviewed_by", "4.3"),
        # The ToR is silent: the body that admits members reviews conduct.
        ("children-in-care", ACIC, "co-chair", "membership.route.decided_by", "3.1"),
    ],
)
def test_conduct_is_reviewed_only_by_the_body_the_tor_names(name, terms, wrong_body, rule, clause):
    member = admitted_member(name)

    with pytest.raises(RulesBroken) as raised:
        member.review_conduct(
            by_body=wrong_body,
            outcome="breach-found",
            notes="n",
            decision_ref="d",
            by="k",
            terms=terms,
        )

    assert refusal(raised) == (rule, clause)
    assert member.collect_events() == []


# --------------------------------------------------------------------------- representatives


def add(member: Member, terms: Version, role: str, principal: bool | None = None) -> str:
    return member.add_representative(
        role=role,
        name=f"{role.title()} Person",
        email=f"{role.replace(' ', '.')}@example.org",
        principal=principal,
        by="key:officer",
        terms=terms,
    )


def principals(member: Member) -> list[str]:
    return [key for key, r in member.representatives.items() if r.principal]


def test_the_first_representative_becomes_the_principal_contact():
    member = admitted_member("kinship-care")

    first = add(member, KCA, "chief executive")

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.RepresentativeAdded]
    assert events[0].representative_id == first
    assert events[0].principal is True
    assert events[0].person == {
        "name": "Chief Executive Person",
        "email": "chief.executive@example.org",
    }
    assert member.representatives == {first: Representative("chief executive", True)}


def test_a_second_representative_is_not_the_principal_unless_named_so():
    member = admitted_member("kinship-care")
    first = add(member, KCA, "chief executive")
    member.collect_events()

    second = add(member, KCA, "policy lead")

    assert member.collect_events()[0].principal is False
    assert principals(member) == [first]
    assert member.representatives[second] == Representative("policy lead", False)


def test_a_new_principal_contact_takes_over_from_the_old_one():
    member = admitted_member("kinship-care")
    first = add(member, KCA, "chief executive")
    member.collect_events()

    second = add(member, KCA, "policy lead", principal=True)

    assert member.collect_events()[0].principal is True
    assert principals(member) == [second]
    assert member.representatives[first].principal is False


@pytest.mark.parametrize(
    ("name", "terms", "clause"),
    [
        ("children-in-care", ACIC, "3.2"),
        ("kinship-care", KCA, "4.4"),
        ("family-justice", FJA, "2.2"),
        ("kinship-network", KIN, "6.2"),
        ("separated-families", SSF, "3.3"),
    ],
)
def test_a_member_has_at_most_two_representatives(name, terms, clause):
    assert terms.rules.membership.max_representatives == 2
    member = admitted_member(name)
    add(member, terms, "chief executive")
    add(member, terms, "policy lead")
    member.collect_events()
    before = dict(member.representatives)

    with pytest.raises(RulesBroken) as raised:
        add(member, terms, "volunteer")

    assert refusal(raised) == ("membership.max_representatives", clause)
    assert member.collect_events() == []
    assert member.representatives == before


def test_the_first_representative_cannot_decline_to_be_principal_contact():
    member = admitted_member("children-in-care")

    with pytest.raises(RulesBroken) as raised:
        add(member, ACIC, "policy lead", principal=False)

    assert refusal(raised) == ("membership.principal_contact_required", "3.2")
    assert member.collect_events() == []
    assert member.representatives == {}


def member_with_two(terms: Version = ACIC, name: str = "children-in-care"):
    member = admitted_member(name)
    principal = add(member, terms, "chief executive")
    other = add(member, terms, "policy lead")
    member.collect_events()
    return member, principal, other


def test_removing_the_principal_while_others_remain_names_who_takes_over():
    member, principal, _ = member_with_two()

    with pytest.raises(RulesBroken) as raised:
        member.remove_representative(principal, new_principal_id=None, by="k", terms=ACIC)

    assert refusal(raised) == ("membership.principal_contact_required", "3.2")
    assert member.collect_events() == []
    assert principals(member) == [principal]


def test_the_named_representative_takes_over_as_principal_contact():
    member, principal, other = member_with_two()

    member.remove_representative(principal, new_principal_id=other, by="k", terms=ACIC)

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.RepresentativeRemoved]
    assert events[0].representative_id == principal
    assert events[0].new_principal_id == other
    assert member.representatives == {other: Representative("policy lead", True)}


def test_removing_another_representative_keeps_the_principal():
    member, principal, other = member_with_two()

    member.remove_representative(other, new_principal_id=None, by="k", terms=ACIC)

    assert [type(e) for e in member.collect_events()] == [Member.RepresentativeRemoved]
    assert member.representatives == {principal: Representative("chief executive", True)}


def test_the_last_representative_leaves_without_a_successor():
    member = admitted_member("family-justice")
    only = add(member, FJA, "chief executive")
    member.collect_events()

    member.remove_representative(only, new_principal_id=None, by="k", terms=FJA)

    assert [type(e) for e in member.collect_events()] == [Member.RepresentativeRemoved]
    assert member.representatives == {}


def test_a_replacement_keeps_the_principal_contact():
    member, principal, other = member_with_two()

    successor = member.replace_representative(
        principal,
        role="interim chief executive",
        name="New CEO",
        email="n@x.org",
        by="k",
        terms=ACIC,
    )

    events = member.collect_events()
    assert [type(e) for e in events] == [Member.RepresentativeReplaced]
    assert events[0].representative_id == principal
    assert events[0].successor_id == successor
    assert events[0].person == {"name": "New CEO", "email": "n@x.org"}
    assert member.representatives == {
        other: Representative("policy lead", False),
        successor: Representative("interim chief executive", True),
    }


def test_the_principal_contact_can_be_moved_to_another_representative():
    member, _, other = member_with_two()

    member.make_principal(other, by="k")
    moved = member.collect_events()
    member.make_principal(other, by="k")  # already principal: nothing to record

    assert [type(e) for e in moved] == [Member.PrincipalContactChanged]
    assert moved[0].representative_id == other
    assert member.collect_events() == []
    assert principals(member) == [other]


# --------------------------------------------------------------------------- replay


def test_replaying_an_application_and_its_member_rebuilds_the_same_state():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    application = submit(KCA, KINSHIP_CHARITY)
    circulate(application, KCA, "executive-committee")
    member = decide(application, KCA, "executive-committee")
    assert member is not None
    principal = add(member, KCA, "chief executive")
    other = add(member, KCA, "policy lead")
    successor = member.replace_representative(
        principal, role="chief executive", name="N", email="n@x.org", by="k", terms=KCA
    )
    member.make_principal(other, by="k")
    suspend(member, KCA, "executive-committee")
    member.review_conduct(
        by_body="executive-committee",
        outcome="satisfactory",
        notes="n",
        decision_ref="d",
        by="k",
        terms=KCA,
    )
    app.save(application, member)

    replayed_application = app.repository.get(application.id)
    replayed_member = app.repository.get(member.id)

    assert replayed_application.stage == ADMITTED
    assert replayed_application.steps == {"circulate"} == application.steps
    assert replayed_application.member_id == application.member_id == str(member.id)
    assert replayed_application.applicant == application.applicant
    assert replayed_application.version == application.version == 3
    assert replayed_member.status == SUSPENDED == member.status
    assert replayed_member.standing == member.standing == "member"
    assert replayed_member.name == member.name == "Kinship Families"
    assert replayed_member.representatives == member.representatives
    assert replayed_member.representatives == {
        other: Representative("policy lead", True),
        successor: Representative("chief executive", False),
    }
    assert replayed_member.version == member.version


def test_replaying_a_rejected_application_keeps_it_closed():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    application = submit(ACIC, NGO)
    recommend(application, ACIC)
    decide(application, ACIC, "full-membership", outcome="reject")
    app.save(application)

    replayed = app.repository.get(application.id)

    assert replayed.stage == REJECTED
    assert replayed.steps == {"recommend"}
    assert replayed.member_id is None
    with pytest.raises(ApplicationClosed):
        replayed.withdraw(reason="r", by="k")


def test_circulated_stage_is_recorded():
    application = given_submitted(KCA, KINSHIP_CHARITY)

    circulate(application, KCA, "executive-committee")

    assert application.stage == CIRCULATED
    assert application.steps == {"circulate"}
