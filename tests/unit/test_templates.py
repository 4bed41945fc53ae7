"""The five built-in Terms of Reference: faithful to their sources, consistent, citable."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from domain.errors import UnknownTemplate
from domain.rule_checks import validate_rules
from domain.rules import Clause, Minutes, Rules, WorkPlan, clause_for
from domain.templates import TEMPLATES, TemplateDoc, template
from domain.values import Template

ALL = list(TEMPLATES.values())
each_template = pytest.mark.parametrize("doc", ALL, ids=[doc.name for doc in ALL])

# People named in the source documents: context, never data to ship.
REAL_PEOPLE = ("Mac Heath", "Lucy Peake", "John Simmonds", "Anna Turley", "Cathy Ashley")
REAL_SURNAMES = tuple(name.split()[-1] for name in REAL_PEOPLE)


def rule_paths(rules: Rules) -> tuple[set[str], set[str]]:
    """Every path of the rules (nodes) and the paths of their values (leaves).

    List items are named by their key, e.g. "offices.co-chair.term_months".
    """
    data = msgspec.to_builtins(rules)
    del data["defaults"]
    nodes: set[str] = set()
    leaves: set[str] = set()

    def walk(path: str, value: Any) -> None:
        if path:
            nodes.add(path)
        if isinstance(value, dict):
            for name, item in value.items():
                walk(f"{path}.{name}" if path else name, item)
        elif value and isinstance(value, (list, tuple)) and all(isinstance(i, dict) for i in value):
            for item in value:
                walk(f"{path}.{item['key']}", item)
        else:
            leaves.add(path)

    walk("", data)
    return nodes, leaves


def dangling_references(rules: Rules) -> list[str]:
    """Every rule path that names a body or office the rules do not have."""
    bodies = {body.key for body in rules.bodies}
    offices = {office.key for office in rules.offices}
    either = bodies | offices
    route = rules.membership.route
    refs: list[tuple[str, str | None, set[str]]] = [
        ("membership.route.received_by", route.received_by, either),
        ("membership.route.circulated_to", route.circulated_to, bodies),
        ("membership.route.recommended_by", route.recommended_by, either),
        ("membership.route.decided_by", route.decided_by, bodies),
        (
            "membership.eligibility.observers_approved_by",
            rules.membership.eligibility.observers_approved_by,
            bodies,
        ),
        ("membership.conduct_reviewed_by", rules.membership.conduct_reviewed_by, bodies),
        ("review.amendments_approved_by", rules.review.amendments_approved_by, bodies),
        ("minutes.circulated_by", rules.minutes.circulated_by, either),
        ("work_plan.agreed_by", rules.work_plan.agreed_by, bodies),
    ]
    for body in rules.bodies:
        refs.append((f"bodies.{body.key}.members_agreed_by", body.members_agreed_by, bodies))
        refs.append((f"bodies.{body.key}.established_by", body.established_by, bodies))
    for office in rules.offices:
        refs.append((f"offices.{office.key}.body", office.body, bodies))
        refs.append((f"offices.{office.key}.appointed_by", office.appointed_by, bodies))
    for decision in rules.decisions:
        refs.append((f"decisions.{decision.key}", decision.key, bodies))
        refs.append(
            (
                f"decisions.{decision.key}.casting_vote_office",
                decision.casting_vote_office,
                offices,
            )
        )
        refs.append((f"decisions.{decision.key}.escalate_to", decision.escalate_to, bodies))
    for meeting in rules.meetings:
        refs.append((f"meetings.{meeting.key}", meeting.key, bodies))
        refs.append((f"meetings.{meeting.key}.before_body", meeting.before_body, bodies))
    return [path for path, key, known in refs if key is not None and key not in known]


def clause(doc: TemplateDoc, number: str) -> Clause:
    return next(c for c in doc.clauses if c.number == number)


def citing_clause(doc: TemplateDoc, path: str) -> Clause:
    number = clause_for(doc.clauses, path)
    assert number is not None, f"{doc.name}: no clause carries {path}"
    return clause(doc, number)


def is_default(doc: TemplateDoc, path: str) -> bool:
    return any(path == d or path.startswith(d + ".") for d in doc.rules.defaults)


# --- the catalogue -------------------------------------------------------------------------


def test_there_is_one_template_for_each_template_name():
    assert list(TEMPLATES) == [t.value for t in Template]
    assert all(doc.name == name for name, doc in TEMPLATES.items())


def test_a_template_is_found_by_its_name():
    assert template("children-in-care") is TEMPLATES["children-in-care"]
    assert template("children-in-care").title == (
        "National alliance for children in care and care leavers"
    )


def test_an_unknown_template_is_refused_naming_the_five_choices():
    with pytest.raises(UnknownTemplate) as refused:
        template("nope")

    message = str(refused.value)
    assert "'nope'" in message
    for name in (
        "family-justice",
        "separated-families",
        "children-in-care",
        "kinship-network",
        "kinship-care",
    ):
        assert name in message


@each_template
def test_every_template_names_its_source_document(doc: TemplateDoc):
    assert re.fullmatch(r"seeds/00[0-4]_[0-9a-f]{16}\.txt", doc.source)
    assert doc.title and doc.summary


def test_each_template_comes_from_a_different_source_document():
    assert len({doc.source for doc in ALL}) == 5


# --- consistency of every template ---------------------------------------------------------


@each_template
def test_rules_round_trip_through_plain_data(doc: TemplateDoc):
    assert msgspec.convert(msgspec.to_builtins(doc.rules), Rules) == doc.rules


@each_template
def test_clauses_round_trip_through_plain_data(doc: TemplateDoc):
    data = msgspec.to_builtins(doc.clauses)

    assert msgspec.convert(data, tuple[Clause, ...]) == doc.clauses


@each_template
def test_clause_numbers_are_unique_and_every_subclause_has_its_parent(doc: TemplateDoc):
    numbers = [c.number for c in doc.clauses]

    assert len(numbers) == len(set(numbers))
    for number in numbers:
        if "." in number:
            assert number.rsplit(".", 1)[0] in numbers, number


@each_template
def test_clauses_come_in_order(doc: TemplateDoc):
    numbers = [tuple(int(part) for part in c.number.split(".")) for c in doc.clauses]

    assert numbers == sorted(numbers)


@each_template
def test_the_first_clause_states_the_aims_and_carries_no_rule(doc: TemplateDoc):
    assert doc.clauses[0].number == "1"
    assert doc.clauses[0].rules == ()


@each_template
def test_every_template_has_the_full_membership_body(doc: TemplateDoc):
    full = doc.rules.body("full-membership")

    assert full is not None and full.kind == "full-membership"
    assert [b.key for b in doc.rules.bodies if b.kind == "full-membership"] == ["full-membership"]


@each_template
def test_keys_are_unique_within_each_list(doc: TemplateDoc):
    rules = doc.rules
    for keys in (
        [b.key for b in rules.bodies],
        [o.key for o in rules.offices],
        [d.key for d in rules.decisions],
        [m.key for m in rules.meetings],
        *([s.key for s in b.required_seats] for b in rules.bodies),
    ):
        assert len(keys) == len(set(keys)), keys


@each_template
def test_every_key_a_rule_refers_to_names_a_body_or_office_of_the_template(doc: TemplateDoc):
    assert dangling_references(doc.rules) == []


def test_the_reference_check_reports_a_key_that_names_nothing():
    rules = TEMPLATES["kinship-care"].rules
    broken = msgspec.structs.replace(
        rules,
        decisions=(
            msgspec.structs.replace(rules.decisions[0], escalate_to="general-assembly"),
            *rules.decisions[1:],
        ),
    )

    assert dangling_references(broken) == ["decisions.executive-committee.escalate_to"]


def uncarried_rules(rules: Rules, clauses: tuple[Clause, ...]) -> list[str]:
    """The paths of rules the template sets that no clause carries (so none could be cited)."""
    _, leaves = rule_paths(rules)
    # An area left exactly as the model's default is not set by the template.
    unset = {
        area
        for area, value in (("minutes", Minutes()), ("work_plan", WorkPlan()))
        if getattr(rules, area) == value
    }
    return [
        path
        for path in sorted(leaves)
        if path.split(".")[0] not in unset and clause_for(clauses, path) is None
    ]


@each_template
def test_every_rule_the_template_sets_is_carried_by_a_clause(doc: TemplateDoc):
    assert uncarried_rules(doc.rules, doc.clauses) == []


def test_the_clause_check_reports_a_rule_no_clause_carries():
    doc = TEMPLATES["kinship-care"]
    without_review = tuple(c for c in doc.clauses if c.heading != "Review")

    assert uncarried_rules(doc.rules, without_review) == [
        "review.amendments_approved_by",
        "review.cadence_months",
    ]


@each_template
def test_every_clause_cites_rule_paths_that_exist(doc: TemplateDoc):
    nodes, _ = rule_paths(doc.rules)

    for c in doc.clauses:
        for path in c.rules:
            assert path in nodes, f"clause {c.number} cites {path}"


@each_template
def test_every_default_names_a_rule_path_and_its_clause_says_it_is_a_default(doc: TemplateDoc):
    nodes, _ = rule_paths(doc.rules)

    assert len(doc.rules.defaults) == len(set(doc.rules.defaults))
    for path in doc.rules.defaults:
        assert path in nodes, path
        assert "default" in citing_clause(doc, path).text, path


@each_template
def test_no_real_persons_name_appears_in_a_template(doc: TemplateDoc):
    shipped = msgspec.json.encode(doc).decode()

    for name in REAL_PEOPLE + REAL_SURNAMES:
        assert name not in shipped


@each_template
def test_every_template_is_free_of_contradictions(doc: TemplateDoc):
    assert validate_rules(doc.rules, doc.clauses) == []


# --- family-justice (seed 000) -------------------------------------------------------------

FAMILY_JUSTICE = TEMPLATES["family-justice"]


def test_family_justice_full_membership_meets_four_times_a_year_virtually_or_in_person():
    meetings = FAMILY_JUSTICE.rules.meeting_rule("full-membership")

    assert meetings is not None
    assert meetings.per_year == 4
    assert set(meetings.formats) == {"virtual", "in-person"}


def test_family_justice_steering_group_has_six_required_seats():
    group = FAMILY_JUSTICE.rules.body("steering-group")

    assert group is not None and group.kind == "steering-group"
    assert {seat.key for seat in group.required_seats} == {
        "judiciary",
        "mediator",
        "solicitor",
        "third-sector-charity",
        "public-health",
        "service-user-parent",
    }


def test_family_justice_members_are_organisations_drawn_from_kent():
    eligibility = FAMILY_JUSTICE.rules.membership.eligibility

    assert eligibility.organisations is True
    assert eligibility.region == "Kent"
    assert citing_clause(FAMILY_JUSTICE, "membership.eligibility.region").number == "2"


def test_family_justice_minutes_are_published_unless_kept_confidential_to_protect_service_users():
    minutes = FAMILY_JUSTICE.rules.minutes

    assert minutes.every_meeting_minuted is True
    assert minutes.published_by_default is True
    assert minutes.confidential_allowed is True
    assert minutes.confidential_reason == "to protect service users"
    assert not is_default(FAMILY_JUSTICE, "minutes.published_by_default")


def test_family_justice_terms_are_reviewed_every_year():
    assert FAMILY_JUSTICE.rules.review.cadence_months == 12
    assert not is_default(FAMILY_JUSTICE, "review.cadence_months")
    assert is_default(FAMILY_JUSTICE, "review.amendments_approved_by")


def test_family_justice_joining_route_is_a_marked_default():
    assert is_default(FAMILY_JUSTICE, "membership.route.decided_by")
    assert is_default(FAMILY_JUSTICE, "membership.max_representatives")


# --- separated-families (seed 001) ---------------------------------------------------------

SEPARATED_FAMILIES = TEMPLATES["separated-families"]


def test_separated_families_is_a_local_alliance_of_organisations_in_one_city():
    eligibility = SEPARATED_FAMILIES.rules.membership.eligibility

    assert eligibility.organisations is True
    assert eligibility.region == "Leicester"
    assert "national umbrella" in clause(SEPARATED_FAMILIES, "1").text


def test_separated_families_objectives_are_an_aims_clause_without_rules():
    objectives = clause(SEPARATED_FAMILIES, "2")

    assert objectives.heading == "Objectives"
    assert objectives.rules == ()
    for point in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "domestic abuse", "safeguarding"):
        assert point in objectives.text


def test_separated_families_practitioners_may_suggest_services_and_organisations():
    suggestions = [c for c in SEPARATED_FAMILIES.clauses if "practitioners" in c.text]

    assert len(suggestions) == 1
    assert "suggest services or organisations" in suggestions[0].text


def test_separated_families_governance_rules_are_marked_defaults():
    for path in (
        "membership.route.received_by",
        "membership.route.decided_by",
        "membership.max_representatives",
        "membership.principal_contact_required",
        "offices.chair.term_months",
        "decisions.full-membership.consensus_first",
        "meetings.full-membership.per_year",
        "minutes.published_by_default",
        "review.cadence_months",
        "review.amendments_approved_by",
    ):
        assert is_default(SEPARATED_FAMILIES, path), path
    assert not is_default(SEPARATED_FAMILIES, "membership.eligibility.region")


def test_separated_families_review_defaults_to_twelve_months():
    assert SEPARATED_FAMILIES.rules.review.cadence_months == 12
    assert "default" in citing_clause(SEPARATED_FAMILIES, "review.cadence_months").text


# --- children-in-care (seed 002) -----------------------------------------------------------

CHILDREN_IN_CARE = TEMPLATES["children-in-care"]


def co_chair() -> Any:
    office = CHILDREN_IN_CARE.rules.office("co-chair")
    assert office is not None
    return office


def test_children_in_care_admits_non_governmental_organisations_only():
    eligibility = CHILDREN_IN_CARE.rules.membership.eligibility

    assert eligibility.organisations is True
    assert eligibility.non_governmental_only is True
    assert eligibility.legal_entity_required is False


def test_children_in_care_applications_go_to_the_co_chairs_who_recommend_to_the_next_main_meeting():
    route = CHILDREN_IN_CARE.rules.membership.route

    assert route.written_request is True
    assert route.received_by == "co-chair"
    assert route.recommended_by == "co-chair"
    assert route.decided_by == "full-membership"
    assert route.at_next_main_meeting is True


def test_children_in_care_allows_two_representatives_with_one_principal_contact():
    membership = CHILDREN_IN_CARE.rules.membership

    assert membership.max_representatives == 2
    assert membership.principal_contact_required is True
    assert not is_default(CHILDREN_IN_CARE, "membership.max_representatives")


def test_children_in_care_observers_are_approved_by_the_full_membership():
    eligibility = CHILDREN_IN_CARE.rules.membership.eligibility

    assert eligibility.observers is True
    assert eligibility.observers_approved_by == "full-membership"
    assert citing_clause(CHILDREN_IN_CARE, "membership.eligibility.observers").number == "3.4"


def test_children_in_care_has_two_co_chairs_from_different_organisations():
    office = co_chair()

    assert office.seats == 2
    assert office.distinct_organisations is True
    assert office.from_membership is True
    assert citing_clause(CHILDREN_IN_CARE, "offices.co-chair.seats").number == "6"


def test_children_in_care_co_chairs_are_elected_by_secret_ballot_for_two_years_and_re_electable():
    office = co_chair()

    assert office.selection == "elected"
    assert office.term_months == 24
    assert office.re_eligible is True
    assert office.election is not None
    assert office.election.method == "simple-majority"
    assert office.election.secret_ballot is True
    assert citing_clause(CHILDREN_IN_CARE, "offices.co-chair.term_months").number == "6.1"


def test_children_in_care_candidacy_statement_word_limit_is_a_marked_default():
    office = co_chair()

    assert office.election.statement_word_limit is not None
    assert is_default(CHILDREN_IN_CARE, "offices.co-chair.election.statement_word_limit")
    assert not is_default(CHILDREN_IN_CARE, "offices.co-chair.election.secret_ballot")


def test_children_in_care_public_stance_without_consensus_goes_to_all_members_ties_to_co_chairs():
    decisions = CHILDREN_IN_CARE.rules.decision_rule("full-membership")

    assert decisions is not None
    assert decisions.consensus_first is True
    assert decisions.public_stance_electorate == "all-members"
    assert decisions.casting_vote_office == "co-chair"


def test_children_in_care_decides_only_at_its_quarterly_main_meetings():
    decisions = CHILDREN_IN_CARE.rules.decision_rule("full-membership")
    meetings = CHILDREN_IN_CARE.rules.meeting_rule("full-membership")

    assert decisions is not None and decisions.main_meetings_only is True
    assert meetings is not None and meetings.per_year == 4
    assert meetings.additional_meetings_allowed is True


def test_children_in_care_working_groups_and_their_leads_are_agreed_by_the_full_membership():
    groups = CHILDREN_IN_CARE.rules.body("working-groups")
    lead = CHILDREN_IN_CARE.rules.office("working-group-lead")

    assert groups is not None and groups.kind == "working-group"
    assert groups.established_by == "full-membership"
    assert lead is not None
    assert lead.body == "working-groups"
    assert lead.selection == "appointed"
    assert lead.appointed_by == "full-membership"


def test_children_in_care_minutes_are_shared_by_the_co_chairs():
    assert CHILDREN_IN_CARE.rules.minutes.circulated_by == "co-chair"


def test_children_in_care_terms_are_reviewed_every_three_years_and_approved_by_the_alliance():
    review = CHILDREN_IN_CARE.rules.review

    assert review.cadence_months == 36
    assert review.amendments_approved_by == "full-membership"
    assert not is_default(CHILDREN_IN_CARE, "review")


# --- kinship-network (seed 003) ------------------------------------------------------------

KINSHIP_NETWORK = TEMPLATES["kinship-network"]


def test_kinship_network_is_open_to_the_nineteen_authorities_of_the_south_east():
    eligibility = KINSHIP_NETWORK.rules.membership.eligibility

    assert eligibility.region == "South East"
    assert len(eligibility.eligible_bodies) == 19
    assert len(set(eligibility.eligible_bodies)) == 19
    for place in ("Kent", "Milton Keynes", "Isle of Wight", "Reading", "Slough", "Wokingham"):
        assert sum(place in body for body in eligibility.eligible_bodies) == 1, place


def test_kinship_network_admits_local_authorities_and_childrens_trusts():
    kinds = KINSHIP_NETWORK.rules.membership.eligibility.organisation_kinds

    assert set(kinds) == {"local authority", "children's trust"}


def test_kinship_network_sponsor_is_a_director_whose_change_a_regional_group_approves():
    sponsor = KINSHIP_NETWORK.rules.office("sponsor")

    assert sponsor is not None
    assert sponsor.seats == 1
    assert "Director of Children's Services" in sponsor.name
    assert sponsor.change_approved_by_outside == (
        "the regional group of Directors of Children's Services"
    )


def test_kinship_network_appoints_chairs_and_vice_chairs_from_its_membership():
    for key in ("chair", "vice-chair"):
        office = KINSHIP_NETWORK.rules.office(key)
        assert office is not None
        assert office.selection == "appointed"
        assert office.appointed_by == "full-membership"
        assert office.from_membership is True


def test_kinship_network_has_an_annual_work_programme():
    plan = KINSHIP_NETWORK.rules.work_plan

    assert plan.required is True
    assert plan.period == "annual"
    assert plan.agreed_by == "full-membership"


def test_kinship_network_meets_quarterly_and_sets_up_task_and_finish_groups():
    meetings = KINSHIP_NETWORK.rules.meeting_rule("full-membership")
    groups = KINSHIP_NETWORK.rules.body("working-groups")

    assert meetings is not None and meetings.per_year == 4
    assert groups is not None and groups.kind == "working-group"
    assert "task and finish" in groups.name.lower()


def test_kinship_network_publishes_its_reports_and_reviews_its_terms_every_year():
    assert KINSHIP_NETWORK.rules.minutes.published_by_default is True
    assert "reports are published" in citing_clause(KINSHIP_NETWORK, "minutes").text
    assert KINSHIP_NETWORK.rules.review.cadence_months == 12
    assert not is_default(KINSHIP_NETWORK, "review.cadence_months")


# --- kinship-care (seed 004) ---------------------------------------------------------------

KINSHIP_CARE = TEMPLATES["kinship-care"]


def test_kinship_care_admits_legal_entities_committed_to_aims_values_and_equality():
    eligibility = KINSHIP_CARE.rules.membership.eligibility

    assert eligibility.legal_entity_required is True
    commitments = " ".join(eligibility.commitments)
    for word in ("aims", "values", "equality", "discrimination"):
        assert word in commitments


def test_kinship_care_admits_individuals_in_an_advisory_capacity():
    assert KINSHIP_CARE.rules.membership.eligibility.individuals_advisory is True


def test_kinship_care_application_is_a_chief_executives_written_request_decided_by_the_executive():
    route = KINSHIP_CARE.rules.membership.route

    assert route.written_request is True
    assert route.signatory_roles == ("chief executive or equivalent",)
    assert route.received_by == "executive-committee"
    assert route.circulated_to == "executive-committee"
    assert route.decided_by == "executive-committee"


def test_kinship_care_membership_can_be_reviewed_against_a_code_of_conduct():
    assert KINSHIP_CARE.rules.membership.conduct_reviewed_by == "executive-committee"


def test_kinship_care_executive_is_the_chair_plus_at_most_six_others_for_three_years():
    executive = KINSHIP_CARE.rules.body("executive-committee")
    chair = KINSHIP_CARE.rules.office("chair")

    assert executive is not None and executive.kind == "committee"
    assert executive.max_members == 7
    assert executive.members_agreed_by == "full-membership"
    assert executive.term_months == 36
    assert chair is not None and chair.body == "executive-committee"


def test_kinship_care_executive_decides_by_consensus_and_escalates_to_the_full_membership():
    decisions = KINSHIP_CARE.rules.decision_rule("executive-committee")

    assert decisions is not None
    assert decisions.consensus_first is True
    assert decisions.voting == "one-organisation-one-vote"
    assert decisions.escalate_to == "full-membership"


def test_kinship_care_executive_meets_a_month_before_each_full_meeting():
    meetings = KINSHIP_CARE.rules.meeting_rule("executive-committee")

    assert meetings is not None
    assert meetings.before_body == "full-membership"
    assert meetings.months_before == 1
    assert set(meetings.formats) == {"virtual", "in-person"}


def test_kinship_care_work_plan_is_agreed_delivered_and_evaluated_each_year():
    plan = KINSHIP_CARE.rules.work_plan

    assert plan.required is True
    assert plan.period == "annual"
    assert plan.stages == ("agreed", "delivered", "evaluated")
    assert not is_default(KINSHIP_CARE, "work_plan")


def test_kinship_care_review_cadence_is_a_marked_default():
    assert KINSHIP_CARE.rules.review.cadence_months == 12
    assert is_default(KINSHIP_CARE, "review.cadence_months")
