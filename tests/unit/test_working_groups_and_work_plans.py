"""Working groups and the annual work plan: established, run and closed as the ToR says.

Given an aggregate built by earlier commands (their events collected), when one command
runs, then only its new events are pending, or it is refused (with the template's clause
where the rule is the ToR's) and nothing is pending.
"""

from __future__ import annotations

import msgspec
import pytest
from eventsourcing.application import Application

from domain.errors import RulesBroken, WorkingGroupStateConflict, WorkPlanStateConflict
from domain.terms import Version
from domain.work_plan import (
    AGREED,
    DELIVERED,
    DRAFT,
    EVALUATED,
    IN_PROGRESS,
    PLANNED,
    AnnualWorkPlan,
    Item,
)
from domain.working_groups import DISSOLVED, ESTABLISHED, PROPOSED, WorkingGroup
from tests.unit.tor import ACIC, FJA, KCA, KIN, SSF, refusal, terms_of

# --------------------------------------------------------------------------- working groups


def propose(terms: Version = ACIC) -> WorkingGroup:
    return WorkingGroup.propose(
        name="Leaving care legislation",
        purpose="watch how the new duties are implemented",
        by="key:member",
        terms=terms,
    )


def establish(group: WorkingGroup, terms: Version = ACIC, *, leads=("m-lead",), by_body=None):
    group.establish(
        own_terms="Meets monthly; reports to each main meeting.",
        leads=list(leads),
        by_body=by_body or "full-membership",
        decision_ref="main meeting 2026-11 item 6",
        by="key:officer",
        terms=terms,
    )


def given_proposed(terms: Version = ACIC) -> WorkingGroup:
    group = propose(terms)
    group.collect_events()
    return group


def given_established(terms: Version = ACIC, *, leads=("m-lead",), joined=()) -> WorkingGroup:
    group = propose(terms)
    establish(group, terms, leads=leads)
    for member_id in joined:
        group.join(member_id, by="key:member")
    group.collect_events()
    return group


@pytest.mark.parametrize("terms", [ACIC, KIN], ids=["children-in-care", "kinship-network"])
def test_a_working_group_is_proposed_where_the_tor_provides_them(terms):
    group = propose(terms)

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.Proposed]
    assert events[0].body == "working-groups"
    assert events[0].name == "Leaving care legislation"
    assert events[0].proposed_by == "key:member"
    assert events[0].under_version == 1
    assert group.stage == PROPOSED
    assert group.members == set()


@pytest.mark.parametrize(
    ("terms", "clause"), [(FJA, "2"), (SSF, "3")], ids=["family-justice", "separated-families"]
)
def test_no_working_group_where_the_tor_provides_none(terms, clause):
    with pytest.raises(RulesBroken) as raised:
        propose(terms)

    # No clause carries the bare "bodies" rule: the one that sets out the bodies is cited.
    assert refusal(raised) == ("bodies", clause)
    assert "working-group" in raised.value.message


def test_the_full_membership_establishes_a_group_with_its_own_terms_and_leads():
    group = given_proposed()

    establish(group, leads=("m-lead", "m-co-lead", "m-lead"))

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.Established]
    assert events[0].leads == ["m-lead", "m-co-lead"]  # a lead named twice counts once
    assert events[0].by_body == "full-membership"
    assert events[0].own_terms == "Meets monthly; reports to each main meeting."
    assert group.stage == ESTABLISHED
    assert group.leads == ["m-lead", "m-co-lead"]
    assert group.members == {"m-lead", "m-co-lead"}


@pytest.mark.parametrize(
    ("terms", "clause"), [(ACIC, "7"), (KIN, "9")], ids=["children-in-care", "kinship-network"]
)
def test_a_group_is_established_only_by_the_body_the_tor_names(terms, clause):
    group = given_proposed(terms)

    with pytest.raises(RulesBroken) as raised:
        establish(group, terms, by_body="working-groups")

    assert refusal(raised) == ("bodies.working-groups.established_by", clause)
    assert group.collect_events() == []
    assert group.stage == PROPOSED


def test_where_the_tor_names_no_establishing_body_the_full_membership_establishes():
    working_groups = KIN.rules.body("working-groups")
    assert working_groups is not None
    silent = msgspec.structs.replace(working_groups, established_by=None)
    rules = msgspec.structs.replace(
        KIN.rules,
        bodies=tuple(silent if b.key == "working-groups" else b for b in KIN.rules.bodies),
    )
    terms = terms_of("kinship-network", rules)
    group = given_proposed(terms)

    with pytest.raises(RulesBroken) as raised:
        establish(group, terms, by_body="working-groups")
    refused = group.collect_events()
    establish(group, terms, by_body="full-membership")

    assert refusal(raised) == ("bodies.working-groups.established_by", "9")
    assert refused == []
    assert [type(e) for e in group.collect_events()] == [WorkingGroup.Established]


def test_a_group_has_at_least_one_lead():
    group = given_proposed()

    with pytest.raises(WorkingGroupStateConflict):
        establish(group, leads=())

    assert group.collect_events() == []
    assert group.stage == PROPOSED


def test_a_group_is_established_once():
    group = given_established()

    with pytest.raises(WorkingGroupStateConflict):
        establish(group)

    assert group.collect_events() == []


def test_a_member_joins_an_established_group():
    group = given_established()

    group.join("m-2", by="key:member")

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.MemberJoined]
    assert events[0].member_id == "m-2"
    assert group.members == {"m-lead", "m-2"}


def test_a_proposed_group_cannot_be_joined():
    group = given_proposed()

    with pytest.raises(WorkingGroupStateConflict):
        group.join("m-2", by="key:member")

    assert group.collect_events() == []
    assert group.members == set()


@pytest.mark.parametrize("member_id", ["m-2", "m-lead"], ids=["member", "lead"])
def test_a_member_joins_once(member_id):
    group = given_established(joined=("m-2",))

    with pytest.raises(WorkingGroupStateConflict):
        group.join(member_id, by="key:member")

    assert group.collect_events() == []


def test_a_member_leaves_the_group():
    group = given_established(joined=("m-2",))

    group.leave("m-2", by="key:member")

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.MemberLeft]
    assert events[0].member_id == "m-2"
    assert group.members == {"m-lead"}


def test_only_a_member_of_the_group_leaves_it():
    group = given_established()

    with pytest.raises(WorkingGroupStateConflict):
        group.leave("m-stranger", by="key:member")

    assert group.collect_events() == []


def test_a_lead_cannot_leave_until_the_leads_change():
    group = given_established(leads=("m-lead",), joined=("m-2",))

    with pytest.raises(WorkingGroupStateConflict):
        group.leave("m-lead", by="key:member")
    refused = group.collect_events()
    group.change_leads(
        leads=["m-2"], by_body="full-membership", decision_ref="d", by="k", terms=ACIC
    )
    changed = group.collect_events()
    group.leave("m-lead", by="key:member")

    assert refused == []
    assert [type(e) for e in changed] == [WorkingGroup.LeadsChanged]
    assert changed[0].leads == ["m-2"]
    assert [type(e) for e in group.collect_events()] == [WorkingGroup.MemberLeft]
    assert group.leads == ["m-2"]
    assert group.members == {"m-2"}


def test_a_new_lead_becomes_a_member_of_the_group():
    group = given_established()

    group.change_leads(
        leads=["m-new"], by_body="full-membership", decision_ref="d", by="k", terms=ACIC
    )

    assert group.collect_events()[0].leads == ["m-new"]
    assert group.members == {"m-lead", "m-new"}


def test_leads_are_changed_only_by_the_body_that_establishes_groups():
    group = given_established()

    with pytest.raises(RulesBroken) as raised:
        group.change_leads(leads=["m-2"], by_body="co-chair", decision_ref="d", by="k", terms=ACIC)

    assert refusal(raised) == ("bodies.working-groups.established_by", "7")
    assert group.collect_events() == []
    assert group.leads == ["m-lead"]


def test_an_established_group_records_its_reports():
    group = given_established()

    report_id = group.record_report(
        title="First report", summary="s", presented_to="full-membership", by="key:lead"
    )

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.ReportRecorded]
    assert events[0].report_id == report_id
    assert events[0].presented_to == "full-membership"


def test_a_proposed_group_has_nothing_to_report():
    group = given_proposed()

    with pytest.raises(WorkingGroupStateConflict):
        group.record_report(title="t", summary="s", presented_to="full-membership", by="k")

    assert group.collect_events() == []


def dissolve(group: WorkingGroup, terms: Version = ACIC, by_body: str = "full-membership"):
    group.dissolve(
        reason="task finished", by_body=by_body, decision_ref="d", by="key:officer", terms=terms
    )


@pytest.mark.parametrize("established", [True, False], ids=["established", "not-taken-up"])
def test_the_full_membership_dissolves_a_group(established):
    group = given_established() if established else given_proposed()

    dissolve(group)

    events = group.collect_events()
    assert [type(e) for e in events] == [WorkingGroup.Dissolved]
    assert events[0].by_body == "full-membership"
    assert events[0].reason == "task finished"
    assert group.stage == DISSOLVED


def test_a_group_is_dissolved_only_by_the_body_that_establishes_groups():
    group = given_established()

    with pytest.raises(RulesBroken) as raised:
        dissolve(group, by_body="co-chair")

    assert refusal(raised) == ("bodies.working-groups.established_by", "7")
    assert group.collect_events() == []
    assert group.stage == ESTABLISHED


def test_a_dissolved_group_is_not_dissolved_again_joined_or_left():
    group = given_established(joined=("m-2",))
    dissolve(group)
    group.collect_events()

    for act in (
        lambda: dissolve(group),
        lambda: group.join("m-3", by="k"),
        lambda: group.leave("m-2", by="k"),
        lambda: establish(group),
    ):
        with pytest.raises(WorkingGroupStateConflict):
            act()

    assert group.collect_events() == []


def test_replaying_a_working_group_rebuilds_the_same_state():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    group = propose(KIN)
    establish(group, KIN, leads=("m-lead", "m-co-lead"))
    group.join("m-2", by="k")
    group.join("m-3", by="k")
    group.leave("m-3", by="k")
    group.change_leads(
        leads=["m-2"], by_body="full-membership", decision_ref="d", by="k", terms=KIN
    )
    group.record_report(title="t", summary="s", presented_to="full-membership", by="k")
    app.save(group)

    replayed = app.repository.get(group.id)

    assert replayed.stage == ESTABLISHED == group.stage
    assert replayed.name == group.name
    assert replayed.leads == group.leads == ["m-2"]
    assert replayed.members == group.members == {"m-lead", "m-co-lead", "m-2"}
    assert replayed.version == group.version == 7


# --------------------------------------------------------------------------- the work plan


def add_item(plan: AnnualWorkPlan, terms: Version, body: str, title: str = "Campaign") -> str:
    return plan.add_item(
        title=title, description="what we will do", body=body, by="key:officer", terms=terms
    )


def agree(plan: AnnualWorkPlan, terms: Version, by_body: str) -> None:
    plan.agree(by_body=by_body, decision_ref="d-agree", by="key:officer", terms=terms)


def given_draft(terms: Version, *bodies: str) -> tuple[AnnualWorkPlan, list[str]]:
    plan = AnnualWorkPlan.draft(year=2027, by="key:officer")
    items = [add_item(plan, terms, body, f"Item {n}") for n, body in enumerate(bodies)]
    plan.collect_events()
    return plan, items


def given_agreed(terms: Version = KCA, agreer: str = "executive-committee"):
    plan, items = given_draft(terms, "executive-committee" if terms is KCA else "full-membership")
    agree(plan, terms, agreer)
    plan.collect_events()
    return plan, items[0]


def test_a_plan_is_drafted_for_a_year_with_a_stable_id():
    plan = AnnualWorkPlan.draft(year=2027, by="key:officer")

    events = plan.collect_events()
    assert [type(e) for e in events] == [AnnualWorkPlan.Drafted]
    assert events[0].year == 2027
    assert plan.stage == DRAFT
    assert plan.id == AnnualWorkPlan.create_id(2027) != AnnualWorkPlan.create_id(2028)


def test_items_are_added_to_a_draft_with_the_body_responsible():
    plan, _ = given_draft(KCA)

    item_id = add_item(plan, KCA, "executive-committee")

    events = plan.collect_events()
    assert [type(e) for e in events] == [AnnualWorkPlan.ItemAdded]
    assert events[0].item_id == item_id
    assert events[0].body == "executive-committee"
    assert events[0].under_version == 1
    assert plan.items == {item_id: Item(body="executive-committee")}


def test_an_item_names_a_body_of_the_tor():
    plan, _ = given_draft(KCA)

    with pytest.raises(RulesBroken) as raised:
        add_item(plan, KCA, "working-groups")  # kinship care has no working groups

    # The clause that sets out kinship care's bodies (4) is cited.
    assert refusal(raised) == ("bodies", "4")
    assert "executive-committee" in raised.value.message
    assert plan.collect_events() == []
    assert plan.items == {}


def test_a_plan_with_no_items_cannot_be_agreed():
    plan, _ = given_draft(KCA)

    with pytest.raises(WorkPlanStateConflict):
        agree(plan, KCA, "executive-committee")

    assert plan.collect_events() == []
    assert plan.stage == DRAFT


@pytest.mark.parametrize(
    ("terms", "agreer"),
    [
        (KCA, "executive-committee"),
        (KIN, "full-membership"),
        (ACIC, "full-membership"),  # the ToR is silent: the full membership agrees
    ],
    ids=["kinship-care", "kinship-network", "children-in-care"],
)
def test_the_plan_is_agreed_by_the_body_the_tor_names(terms, agreer):
    plan, _ = given_draft(terms, "full-membership")

    agree(plan, terms, agreer)

    events = plan.collect_events()
    assert [type(e) for e in events] == [AnnualWorkPlan.Agreed]
    assert events[0].by_body == agreer
    assert events[0].under_version == 1
    assert plan.stage == AGREED


@pytest.mark.parametrize(
    ("terms", "wrong_body", "clause"),
    [
        (KCA, "full-membership", "6.4"),
        (KIN, "working-groups", "7"),
        # Silent ToR: the default has no clause to cite.
        (ACIC, "working-groups", None),
    ],
    ids=["kinship-care", "kinship-network", "children-in-care"],
)
def test_the_plan_is_not_agreed_by_another_body(terms, wrong_body, clause):
    plan, _ = given_draft(terms, "full-membership")

    with pytest.raises(RulesBroken) as raised:
        agree(plan, terms, wrong_body)

    assert refusal(raised) == ("work_plan.agreed_by", clause)
    assert plan.collect_events() == []
    assert plan.stage == DRAFT


def test_an_agreed_plan_takes_no_new_item_and_is_not_agreed_again():
    plan, _ = given_agreed()

    with pytest.raises(WorkPlanStateConflict):
        add_item(plan, KCA, "executive-committee")
    with pytest.raises(WorkPlanStateConflict):
        agree(plan, KCA, "executive-committee")

    assert plan.collect_events() == []
    assert len(plan.items) == 1


def test_items_of_a_draft_are_neither_progressed_delivered_nor_evaluated():
    plan, (item,) = given_draft(KCA, "executive-committee")

    for act in (
        lambda: plan.progress(item, note="n", by="k"),
        lambda: plan.deliver(item, note="n", by="k"),
        lambda: plan.evaluate_item(item, evaluation="e", by="k"),
    ):
        with pytest.raises(WorkPlanStateConflict):
            act()

    assert plan.collect_events() == []
    assert plan.items[item].stage == PLANNED


def test_an_item_is_progressed_delivered_and_evaluated_in_that_order():
    plan, item = given_agreed()

    plan.progress(item, note="drafting", by="key:lead")
    progressed = plan.collect_events()
    plan.deliver(item, note="published", by="key:lead")
    delivered = plan.collect_events()
    plan.evaluate_item(item, evaluation="reached 40 MPs", by="key:lead")
    evaluated = plan.collect_events()

    assert [type(e) for e in progressed] == [AnnualWorkPlan.ItemProgressed]
    assert progressed[0].note == "drafting"
    assert [type(e) for e in delivered] == [AnnualWorkPlan.ItemDelivered]
    assert [type(e) for e in evaluated] == [AnnualWorkPlan.ItemEvaluated]
    assert evaluated[0].evaluation == "reached 40 MPs"
    assert plan.items[item] == Item(body="executive-committee", stage=DELIVERED, evaluated=True)


def test_an_item_in_progress_is_not_evaluated_until_delivered():
    plan, item = given_agreed()
    plan.progress(item, note="n", by="k")
    plan.collect_events()

    with pytest.raises(WorkPlanStateConflict):
        plan.evaluate_item(item, evaluation="e", by="k")

    assert plan.collect_events() == []
    assert plan.items[item].stage == IN_PROGRESS
    assert plan.items[item].evaluated is False


@pytest.mark.parametrize("act", ["progress", "deliver"])
def test_a_delivered_item_is_not_progressed_or_delivered_again(act):
    plan, item = given_agreed()
    plan.deliver(item, note="done", by="k")
    plan.collect_events()

    with pytest.raises(WorkPlanStateConflict):
        getattr(plan, act)(item, note="again", by="k")

    assert plan.collect_events() == []
    assert plan.items[item].stage == DELIVERED


def test_an_item_is_evaluated_once():
    plan, item = given_agreed()
    plan.deliver(item, note="done", by="k")
    plan.evaluate_item(item, evaluation="good", by="k")
    plan.collect_events()

    with pytest.raises(WorkPlanStateConflict):
        plan.evaluate_item(item, evaluation="better", by="k")

    assert plan.collect_events() == []


def evaluate(plan: AnnualWorkPlan, terms: Version, by_body: str) -> None:
    plan.evaluate(
        summary="most of the year's work delivered",
        by_body=by_body,
        decision_ref="d-eval",
        by="key:officer",
        terms=terms,
    )


def test_the_body_that_agrees_the_plan_evaluates_the_year():
    plan, item = given_agreed()
    plan.deliver(item, note="done", by="k")
    plan.collect_events()

    evaluate(plan, KCA, "executive-committee")

    events = plan.collect_events()
    assert [type(e) for e in events] == [AnnualWorkPlan.Evaluated]
    assert events[0].by_body == "executive-committee"
    assert events[0].summary == "most of the year's work delivered"
    assert plan.stage == EVALUATED


def test_the_year_is_not_evaluated_by_another_body():
    plan, _ = given_agreed()

    with pytest.raises(RulesBroken) as raised:
        evaluate(plan, KCA, "full-membership")

    assert refusal(raised) == ("work_plan.agreed_by", "6.4")
    assert plan.collect_events() == []
    assert plan.stage == AGREED


def test_only_an_agreed_plan_is_evaluated_and_only_once():
    draft, _ = given_draft(KCA, "executive-committee")
    with pytest.raises(WorkPlanStateConflict):
        evaluate(draft, KCA, "executive-committee")
    plan, item = given_agreed()
    evaluate(plan, KCA, "executive-committee")
    plan.collect_events()

    with pytest.raises(WorkPlanStateConflict):
        evaluate(plan, KCA, "executive-committee")
    with pytest.raises(WorkPlanStateConflict):
        plan.deliver(item, note="late", by="k")

    assert draft.collect_events() == []
    assert plan.collect_events() == []
    assert draft.stage == DRAFT and plan.stage == EVALUATED


def test_replaying_a_work_plan_rebuilds_the_same_items_and_stage():
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    plan = AnnualWorkPlan.draft(year=2027, by="k")
    first = add_item(plan, KIN, "full-membership", "Kinship census")
    second = add_item(plan, KIN, "working-groups", "Peer support toolkit")
    third = add_item(plan, KIN, "full-membership", "Annual conference")
    agree(plan, KIN, "full-membership")
    plan.progress(first, note="n", by="k")
    plan.deliver(second, note="n", by="k")
    plan.evaluate_item(second, evaluation="e", by="k")
    evaluate(plan, KIN, "full-membership")
    app.save(plan)

    replayed = app.repository.get(plan.id)

    assert replayed.year == 2027
    assert replayed.stage == EVALUATED
    assert replayed.items == plan.items
    assert replayed.items == {
        first: Item(body="full-membership", stage=IN_PROGRESS),
        second: Item(body="working-groups", stage=DELIVERED, evaluated=True),
        third: Item(body="full-membership", stage=PLANNED),
    }
    assert replayed.version == plan.version == 9
