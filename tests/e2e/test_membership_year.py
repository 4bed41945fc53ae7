"""A year of membership for each template, through the API and nothing else.

Applications travel the route their ToR sets (and are refused off it, citing the clause),
representatives stop at the ToR's limit, offices are filled as the ToR says (appointed or
elected, by whom, from which organisations), terms run out, a working group is set up and
dissolved (after amending the ToR where it has no working groups), and the year's work
plan is agreed and evaluated. After each step the read side shows the new state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.rules import Clause, clause_for
from domain.templates import TEMPLATES
from tests.conftest import bearer

#: Every scripted year starts here: the alliance is founded, and its terms start, that day.
START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
PROBLEM_JSON = "application/problem+json"
RULE_BROKEN = "urn:concord:problem:tor-rule-broken"
STEP_FIELD = {"circulate": "to_body", "recommend": "by_office", "decide": "by_body"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """A problem-details answer with this status, and never a trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def years_later(day: date, years: int) -> date:
    return day.replace(year=day.year + years)


class Alliance:
    """One alliance driven through the API with its tenant-admin key, as a person reads it."""

    def __init__(self, client: Any, template: str, secret: str, slug: str | None = None) -> None:
        self.client = client
        self.template = template
        self.slug = slug or template
        self.headers = bearer(secret)
        self.base = f"/v1/tenants/{self.slug}"
        self.rules = TEMPLATES[template].rules
        #: The clauses in force, as the tests expect them (amendments add to them).
        self.clauses: tuple[Clause, ...] = TEMPLATES[template].clauses

    # ------------------------------------------------------------------ plumbing

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return self.client.request(
            method,
            self.base + path,
            json=body,
            params=params,
            headers=self.headers if headers is None else headers,
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.call("GET", path, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any = None, *, status: int = 200) -> Any:
        response = self.call("POST", path, body)
        assert response.status_code == status, response.text
        return response.json()

    def refused(
        self, method: str, path: str, body: Any = None, *, rule: str, status: int = 422
    ) -> dict[str, Any]:
        """The act is refused for breaking `rule`, citing the clause of the ToR that carries it."""
        problem = assert_problem(self.call(method, path, body), status)
        assert problem["type"] == RULE_BROKEN, problem
        broken = {v["rule"]: v for v in problem["violations"]}
        assert rule in broken, problem
        expected = clause_for(self.clauses, rule)
        assert broken[rule]["clause"] == expected, problem
        if expected is not None:
            assert f"ToR clause {expected}" in broken[rule]["message"]
        if problem["violations"][0]["rule"] == rule:
            assert problem.get("clause") == expected
        return problem

    def move_clock_to(self, moment: datetime) -> None:
        self.client.app.state.runtime.clock = lambda: moment

    # ------------------------------------------------------------------ membership

    def apply(self, name: str, **facts: Any) -> str:
        body = {"name": name, "request_text": "We ask to join the alliance.", **facts}
        submitted = self.post("/applications", body, status=201)
        assert submitted["stage"] == "submitted" and submitted["member_id"] is None
        return str(submitted["application_id"])

    def take_step(self, application_id: str, step: str, by: str, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {STEP_FIELD[step]: by}
        if step == "recommend":
            body["recommendation"] = "admit"
        if step == "decide":
            body |= {"outcome": "admit", "decision_ref": "main meeting, item 3"}
        return dict(self.post(f"/applications/{application_id}/{step}", body | extra))

    def application(self, application_id: str) -> dict[str, Any]:
        return dict(self.get(f"/applications/{application_id}"))

    def member(self, member_id: str) -> dict[str, Any]:
        return dict(self.get(f"/members/{member_id}"))

    def add_representative(self, member_id: str, name: str, **fields: Any) -> dict[str, Any]:
        email = name.lower().replace(" ", ".") + "@example.org"
        body = {"name": name, "email": email, "role": "Head of policy", **fields}
        return dict(self.post(f"/members/{member_id}/representatives", body, status=201))

    # ------------------------------------------------------------------ offices

    def appoint(self, office: str, member_id: str | None, person: str, **fields: Any) -> Any:
        body = {"member_id": member_id, "person_name": person, "decision_ref": "minute 4"}
        return self.post(f"/offices/{office}/appointments", body | fields, status=201)

    def elect(self, office: str, member_id: str, person: str) -> Any:
        body = {"member_id": member_id, "person_name": person, "election_ref": "ballot 1"}
        return self.post(f"/offices/{office}/election-results", body, status=201)

    def office(self, key: str) -> dict[str, Any]:
        return dict(self.get(f"/offices/{key}"))

    def body(self, key: str) -> dict[str, Any]:
        return next(b for b in self.get("/bodies")["items"] if b["body"] == key)

    # ------------------------------------------------------------------ terms

    def amend(self, rules: list[dict[str, Any]], clauses: list[dict[str, Any]]) -> int:
        """Propose and approve an amendment by the body the ToR names; the new version number."""
        proposed = self.post(
            "/terms/amendments",
            {"rationale": "the membership wants it", "rules": rules, "clauses": clauses},
            status=201,
        )
        approved = self.post(
            f"/terms/amendments/{proposed['amendment_id']}/approve",
            {"body": self.rules.review.amendments_approved_by, "decision_ref": "AGM, item 7"},
        )
        assert approved["state"] == "approved"
        return int(approved["version"])


def holders(office: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [(h["member_id"], h["person_name"]) for h in office["holders"]]


# ---------------------------------------------------------------------------- offices, per ToR


def fill_family_justice(alliance: Alliance, a: str, b: str) -> None:
    """The steering group appoints its chair; the full membership agrees its seats."""
    alliance.refused(
        "POST",
        "/offices/chair/election-results",
        {"member_id": a, "person_name": "Pat Quinn", "election_ref": "ballot 1"},
        rule="offices.chair.selection",
    )
    alliance.refused(
        "POST",
        "/offices/chair/appointments",
        {
            "member_id": a,
            "person_name": "Pat Quinn",
            "by_body": "full-membership",
            "decision_ref": "m",
        },
        rule="offices.chair.appointed_by",
    )
    assert alliance.office("chair")["holders"] == []

    chair = alliance.appoint("chair", a, "Pat Quinn", by_body="steering-group")

    assert holders(chair) == [(a, "Pat Quinn")] and chair["vacancies"] == 0
    seat = {"member_id": b, "person_name": "Sam Reed", "required_seat": "mediator"}
    alliance.refused(
        "POST",
        "/bodies/steering-group/seats",
        seat | {"agreed_by": "steering-group", "decision_ref": "m"},
        rule="bodies.steering-group.members_agreed_by",
    )
    alliance.post(
        "/bodies/steering-group/seats",
        seat | {"agreed_by": "full-membership", "decision_ref": "m"},
        status=201,
    )
    steering = alliance.body("steering-group")
    assert [s["member_id"] for s in steering["seats"]] == [b]
    assert "mediator" not in steering["required_seats_unfilled"]
    assert len(steering["required_seats_unfilled"]) == 5


def fill_separated_families(alliance: Alliance, a: str, b: str) -> None:
    """The full membership elects its chair, for two years."""
    alliance.refused(
        "POST",
        "/offices/chair/appointments",
        {
            "member_id": a,
            "person_name": "Ravi Shah",
            "by_body": "full-membership",
            "decision_ref": "m",
        },
        rule="offices.chair.selection",
    )

    chair = alliance.elect("chair", a, "Ravi Shah")

    assert holders(chair) == [(a, "Ravi Shah")] and chair["holders"][0]["via"] == "elected"
    alliance.refused(
        "POST",
        "/offices/chair/election-results",
        {"member_id": b, "person_name": "Jo Bell", "election_ref": "ballot 2"},
        rule="offices.chair.seats",
    )


def fill_children_in_care(alliance: Alliance, a: str, b: str) -> None:
    """Two elected co-chairs, who must come from different member organisations."""
    alliance.elect("co-chair", a, "Amira Khan")
    same_organisation = {"member_id": a, "person_name": "Sam Okafor", "election_ref": "ballot 1"}

    alliance.refused(
        "POST",
        "/offices/co-chair/election-results",
        same_organisation,
        rule="offices.co-chair.distinct_organisations",
    )

    assert holders(alliance.office("co-chair")) == [(a, "Amira Khan")]
    co_chairs = alliance.elect("co-chair", b, "Lee Grant")
    assert holders(co_chairs) == [(a, "Amira Khan"), (b, "Lee Grant")]
    assert co_chairs["vacancies"] == 0
    alliance.refused(
        "POST",
        "/offices/co-chair/election-results",
        same_organisation,
        rule="offices.co-chair.seats",
    )


def fill_kinship_network(alliance: Alliance, a: str, b: str) -> None:
    """A sponsor from outside the membership, changed only with the regional DCS group's
    approval; a chair and a vice-chair appointed by the full membership."""
    sponsor = alliance.appoint(
        "sponsor", None, "Dana Wells", organisation="Hampshire County Council"
    )
    first = sponsor["holders"][0]
    assert first["organisation"] == "Hampshire County Council" and first["member_id"] is None
    successor = {
        "organisation": "Surrey County Council",
        "person_name": "Chris Lowe",
        "decision_ref": "minute 9",
    }
    while_held = alliance.refused(
        "POST", "/offices/sponsor/appointments", successor, rule="offices.sponsor.seats"
    )
    assert "offices.sponsor.change_approved_by_outside" in {
        v["rule"] for v in while_held["violations"]
    }
    alliance.post(
        f"/offices/sponsor/holdings/{first['holding_id']}/end",
        {"reason": "moved to another region"},
    )
    assert alliance.office("sponsor")["vacancies"] == 1

    alliance.refused(
        "POST",
        "/offices/sponsor/appointments",
        successor,
        rule="offices.sponsor.change_approved_by_outside",
    )
    changed = alliance.post(
        "/offices/sponsor/appointments",
        successor | {"outside_approval_ref": "regional DCS group, 3 March"},
        status=201,
    )

    assert [h["organisation"] for h in changed["holders"]] == ["Surrey County Council"]
    assert [h["left_on"] for h in changed["history"]] == [START.date().isoformat(), None]
    assert changed["history"][1]["outside_approval_ref"] == "regional DCS group, 3 March"
    alliance.refused(
        "POST",
        "/offices/chair/appointments",
        {"member_id": a, "person_name": "Nia Evans", "by_body": "sponsor", "decision_ref": "m"},
        rule="offices.chair.appointed_by",
    )
    alliance.appoint("chair", a, "Nia Evans", by_body="full-membership")
    alliance.appoint("vice-chair", b, "Tom Ash", by_body="full-membership")
    listed = {o["office"]: o for o in alliance.get("/offices")["items"]}
    assert {key: holders(o) for key, o in listed.items()} == {
        "sponsor": [(None, "Chris Lowe")],
        "chair": [(a, "Nia Evans")],
        "vice-chair": [(b, "Tom Ash")],
    }


def fill_kinship_care(alliance: Alliance, a: str, b: str) -> None:
    """The full membership appoints the chair for three years and agrees who sits on the
    executive committee (at most seven, for three years)."""
    alliance.refused(
        "POST",
        "/offices/chair/appointments",
        {
            "member_id": a,
            "person_name": "Mo Lewis",
            "by_body": "executive-committee",
            "decision_ref": "m",
        },
        rule="offices.chair.appointed_by",
    )

    chair = alliance.appoint("chair", a, "Mo Lewis", by_body="full-membership")

    assert holders(chair) == [(a, "Mo Lewis")]
    for member_id, person in ((b, "Kit Jones"), (a, "Rae Patel")):
        alliance.post(
            "/bodies/executive-committee/seats",
            {
                "member_id": member_id,
                "person_name": person,
                "agreed_by": "full-membership",
                "decision_ref": "m",
            },
            status=201,
        )
    executive = alliance.body("executive-committee")
    assert [s["person_name"] for s in executive["seats"]] == ["Kit Jones", "Rae Patel"]
    # The chair and at most six others: the chair takes one of the seven places.
    assert executive["places_free"] == 4


# ---------------------------------------------------------------------------- the five years


@dataclass(frozen=True)
class Year:
    """What one template's year looks like: its applicants, route, offices and plan."""

    template: str
    #: What every eligible applicant says of itself (region, kind, signatory...).
    facts: dict[str, Any]
    #: Two organisations admitted and one rejected.
    organisations: tuple[str, str, str]
    #: An applicant the ToR refuses outright, and the rule it breaks.
    ineligible: dict[str, Any]
    ineligible_rule: str
    #: The steps before the decision, and who takes each.
    route: tuple[tuple[str, str], ...]
    decided_by: str
    #: A step taken out of turn, and one taken by the wrong body or office: (step, by, rule).
    out_of_turn: tuple[str, str, str]
    wrong_hands: tuple[str, str, str]
    #: The clause numbers of the route and of the representatives, as the ToR text reads.
    route_clause: str
    representatives_clause: str
    fill_offices: Callable[[Alliance, str, str], None]
    #: Offices with a term, in months (the others run until replaced).
    terms: dict[str, int] = field(default_factory=dict)
    #: Who agrees the work plan, and a body that may not.
    plan_agreed_by: str = "full-membership"
    plan_not_agreed_by: str = "chair"


YEARS = [
    Year(
        template="family-justice",
        facts={"region": "Kent"},
        organisations=("Kent Family Mediation", "Medway Citizens Advice", "Dover Contact Centre"),
        ineligible={"name": "Leicester Family Law Clinic", "region": "Leicestershire"},
        ineligible_rule="membership.eligibility.region",
        route=(),
        decided_by="steering-group",
        out_of_turn=("recommend", "chair", "membership.route.recommended_by"),
        wrong_hands=("decide", "full-membership", "membership.route.decided_by"),
        route_clause="2.1",
        representatives_clause="2.2",
        fill_offices=fill_family_justice,
        plan_not_agreed_by="steering-group",
    ),
    Year(
        template="separated-families",
        facts={"region": "Leicester"},
        organisations=("Leicester Relate", "Leicester Family Hub", "De Montfort Law Clinic"),
        ineligible={"name": "Nottingham Family Hub", "region": "Nottingham"},
        ineligible_rule="membership.eligibility.region",
        route=(),
        decided_by="full-membership",
        out_of_turn=("circulate", "full-membership", "membership.route.circulated_to"),
        wrong_hands=("decide", "chair", "membership.route.decided_by"),
        route_clause="3.2",
        representatives_clause="3.3",
        fill_offices=fill_separated_families,
        terms={"chair": 24},
    ),
    Year(
        template="children-in-care",
        facts={},
        organisations=("Become", "Coram Voice", "The Fostering Network"),
        ineligible={"name": "Department for Education", "governmental": True},
        ineligible_rule="membership.eligibility.non_governmental_only",
        route=(("recommend", "co-chair"),),
        decided_by="full-membership",
        out_of_turn=("decide", "full-membership", "membership.route.recommended_by"),
        wrong_hands=("recommend", "working-group-lead", "membership.route.recommended_by"),
        route_clause="3.1",
        representatives_clause="3.2",
        fill_offices=fill_children_in_care,
        terms={"co-chair": 24},
    ),
    Year(
        template="kinship-network",
        facts={"organisation_kind": "local authority", "region": "South East"},
        organisations=("Kent County Council", "Medway Council", "Surrey County Council"),
        ineligible={"name": "Essex County Council"},
        ineligible_rule="membership.eligibility.eligible_bodies",
        route=(),
        decided_by="full-membership",
        out_of_turn=("circulate", "full-membership", "membership.route.circulated_to"),
        wrong_hands=("decide", "chair", "membership.route.decided_by"),
        route_clause="6.1",
        representatives_clause="6.2",
        fill_offices=fill_kinship_network,
    ),
    Year(
        template="kinship-care",
        facts={"signatory_role": "Chief Executive", "signatory_name": "Alex Morgan"},
        organisations=("Kinship", "Grandparents Plus Network", "Family Rights Group"),
        ineligible={"name": "Kin Friends Club", "legal_entity": False},
        ineligible_rule="membership.eligibility.legal_entity_required",
        route=(("circulate", "executive-committee"),),
        decided_by="executive-committee",
        out_of_turn=("decide", "executive-committee", "membership.route.circulated_to"),
        wrong_hands=("circulate", "full-membership", "membership.route.circulated_to"),
        route_clause="4.2",
        representatives_clause="4.4",
        fill_offices=fill_kinship_care,
        terms={"chair": 36},
        plan_agreed_by="executive-committee",
        plan_not_agreed_by="full-membership",
    ),
]


@pytest.fixture
def alliance(client, onboard, request) -> Alliance:
    year: Year = request.param
    client.app.state.runtime.clock = lambda: START
    secret = onboard(year.template, template=year.template)["admin_key"]["secret"]
    return Alliance(client, year.template, secret)


def test_every_template_has_its_year_here():
    assert sorted(y.template for y in YEARS) == sorted(TEMPLATES)


@pytest.mark.parametrize(
    ("year", "alliance"),
    [(y, y) for y in YEARS],
    ids=[y.template for y in YEARS],
    indirect=["alliance"],
)
def test_a_year_of_membership_runs_through_the_api(year: Year, alliance: Alliance):
    members = run_applications(year, alliance)
    run_representatives(year, alliance, members[0])
    year.fill_offices(alliance, *members)
    run_working_group(alliance, *members)
    run_work_plan(year, alliance)
    run_terms_of_office(year, alliance)


def test_refusing_working_groups_names_a_clause_of_the_tor(client, onboard):
    for template in ("family-justice", "separated-families", "kinship-care"):
        secret = onboard(template, template=template)["admin_key"]["secret"]
        alliance = Alliance(client, template, secret)

        response = alliance.call("POST", "/working-groups", {"name": "G", "purpose": "p"})

        problem = assert_problem(response, 422)
        assert problem["violations"][0]["rule"] == "bodies"
        numbers = {c.number for c in alliance.clauses}
        assert problem["violations"][0]["clause"] in numbers, template
        assert problem.get("clause") == problem["violations"][0]["clause"]


# ---------------------------------------------------------------------------- the steps


def run_applications(year: Year, alliance: Alliance) -> tuple[str, str]:
    """Two organisations admitted and one rejected, each on the ToR's route."""
    assert clause_for(alliance.clauses, "membership.route.decided_by") == year.route_clause
    ineligible = {"request_text": "We would like to join.", **year.facts, **year.ineligible}
    alliance.refused("POST", "/applications", ineligible, rule=year.ineligible_rule)
    assert alliance.get("/applications")["items"] == []

    first, second, third = (alliance.apply(name, **year.facts) for name in year.organisations)
    for step, by, rule in (year.out_of_turn, year.wrong_hands):
        problem = alliance.refused(
            "POST", f"/applications/{first}/{step}", step_body(step, by), rule=rule
        )
        assert problem["clause"] == year.route_clause
    assert alliance.application(first)["stage"] == "submitted"

    admitted = []
    for application_id in (first, second):
        for step, by in year.route:
            taken = alliance.take_step(application_id, step, by)
            assert taken["stage"] == {"circulate": "circulated", "recommend": "recommended"}[step]
        decided = alliance.take_step(application_id, "decide", year.decided_by)
        assert decided["stage"] == "admitted" and decided["decided_by_body"] == year.decided_by
        assert decided["standing"] == "member" and decided["member_id"]
        admitted.append(decided["member_id"])
    for step, by in year.route:
        alliance.take_step(third, step, by)
    rejected = alliance.take_step(
        third, "decide", year.decided_by, outcome="reject", reason="outside our aims"
    )

    assert rejected["stage"] == "rejected" and rejected["member_id"] is None
    assert rejected["reason"] == "outside our aims"
    by_stage = {
        stage: [a["application_id"] for a in alliance.get("/applications", stage=stage)["items"]]
        for stage in ("submitted", "admitted", "rejected")
    }
    assert by_stage == {"submitted": [], "admitted": [first, second], "rejected": [third]}
    register = alliance.get("/members")["items"]
    assert [(m["member_id"], m["name"], m["status"], m["standing"]) for m in register] == [
        (admitted[0], year.organisations[0], "active", "member"),
        (admitted[1], year.organisations[1], "active", "member"),
    ]
    assert alliance.member(admitted[0])["by_body"] == year.decided_by
    return admitted[0], admitted[1]


def step_body(step: str, by: str) -> dict[str, Any]:
    body: dict[str, Any] = {STEP_FIELD[step]: by}
    if step == "recommend":
        body["recommendation"] = "admit"
    if step == "decide":
        body |= {"outcome": "admit", "decision_ref": "main meeting, item 3"}
    return body


def run_representatives(year: Year, alliance: Alliance, member_id: str) -> None:
    """Representatives up to the ToR's limit (two, in every template), and no further."""
    limit = alliance.rules.membership.max_representatives
    assert limit == 2
    assert clause_for(alliance.clauses, "membership.max_representatives") == (
        year.representatives_clause
    )
    first = alliance.add_representative(member_id, "Ada Price")
    second = alliance.add_representative(member_id, "Ben Ode")

    problem = alliance.refused(
        "POST",
        f"/members/{member_id}/representatives",
        {"name": "Cy Third", "email": "cy@example.org", "role": "Trustee"},
        rule="membership.max_representatives",
    )

    assert problem["clause"] == year.representatives_clause
    listed = alliance.get(f"/members/{member_id}/representatives")
    assert listed == second
    assert [r["name"] for r in listed["items"]] == ["Ada Price", "Ben Ode"]
    assert listed["principal_contact"] == first["principal_contact"]
    assert listed["principal_contact"] == listed["items"][0]["representative_id"]


def run_working_group(alliance: Alliance, a: str, b: str) -> None:
    """A working group proposed, established by the body the ToR names, joined, heard from
    and dissolved. Where the ToR has no working groups, it is amended to have them first."""
    group = {"name": "Data and evidence", "purpose": "Find out what the numbers say."}
    wg_body = next((x.key for x in alliance.rules.bodies if x.kind == "working-group"), None)
    if wg_body is None:
        problem = alliance.refused("POST", "/working-groups", group, rule="bodies")
        assert "working-group" in problem["detail"]
        assert alliance.get("/working-groups")["items"] == []
        number = str(max(int(c.number.split(".")[0]) for c in alliance.clauses) + 1)
        clause = {
            "number": number,
            "heading": "Working groups",
            "text": "The full membership sets up working groups and dissolves them.",
            "rules": ["bodies.working-groups"],
        }
        version = alliance.amend(
            rules=[
                {
                    "path": "bodies.working-groups",
                    "value": {
                        "name": "Working groups",
                        "kind": "working-group",
                        "established_by": "full-membership",
                    },
                }
            ],
            clauses=[clause],
        )
        assert version == 2
        alliance.clauses = (*alliance.clauses, Clause(**clause))
        assert alliance.get("/terms")["number"] == 2
        assert alliance.body("working-groups")["kind"] == "working-group"
        assert clause_for(alliance.clauses, "bodies.working-groups.established_by") == number
        wg_body = "working-groups"

    proposed = alliance.post("/working-groups", group, status=201)
    group_id = proposed["group_id"]
    assert proposed["stage"] == "proposed" and proposed["body"] == wg_body
    establish = {"own_terms": "Report by June.", "leads": [a], "decision_ref": "main meeting 2"}
    alliance.refused(
        "POST",
        f"/working-groups/{group_id}/establish",
        establish | {"by_body": wg_body},
        rule=f"bodies.{wg_body}.established_by",
    )
    assert alliance.get(f"/working-groups/{group_id}")["stage"] == "proposed"

    established = alliance.post(
        f"/working-groups/{group_id}/establish", establish | {"by_body": "full-membership"}
    )

    assert established["stage"] == "established" and established["leads"] == [a]
    assert established["own_terms"] == "Report by June."
    joined = alliance.post(f"/working-groups/{group_id}/members", {"member_id": b})
    assert sorted(m["member_id"] for m in joined["members"]) == sorted([a, b])
    lead_leaving = alliance.call("DELETE", f"/working-groups/{group_id}/members/{a}")
    assert assert_problem(lead_leaving, 409)["type"] == "urn:concord:problem:working-group-state"
    left = alliance.call("DELETE", f"/working-groups/{group_id}/members/{b}")
    assert left.status_code == 200, left.text
    assert [m["member_id"] for m in left.json()["members"]] == [a]
    reported = alliance.post(
        f"/working-groups/{group_id}/reports",
        {"title": "Interim", "summary": "Halfway there.", "presented_to": "full-membership"},
        status=201,
    )
    assert [r["title"] for r in reported["reports"]] == ["Interim"]
    dissolve = {"reason": "its task is done", "decision_ref": "main meeting 4"}
    alliance.refused(
        "POST",
        f"/working-groups/{group_id}/dissolve",
        dissolve | {"by_body": wg_body},
        rule=f"bodies.{wg_body}.established_by",
    )

    dissolved = alliance.post(
        f"/working-groups/{group_id}/dissolve", dissolve | {"by_body": "full-membership"}
    )

    assert dissolved["stage"] == "dissolved" and dissolved["dissolved_reason"] == "its task is done"
    late = alliance.call("POST", f"/working-groups/{group_id}/members", {"member_id": b})
    assert assert_problem(late, 409)["type"] == "urn:concord:problem:working-group-state"
    listed = alliance.get("/working-groups", stage="dissolved")["items"]
    assert [g["group_id"] for g in listed] == [group_id]
    assert alliance.get("/working-groups", stage="established")["items"] == []


def run_work_plan(year: Year, alliance: Alliance) -> None:
    """The year's plan drafted, agreed by the body the ToR names, delivered and evaluated."""
    plans = f"/work-plans/{START.year}"
    drafted = alliance.post(
        f"{plans}/items",
        {
            "title": "Map local support",
            "description": "Who offers what",
            "body": year.plan_agreed_by,
        },
        status=201,
    )
    item = drafted["items"][0]["item_id"]
    alliance.post(
        f"{plans}/items", {"title": "Annual conference", "body": "full-membership"}, status=201
    )
    assert drafted["stage"] == "draft"
    alliance.refused(
        "POST",
        f"{plans}/agree",
        {"by_body": year.plan_not_agreed_by, "decision_ref": "m"},
        rule="work_plan.agreed_by",
    )
    assert alliance.get(plans)["stage"] == "draft"

    agreed = alliance.post(
        f"{plans}/agree", {"by_body": year.plan_agreed_by, "decision_ref": "m 5"}
    )

    assert agreed["stage"] == "agreed" and agreed["agreed_by_body"] == year.plan_agreed_by
    late = alliance.call(
        "POST", f"{plans}/items", {"title": "Late idea", "body": "full-membership"}
    )
    assert assert_problem(late, 409)["type"] == "urn:concord:problem:work-plan-state"
    progressed = alliance.post(f"{plans}/items/{item}/progress", {"note": "half mapped"})
    assert progressed["items"][0]["stage"] == "in-progress"
    alliance.post(f"{plans}/items/{item}/deliver", {"note": "map published"})
    evaluated_item = alliance.post(f"{plans}/items/{item}/evaluate", {"evaluation": "well used"})
    assert evaluated_item["items"][0]["stage"] == "delivered"
    assert evaluated_item["items"][0]["evaluation"] == "well used"
    assert evaluated_item["items"][1]["stage"] == "planned"

    evaluated = alliance.post(
        f"{plans}/evaluate",
        {"summary": "A good year.", "by_body": year.plan_agreed_by, "decision_ref": "AGM"},
    )

    assert evaluated["stage"] == "evaluated" and evaluated["evaluation"] == "A good year."
    assert alliance.get("/work-plans")["items"] == [
        {
            "year": START.year,
            "stage": "evaluated",
            "items": 2,
            "agreed_at": agreed["agreed_at"],
            "evaluated_at": evaluated["evaluated_at"],
        }
    ]


def run_terms_of_office(year: Year, alliance: Alliance) -> None:
    """Offices with a term fall vacant on the day it ends; the others run until replaced."""
    before = {o["office"]: o for o in alliance.get("/offices")["items"]}
    filled = {key: o for key, o in before.items() if o["holders"]}
    assert filled, "the year filled at least one office"
    for key, office in before.items():
        months = year.terms.get(key)
        assert office["term_months"] == months
        for holder in office["holders"]:
            assert holder["starts_on"] == START.date().isoformat()
            ends = None if months is None else years_later(START.date(), months // 12).isoformat()
            assert holder["ends_on"] == ends and holder["expiring"] is False
    bodies_before = {b["body"]: b["seats"] for b in alliance.get("/bodies")["items"]}

    if not year.terms:
        alliance.move_clock_to(START + timedelta(days=5 * 366))
        after = {o["office"]: o for o in alliance.get("/offices")["items"]}
        assert {k: holders(o) for k, o in after.items()} == {
            k: holders(o) for k, o in before.items()
        }
        assert {k: o["vacancies"] for k, o in after.items()} == {
            k: o["vacancies"] for k, o in before.items()
        }
        seats_after = {b["body"]: b["seats"] for b in alliance.get("/bodies")["items"]}
        assert {k: len(v) for k, v in seats_after.items()} == {
            k: len(v) for k, v in bodies_before.items()
        }
        return

    [(key, months)] = year.terms.items()
    ends_on = years_later(START.date(), months // 12)
    alliance.move_clock_to(datetime.combine(ends_on - timedelta(days=1), START.timetz()))
    last_day = alliance.office(key)
    assert holders(last_day) == holders(before[key])
    assert last_day["terms_expiring"] == len(last_day["holders"]) and last_day["vacancies"] == 0

    alliance.move_clock_to(datetime.combine(ends_on, START.timetz()))

    vacant = alliance.office(key)
    assert vacant["holders"] == [] and vacant["vacancies"] == vacant["seats"]
    assert [h["ends_on"] for h in vacant["history"]] == [ends_on.isoformat()] * len(
        before[key]["holders"]
    )
    listed = {o["office"]: o for o in alliance.get("/offices")["items"]}
    assert listed[key]["vacancies"] == listed[key]["seats"]
    for body in alliance.get("/bodies")["items"]:
        if body["term_months"] is not None:
            assert body["seats"] == [] and body["places_free"] == body["max_members"]
    # Re-eligible: the same holder may take the office again, for a fresh term.
    holder = before[key]["holders"][0]
    rule = alliance.rules.office(key)
    assert rule is not None and rule.re_eligible
    if rule.selection == "elected":
        again = alliance.elect(key, holder["member_id"], holder["person_name"])
    else:
        again = alliance.appoint(
            key, holder["member_id"], holder["person_name"], by_body=rule.appointed_by
        )
    assert holders(again) == [(holder["member_id"], holder["person_name"])]
    assert again["holders"][0]["ends_on"] == years_later(ends_on, months // 12).isoformat()
