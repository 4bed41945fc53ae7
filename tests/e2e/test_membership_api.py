"""The membership, offices, working-group and work-plan API at its edges: bad input, unknown
ids, who may see and change what, paging and filters, rebuilding the read side, and what
the event log holds."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import ADMIN, bearer
from tests.e2e.test_membership_year import Alliance, assert_problem

INVALID = "urn:concord:problem:invalid-request"
NOT_FOUND = "urn:concord:problem:not-found"
FORBIDDEN = "urn:concord:problem:forbidden"
CHIEF = {"signatory_role": "Chief Executive", "signatory_name": "Alex Morgan"}
ADVISER = ("Dr Jo Expert", "jo.expert@example.org")


@dataclass
class World:
    """A kinship-care alliance with two member organisations, an advisory member, one
    representative and an application still open."""

    alliance: Alliance
    member: str
    other_member: str
    adviser: str
    representative: str
    application: str


def admit(alliance: Alliance, name: str, **facts: Any) -> str:
    """Admit on the kinship-care route: circulated to, then decided by, the executive."""
    application_id = alliance.apply(name, **(CHIEF | facts))
    alliance.take_step(application_id, "circulate", "executive-committee")
    member_id = alliance.take_step(application_id, "decide", "executive-committee")["member_id"]
    return str(member_id)


def admit_adviser(alliance: Alliance, name: str, email: str) -> str:
    application_id = alliance.apply(name, capacity="individual", email=email)
    alliance.take_step(application_id, "circulate", "executive-committee")
    decided = alliance.take_step(application_id, "decide", "executive-committee")
    assert decided["standing"] == "advisory"
    return str(decided["member_id"])


def issue_key(alliance: Alliance, role: str, member_id: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"role": role, "label": f"{role} key"}
    if member_id is not None:
        body["member_id"] = member_id
    issued = alliance.post("/keys", body, status=201)
    assert issued["member_id"] == member_id
    return bearer(issued["secret"])


def events(alliance: Alliance) -> list[dict[str, Any]]:
    """The alliance's whole event log, followed page by page."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = alliance.get("/events", after=after, limit=7)
        found += page["items"]
        if page["next_after"] is None:
            return found
        after = page["next_after"]


@pytest.fixture
def world(client, onboard) -> World:
    secret = onboard("kca", template="kinship-care", name="Kinship Care Alliance")["admin_key"][
        "secret"
    ]
    alliance = Alliance(client, "kinship-care", secret, slug="kca")
    member = admit(alliance, "Kinship")
    other = admit(alliance, "Family Rights Group")
    adviser = admit_adviser(alliance, *ADVISER)
    listed = alliance.add_representative(member, "Ada Price")
    return World(
        alliance=alliance,
        member=member,
        other_member=other,
        adviser=adviser,
        representative=listed["items"][0]["representative_id"],
        application=alliance.apply("Grandparents Plus Network", **CHIEF),
    )


def fill(template: str, world: World) -> str:
    """The text with {member}, {application} and {representative} put in."""
    for name in ("member", "application", "representative"):
        template = template.replace("{" + name + "}", getattr(world, name))
    return template


def add_working_groups(alliance: Alliance) -> None:
    """Kinship care's ToR has no working groups: amend it to have them."""
    alliance.amend(
        rules=[
            {
                "path": "bodies.working-groups",
                "value": {"name": "Working groups", "kind": "working-group"},
            }
        ],
        clauses=[
            {
                "number": "10",
                "heading": "Working groups",
                "text": "The full membership sets up working groups.",
                "rules": ["bodies.working-groups"],
            }
        ],
    )


# ---------------------------------------------------------------------------- bad input

APPLY = {"name": "Kinship Carers UK", "request_text": "We ask to join.", **CHIEF}
REPRESENTATIVE = {"name": "Bea Long", "email": "bea.long@example.org", "role": "Director"}
DECIDE = {"by_body": "executive-committee", "outcome": "admit", "decision_ref": "exec 3"}
APPOINT = {"person_name": "Mo Lewis", "by_body": "full-membership", "decision_ref": "m 4"}
SEAT = {"person_name": "Mo Lewis", "agreed_by": "full-membership", "decision_ref": "m 4"}


UNKNOWN_FIELDS = [
    ("/applications", APPLY | {"status": "member"}, "status"),
    (
        "/applications/{application}/circulate",
        {"to_body": "executive-committee", "urgent": True},
        "urgent",
    ),
    ("/applications/{application}/decide", DECIDE | {"votes": 3}, "votes"),
    ("/members/{member}/representatives", REPRESENTATIVE | {"phone": "01234"}, "phone"),
    (
        "/members/{member}/suspend",
        {"reason": "r", "by_body": "executive-committee", "decision_ref": "d", "until": "2031"},
        "until",
    ),
    ("/offices/chair/appointments", APPOINT | {"member_id": "{member}", "salary": 1}, "salary"),
    ("/bodies/executive-committee/seats", SEAT | {"member_id": "{member}", "weight": 2}, "weight"),
    ("/working-groups", {"name": "G", "purpose": "p", "budget": 10}, "budget"),
    ("/work-plans/2030/items", {"title": "t", "body": "full-membership", "cost": 5}, "cost"),
]


def assert_each_refused_by_name(world: World, cases: list[tuple[str, Any, str]]) -> None:
    """Each (path, body, field) is refused as an invalid request naming the field, and
    nothing at all is recorded."""
    alliance = world.alliance
    before = len(events(alliance))

    for path, body, field in cases:
        filled = json.loads(fill(json.dumps(body), world))
        problem = assert_problem(alliance.call("POST", fill(path, world), filled), 422)
        assert problem["type"] == INVALID, problem
        assert field in problem["detail"], problem

    assert len(events(alliance)) == before


def test_unknown_fields_are_refused_by_name_and_nothing_is_recorded(world):
    assert_each_refused_by_name(world, UNKNOWN_FIELDS)


MISSING_FIELDS = [
    ("/applications", {"name": "Kinship Carers UK"}, "request_text"),
    (
        "/applications/{application}/decide",
        {"by_body": "executive-committee", "outcome": "admit"},
        "decision_ref",
    ),
    ("/members/{member}/representatives", {"name": "Bea Long", "role": "Director"}, "email"),
    (
        "/members/{member}/conduct-reviews",
        {"by_body": "executive-committee", "decision_ref": "d"},
        "outcome",
    ),
    (
        "/offices/chair/appointments",
        {"member_id": "{member}", "by_body": "full-membership"},
        "decision_ref",
    ),
    (
        "/bodies/executive-committee/seats",
        {"member_id": "{member}", "decision_ref": "d"},
        "agreed_by",
    ),
    ("/working-groups", {"name": "Data group"}, "purpose"),
    ("/work-plans/2030/items", {"title": "Conference"}, "body"),
]


def test_missing_fields_are_refused_by_name(world):
    assert_each_refused_by_name(world, MISSING_FIELDS)


BAD_EMAILS = [
    "no-at-sign.example.org",
    "jo@localhost",
    "jo expert@example.org",
    "jo@@example.org",
    "@example.org",
    "x" * 65 + "@example.org",
    "jo@" + "b" * 240 + ".org",
    "",
]


def test_bad_emails_are_refused_for_representatives_and_advisers(world):
    alliance = world.alliance
    adviser = {"capacity": "individual", "name": "Dr Lee", "request_text": "t"}
    cases = [
        (f"/members/{world.member}/representatives", REPRESENTATIVE | {"email": e}, "email")
        for e in BAD_EMAILS
    ] + [("/applications", adviser | {"email": e}, "email") for e in BAD_EMAILS]

    assert_each_refused_by_name(world, cases)

    assert len(alliance.get(f"/members/{world.member}/representatives")["items"]) == 1
    assert [
        a["application_id"] for a in alliance.get("/applications", stage="submitted")["items"]
    ] == [world.application]


BAD_VALUES = [
    ("/applications", APPLY | {"name": "x" * 201}, "name"),
    ("/applications", APPLY | {"request_text": "x" * 5001}, "request_text"),
    ("/applications", APPLY | {"signatory_name": "x" * 201}, "signatory_name"),
    ("/applications", APPLY | {"capacity": "family"}, "capacity"),
    ("/applications", APPLY | {"requested_status": "owner"}, "requested_status"),
    ("/applications", APPLY | {"legal_entity": "no"}, "legal_entity"),
    ("/applications/{application}/decide", DECIDE | {"decision_ref": "x" * 201}, "decision_ref"),
    ("/applications/{application}/decide", DECIDE | {"outcome": "maybe"}, "outcome"),
    ("/applications/{application}/circulate", {"to_body": "Executive Committee"}, "to_body"),
    ("/members/{member}/representatives", REPRESENTATIVE | {"role": "x" * 201}, "role"),
    ("/members/{member}/representatives", REPRESENTATIVE | {"name": ""}, "name"),
    ("/members/{member}/representatives", REPRESENTATIVE | {"principal": "yes"}, "principal"),
    (
        "/members/{member}/suspend",
        {"reason": "x" * 5001, "by_body": "executive-committee", "decision_ref": "d"},
        "reason",
    ),
    ("/offices/chair/appointments", APPOINT | {"person_name": "x" * 201}, "person_name"),
    ("/offices/chair/appointments", APPOINT | {"starts_on": "next tuesday"}, "starts_on"),
    ("/working-groups", {"name": "x" * 201, "purpose": "p"}, "name"),
    (
        f"/working-groups/{uuid.UUID(int=7)}/establish",
        {
            "own_terms": "t",
            "leads": ["{member}"] * 11,
            "by_body": "full-membership",
            "decision_ref": "d",
        },
        "leads",
    ),
    (
        f"/working-groups/{uuid.UUID(int=7)}/establish",
        {"own_terms": "t", "leads": [], "by_body": "full-membership", "decision_ref": "d"},
        "leads",
    ),
    ("/applications/{application}/decide", DECIDE | {"outcome": "reject"}, "reason"),
]


def test_values_of_the_wrong_size_type_or_choice_are_refused(world):
    world.alliance.take_step(world.application, "circulate", "executive-committee")

    assert_each_refused_by_name(world, BAD_VALUES)

    assert world.alliance.application(world.application)["stage"] == "circulated"


# ---------------------------------------------------------------------------- unknown ids


def unknown_id_calls(world: World, unknown: str) -> list[tuple[str, str, Any]]:
    """Every kind of call naming something by id, with `unknown` in that place."""
    m, r = world.member, world.representative
    reason = {"reason": "r", "by_body": "executive-committee", "decision_ref": "d"}
    return [
        ("GET", f"/applications/{unknown}", None),
        ("POST", f"/applications/{unknown}/circulate", {"to_body": "executive-committee"}),
        ("POST", f"/applications/{unknown}/decide", DECIDE),
        ("POST", f"/applications/{unknown}/withdraw", {}),
        ("GET", f"/members/{unknown}", None),
        ("POST", f"/members/{unknown}/suspend", reason),
        (
            "POST",
            f"/members/{unknown}/reinstate",
            {"by_body": "executive-committee", "decision_ref": "d"},
        ),
        ("POST", f"/members/{unknown}/resign", {}),
        ("POST", f"/members/{unknown}/remove", reason),
        (
            "POST",
            f"/members/{unknown}/conduct-reviews",
            {"by_body": "executive-committee", "outcome": "satisfactory", "decision_ref": "d"},
        ),
        ("GET", f"/members/{unknown}/representatives", None),
        ("POST", f"/members/{unknown}/representatives", REPRESENTATIVE),
        ("PUT", f"/members/{m}/representatives/{unknown}", REPRESENTATIVE),
        ("DELETE", f"/members/{m}/representatives/{unknown}", None),
        ("DELETE", f"/members/{m}/representatives/{r}?new_principal={unknown}", None),
        ("POST", f"/members/{m}/representatives/{unknown}/principal", None),
        ("POST", "/offices/chair/appointments", APPOINT | {"member_id": unknown}),
        ("POST", f"/offices/chair/holdings/{unknown}/end", {"reason": "r"}),
        ("POST", "/bodies/executive-committee/seats", SEAT | {"member_id": unknown}),
        ("POST", f"/bodies/executive-committee/seats/{unknown}/end", {"reason": "r"}),
        ("GET", f"/working-groups/{unknown}", None),
        (
            "POST",
            f"/working-groups/{unknown}/establish",
            {"own_terms": "t", "leads": [m], "by_body": "full-membership", "decision_ref": "d"},
        ),
        (
            "POST",
            f"/working-groups/{unknown}/leads",
            {"leads": [m], "by_body": "full-membership", "decision_ref": "d"},
        ),
        ("POST", f"/working-groups/{unknown}/members", {"member_id": m}),
        ("DELETE", f"/working-groups/{unknown}/members/{m}", None),
        (
            "POST",
            f"/working-groups/{unknown}/reports",
            {"title": "t", "summary": "s", "presented_to": "all"},
        ),
        (
            "POST",
            f"/working-groups/{unknown}/dissolve",
            {"reason": "r", "by_body": "full-membership", "decision_ref": "d"},
        ),
        ("POST", f"/work-plans/2030/items/{unknown}/progress", {}),
        ("POST", f"/work-plans/2030/items/{unknown}/deliver", {}),
        ("POST", f"/work-plans/2030/items/{unknown}/evaluate", {"evaluation": "e"}),
    ]


def test_unknown_ids_are_not_found_problems_never_500(world, onboard):
    alliance = world.alliance
    alliance.post(
        "/work-plans/2030/items", {"title": "Conference", "body": "full-membership"}, status=201
    )
    elsewhere = onboard("elsewhere", template="kinship-care")["admin_key"]["secret"]
    unknowns = {
        "a random uuid": str(uuid.uuid4()),
        "not a uuid": "not-a-uuid",
        "an application's id": world.application,
        "a member of another alliance": admit(
            Alliance(alliance.client, "kinship-care", elsewhere, slug="elsewhere"), "Kin"
        ),
    }
    before = len(events(alliance))

    for kind, unknown in unknowns.items():
        for method, path, body in unknown_id_calls(world, unknown):
            if kind == "an application's id" and path.startswith("/applications/"):
                continue  # it is an application, so those calls know it
            response = alliance.call(method, path, body)
            assert response.status_code == 404, (kind, method, path, response.text)
            assert assert_problem(response, 404)["type"] == NOT_FOUND

    assert len(events(alliance)) == before


def test_unknown_offices_bodies_and_years_are_not_found(world):
    alliance = world.alliance
    calls = [
        ("GET", "/offices/treasurer", None),
        ("POST", "/offices/treasurer/appointments", APPOINT | {"member_id": world.member}),
        (
            "POST",
            "/offices/treasurer/election-results",
            {"member_id": world.member, "election_ref": "b"},
        ),
        ("POST", f"/offices/treasurer/holdings/{uuid.uuid4()}/end", {"reason": "r"}),
        ("POST", "/bodies/board/seats", SEAT | {"member_id": world.member}),
        ("POST", f"/bodies/board/seats/{uuid.uuid4()}/end", {"reason": "r"}),
        ("GET", "/work-plans/2031", None),
        ("POST", "/work-plans/2031/agree", {"by_body": "executive-committee", "decision_ref": "d"}),
        (
            "POST",
            "/work-plans/2031/evaluate",
            {"summary": "s", "by_body": "executive-committee", "decision_ref": "d"},
        ),
    ]

    for method, path, body in calls:
        assert assert_problem(alliance.call(method, path, body), 404)["type"] == NOT_FOUND, path
    assert "treasurer" in alliance.call("GET", "/offices/treasurer").json()["detail"]


def test_a_work_plan_year_outside_the_api_range_is_refused(world):
    alliance = world.alliance
    item = {"title": "t", "body": "full-membership"}

    for year in (-5, 1999, 2101, 99999, 99999999999999999999):
        for method, path, body in (
            ("POST", f"/work-plans/{year}/items", item),
            ("GET", f"/work-plans/{year}", None),
        ):
            problem = assert_problem(alliance.call(method, path, body), 422)
            assert problem["type"] == INVALID and "year" in problem["detail"], problem

    assert alliance.get("/work-plans")["items"] == []


# ---------------------------------------------------------------------------- closed records


def test_a_decided_or_withdrawn_application_takes_no_further_step(world):
    alliance = world.alliance
    admitted = next(
        a
        for a in alliance.get("/applications", stage="admitted")["items"]
        if a["name"] == "Kinship"
    )["application_id"]
    withdrawn = world.application
    assert alliance.post(f"/applications/{withdrawn}/withdraw", {"reason": "merging"})["stage"] == (
        "withdrawn"
    )
    before = len(events(alliance))

    for application_id in (admitted, withdrawn):
        for step, body in (
            ("decide", DECIDE),
            ("circulate", {"to_body": "executive-committee"}),
            ("withdraw", {}),
        ):
            problem = assert_problem(
                alliance.call("POST", f"/applications/{application_id}/{step}", body), 409
            )
            assert problem["type"] == "urn:concord:problem:application-closed"

    assert len(events(alliance)) == before
    assert alliance.application(withdrawn)["withdrawn_reason"] == "merging"
    assert alliance.application(admitted)["stage"] == "admitted"
    again = alliance.call("POST", "/applications", APPLY | {"name": "kinship"})
    assert assert_problem(again, 409)["type"] == "urn:concord:problem:already-member"


def test_member_status_follows_the_decisions_of_the_right_body(world):
    alliance = world.alliance
    url = f"/members/{world.member}"
    decision = {"reason": "arrears", "decision_ref": "exec 9"}

    alliance.refused(
        "POST",
        f"{url}/suspend",
        decision | {"by_body": "full-membership"},
        rule="membership.route.decided_by",
    )
    suspended = alliance.post(f"{url}/suspend", decision | {"by_body": "executive-committee"})
    again = alliance.call("POST", f"{url}/suspend", decision | {"by_body": "executive-committee"})
    reinstated = alliance.post(
        f"{url}/reinstate", {"by_body": "executive-committee", "decision_ref": "e"}
    )
    resigned = alliance.post(f"{url}/resign", {"reason": "closing down"})
    late = alliance.call(
        "POST", f"{url}/reinstate", {"by_body": "executive-committee", "decision_ref": "e"}
    )

    assert suspended["status"] == "suspended" and suspended["status_reason"] == "arrears"
    assert assert_problem(again, 409)["type"] == "urn:concord:problem:member-state"
    assert reinstated["status"] == "active"
    assert resigned["status"] == "resigned" and resigned["status_reason"] == "closing down"
    assert assert_problem(late, 409)["type"] == "urn:concord:problem:member-state"
    assert alliance.member(world.member)["status"] == "resigned"
    rep = alliance.call("POST", f"{url}/representatives", REPRESENTATIVE)
    assert assert_problem(rep, 409)["type"] == "urn:concord:problem:member-state"


# ---------------------------------------------------------------------------- representatives


def test_representatives_are_replaced_removed_and_hand_over_the_principal_contact(world):
    alliance = world.alliance
    url = f"/members/{world.member}/representatives"
    first = world.representative
    second = alliance.add_representative(world.member, "Ben Ode")["items"][1]["representative_id"]

    replaced = alliance.call(
        "PUT", f"{url}/{first}", {"name": "Cy New", "email": "cy@example.org", "role": "CEO"}
    )

    assert replaced.status_code == 200, replaced.text
    after_replace = {r["name"]: r for r in replaced.json()["items"]}
    successor = after_replace["Cy New"]["representative_id"]
    assert set(after_replace) == {"Ben Ode", "Cy New"}
    assert replaced.json()["principal_contact"] == successor != first
    alliance.refused("DELETE", f"{url}/{successor}", rule="membership.principal_contact_required")
    removed = alliance.call("DELETE", f"{url}/{successor}", params={"new_principal": second})
    assert removed.status_code == 200, removed.text
    assert [(r["representative_id"], r["principal"]) for r in removed.json()["items"]] == [
        (second, True)
    ]
    third = alliance.add_representative(world.member, "Di Hart")["items"][1]["representative_id"]
    assert alliance.post(f"{url}/{third}/principal")["principal_contact"] == third
    assert [(r["name"], r["principal"]) for r in alliance.get(url)["items"]] == [
        ("Ben Ode", False),
        ("Di Hart", True),
    ]
    # An organisation's first representative is its principal contact, where the ToR says so.
    alliance.refused(
        "POST",
        f"/members/{world.other_member}/representatives",
        REPRESENTATIVE | {"principal": False},
        rule="membership.principal_contact_required",
    )
    assert alliance.get(f"/members/{world.other_member}/representatives")["items"] == []


# ---------------------------------------------------------------------------- access


def test_a_member_key_sees_its_own_organisations_representatives_only(world):
    alliance = world.alliance
    alliance.add_representative(world.other_member, "Oli Other")
    own = issue_key(alliance, "member", world.member)
    unattached = issue_key(alliance, "member")

    mine = alliance.call("GET", f"/members/{world.member}/representatives", headers=own)
    theirs = alliance.call("GET", f"/members/{world.other_member}/representatives", headers=own)
    nobodys = alliance.call("GET", f"/members/{world.member}/representatives", headers=unattached)

    assert mine.status_code == 200
    assert [r["name"] for r in mine.json()["items"]] == ["Ada Price"]
    assert assert_problem(theirs, 403)["type"] == FORBIDDEN
    assert "Oli" not in theirs.text
    assert assert_problem(nobodys, 403)["type"] == FORBIDDEN
    adding = alliance.call(
        "POST", f"/members/{world.member}/representatives", REPRESENTATIVE, headers=own
    )
    assert assert_problem(adding, 403)["type"] == FORBIDDEN
    assert alliance.call("GET", "/applications", headers=own).status_code == 403
    # Only a member key speaks for an organisation, and only for one of this alliance.
    officer = alliance.call(
        "POST", "/keys", {"role": "officer", "label": "o", "member_id": world.member}
    )
    unknown = alliance.call(
        "POST", "/keys", {"role": "member", "label": "m", "member_id": world.application}
    )

    assert assert_problem(officer, 422)["type"] == "urn:concord:problem:role-not-allowed"
    assert assert_problem(unknown, 404)["type"] == NOT_FOUND


def the_adviser_as_seen_by(world: World, headers: dict[str, str]) -> tuple[Any, Any]:
    """The adviser's register entry, alone and in the list, read with these headers."""
    alliance = world.alliance
    one = alliance.call("GET", f"/members/{world.adviser}", headers=headers)
    listed = alliance.call("GET", "/members", headers=headers, params={"standing": "advisory"})
    assert one.status_code == 200 and listed.status_code == 200
    assert [r["member_id"] for r in (one.json(), *listed.json()["items"])] == [world.adviser] * 2
    assert one.json()["name"] is None and one.json()["standing"] == "advisory"
    return one, listed


@pytest.fixture
def reviewed(world) -> World:
    """The world, with a conduct review of the adviser on record."""
    world.alliance.post(
        f"/members/{world.adviser}/conduct-reviews",
        {
            "by_body": "executive-committee",
            "outcome": "concerns-raised",
            "notes": "late replies",
            "decision_ref": "exec 4",
        },
        status=201,
    )
    return world


def test_record_keepers_see_advisers_names_and_conduct_reviews(reviewed):
    alliance = reviewed.alliance
    keepers = {
        "tenant-admin": alliance.headers,
        "officer": issue_key(alliance, "officer"),
        "auditor": issue_key(alliance, "auditor"),
    }

    for role, headers in keepers.items():
        one, listed = the_adviser_as_seen_by(reviewed, headers)
        assert one.json()["person_name"] == ADVISER[0], role
        assert listed.json()["items"][0]["person_name"] == ADVISER[0], role
        assert [c["notes"] for c in one.json()["conduct_reviews"]] == ["late replies"], role


def test_member_keys_and_the_platform_admin_see_neither(reviewed):
    alliance = reviewed.alliance
    others = {
        "member": issue_key(alliance, "member", reviewed.member),
        "member of no organisation": issue_key(alliance, "member"),
        "platform-admin": ADMIN,
    }

    for role, headers in others.items():
        one, listed = the_adviser_as_seen_by(reviewed, headers)
        assert one.json()["person_name"] is None, role
        assert listed.json()["items"][0]["person_name"] is None, role
        assert one.json()["conduct_reviews"] is None, role
        assert ADVISER[0] not in one.text + listed.text, role
        assert "late replies" not in one.text, role
    # The platform admin sees the register, but neither representatives nor applications.
    for path in (f"/members/{reviewed.member}/representatives", "/applications"):
        refused = alliance.call("GET", path, headers=ADMIN)
        assert assert_problem(refused, 403)["type"] == FORBIDDEN
        assert "Ada Price" not in refused.text


def test_an_auditor_reads_everything_and_changes_nothing(world):
    alliance = world.alliance
    auditor = issue_key(alliance, "auditor")
    add_working_groups(alliance)
    group = alliance.post("/working-groups", {"name": "G", "purpose": "p"}, status=201)["group_id"]
    plan = alliance.post(
        "/work-plans/2030/items", {"title": "t", "body": "full-membership"}, status=201
    )
    item = plan["items"][0]["item_id"]
    holding = alliance.appoint("chair", world.member, "Mo Lewis", by_body="full-membership")[
        "holders"
    ][0]["holding_id"]
    m, r = world.member, world.representative
    reads = [
        "/applications",
        f"/applications/{world.application}",
        "/members",
        f"/members/{m}",
        f"/members/{m}/representatives",
        "/offices",
        "/offices/chair",
        "/bodies",
        "/working-groups",
        f"/working-groups/{group}",
        "/work-plans",
        "/work-plans/2030",
        "/events",
    ]
    writes = [
        ("POST", "/applications", APPLY),
        (
            "POST",
            f"/applications/{world.application}/circulate",
            {"to_body": "executive-committee"},
        ),
        ("POST", f"/applications/{world.application}/decide", DECIDE),
        ("POST", f"/applications/{world.application}/withdraw", {}),
        (
            "POST",
            f"/members/{m}/suspend",
            {"reason": "r", "by_body": "executive-committee", "decision_ref": "d"},
        ),
        (
            "POST",
            f"/members/{m}/reinstate",
            {"by_body": "executive-committee", "decision_ref": "d"},
        ),
        ("POST", f"/members/{m}/resign", {}),
        (
            "POST",
            f"/members/{m}/remove",
            {"reason": "r", "by_body": "executive-committee", "decision_ref": "d"},
        ),
        (
            "POST",
            f"/members/{m}/conduct-reviews",
            {"by_body": "executive-committee", "outcome": "satisfactory", "decision_ref": "d"},
        ),
        ("POST", f"/members/{m}/representatives", REPRESENTATIVE),
        ("PUT", f"/members/{m}/representatives/{r}", REPRESENTATIVE),
        ("DELETE", f"/members/{m}/representatives/{r}", None),
        ("POST", f"/members/{m}/representatives/{r}/principal", None),
        ("POST", "/offices/chair/appointments", APPOINT | {"member_id": m}),
        ("POST", "/offices/chair/election-results", {"member_id": m, "election_ref": "b"}),
        ("POST", f"/offices/chair/holdings/{holding}/end", {"reason": "r"}),
        ("POST", "/bodies/executive-committee/seats", SEAT | {"member_id": m}),
        ("POST", f"/bodies/executive-committee/seats/{uuid.uuid4()}/end", {"reason": "r"}),
        ("POST", "/working-groups", {"name": "G2", "purpose": "p"}),
        (
            "POST",
            f"/working-groups/{group}/establish",
            {"own_terms": "t", "leads": [m], "by_body": "full-membership", "decision_ref": "d"},
        ),
        (
            "POST",
            f"/working-groups/{group}/leads",
            {"leads": [m], "by_body": "full-membership", "decision_ref": "d"},
        ),
        ("POST", f"/working-groups/{group}/members", {"member_id": m}),
        ("DELETE", f"/working-groups/{group}/members/{m}", None),
        (
            "POST",
            f"/working-groups/{group}/reports",
            {"title": "t", "summary": "s", "presented_to": "all"},
        ),
        (
            "POST",
            f"/working-groups/{group}/dissolve",
            {"reason": "r", "by_body": "full-membership", "decision_ref": "d"},
        ),
        ("POST", "/work-plans/2030/items", {"title": "t2", "body": "full-membership"}),
        ("POST", "/work-plans/2030/agree", {"by_body": "executive-committee", "decision_ref": "d"}),
        ("POST", f"/work-plans/2030/items/{item}/progress", {}),
        ("POST", f"/work-plans/2030/items/{item}/deliver", {}),
        ("POST", f"/work-plans/2030/items/{item}/evaluate", {"evaluation": "e"}),
        (
            "POST",
            "/work-plans/2030/evaluate",
            {"summary": "s", "by_body": "executive-committee", "decision_ref": "d"},
        ),
        ("POST", "/keys", {"role": "auditor", "label": "another"}),
    ]
    before = len(events(alliance))

    for path in reads:
        response = alliance.call("GET", path, headers=auditor)
        assert response.status_code == 200, (path, response.text)
    for method, path, body in writes:
        problem = assert_problem(alliance.call(method, path, body, headers=auditor), 403)
        assert problem["type"] == FORBIDDEN, (method, path)

    assert len(events(alliance)) == before


# ---------------------------------------------------------------------------- paging and filters


def pages(alliance: Alliance, path: str, **params: Any) -> list[list[str]]:
    """The ids on each page of a list, following next_after to the end."""
    found: list[list[str]] = []
    after = 0
    while True:
        page = alliance.get(path, after=after, **params)
        found.append([item.get("application_id") or item["member_id"] for item in page["items"]])
        if page["next_after"] is None:
            return found
        assert page["next_after"] == page["items"][-1]["seq"]
        after = page["next_after"]


def test_applications_are_paged_in_order_and_filtered_by_stage(world):
    alliance = world.alliance
    made = [a["application_id"] for a in alliance.get("/applications")["items"]]
    new = [alliance.apply(f"Carers Trust {n}", **CHIEF) for n in range(4)]
    for application_id in new[:2]:
        alliance.take_step(application_id, "circulate", "executive-committee")
    alliance.post(f"/applications/{new[3]}/withdraw", {"reason": "not now"})
    everything = made + new
    assert len(everything) == 8

    assert pages(alliance, "/applications", limit=3) == [
        everything[:3],
        everything[3:6],
        everything[6:],
    ]
    assert pages(alliance, "/applications", limit=8) == [everything]
    assert pages(alliance, "/applications", stage="circulated", limit=1) == [[new[0]], [new[1]]]
    assert pages(alliance, "/applications", stage="submitted") == [[world.application, new[2]]]
    assert pages(alliance, "/applications", stage="withdrawn") == [[new[3]]]
    assert pages(alliance, "/applications", stage="rejected") == [[]]
    assert len(pages(alliance, "/applications", stage="admitted")[0]) == 3
    bad = alliance.call("GET", "/applications", params={"stage": "open"})
    assert "stage" in assert_problem(bad, 422)["detail"]
    assert assert_problem(alliance.call("GET", "/applications", params={"limit": 0}), 422)
    assert assert_problem(alliance.call("GET", "/applications", params={"limit": 201}), 422)


def test_members_are_paged_in_order_and_filtered_by_status_and_standing(world):
    alliance = world.alliance
    third = admit(alliance, "Grandparents Plus")
    fourth = admit(alliance, "Kinship Carers UK")
    decision = {"by_body": "executive-committee", "decision_ref": "exec 2"}
    alliance.post(f"/members/{third}/suspend", decision | {"reason": "arrears"})
    alliance.post(f"/members/{fourth}/remove", decision | {"reason": "code of conduct"})
    order = [world.member, world.other_member, world.adviser, third, fourth]

    assert pages(alliance, "/members", limit=2) == [order[:2], order[2:4], order[4:]]
    assert pages(alliance, "/members", status="active") == [
        [world.member, world.other_member, world.adviser]
    ]
    assert pages(alliance, "/members", status="suspended") == [[third]]
    assert pages(alliance, "/members", status="removed") == [[fourth]]
    assert pages(alliance, "/members", status="resigned") == [[]]
    assert pages(alliance, "/members", standing="advisory") == [[world.adviser]]
    assert pages(alliance, "/members", standing="member", status="active", limit=1) == [
        [world.member],
        [world.other_member],
    ]
    assert alliance.member(fourth)["status_reason"] == "code of conduct"
    bad = alliance.call("GET", "/members", params={"standing": "patron"})
    assert "standing" in assert_problem(bad, 422)["detail"]


# ---------------------------------------------------------------------------- rebuild, events


def test_rebuilding_the_projections_gives_the_same_answers(world):
    alliance = world.alliance
    m, other = world.member, world.other_member
    alliance.add_representative(m, "Ben Ode")
    alliance.call("PUT", f"/members/{m}/representatives/{world.representative}", REPRESENTATIVE)
    alliance.post(
        f"/members/{other}/conduct-reviews",
        {"by_body": "executive-committee", "outcome": "satisfactory", "decision_ref": "e"},
        status=201,
    )
    alliance.post(
        f"/members/{other}/suspend",
        {"reason": "r", "by_body": "executive-committee", "decision_ref": "d"},
    )
    alliance.appoint("chair", m, "Mo Lewis", by_body="full-membership")
    seat = alliance.post("/bodies/executive-committee/seats", SEAT | {"member_id": m}, status=201)[
        "id"
    ]
    alliance.post(f"/bodies/executive-committee/seats/{seat}/end", {"reason": "stood down"})
    add_working_groups(alliance)
    group = alliance.post("/working-groups", {"name": "G", "purpose": "p"}, status=201)["group_id"]
    alliance.post(
        f"/working-groups/{group}/establish",
        {"own_terms": "t", "leads": [m], "by_body": "full-membership", "decision_ref": "d"},
    )
    alliance.post(
        f"/working-groups/{group}/reports",
        {"title": "t", "summary": "s", "presented_to": "all"},
        status=201,
    )
    item = alliance.post(
        "/work-plans/2030/items", {"title": "t", "body": "full-membership"}, status=201
    )["items"][0]["item_id"]
    alliance.post("/work-plans/2030/agree", {"by_body": "executive-committee", "decision_ref": "d"})
    alliance.post(f"/work-plans/2030/items/{item}/deliver", {"note": "done"})
    reads = [
        "/applications",
        f"/applications/{world.application}",
        "/members",
        f"/members/{m}",
        f"/members/{other}",
        f"/members/{world.adviser}",
        f"/members/{m}/representatives",
        "/offices",
        "/offices/chair",
        "/bodies",
        "/working-groups",
        f"/working-groups/{group}",
        "/work-plans",
        "/work-plans/2030",
    ]
    live = [alliance.get(path) for path in reads]
    assert {r["name"] for r in live[6]["items"]} == {"Ben Ode", "Bea Long"}  # Ada replaced

    with alliance.client.app.state.runtime.tenant("kca") as store:
        replayed = store.runner.rebuild()

    assert replayed > 0
    assert [alliance.get(path) for path in reads] == live


def test_the_event_log_holds_the_new_events_with_personal_data_only_in_person(world):
    alliance = world.alliance
    alliance.add_representative(world.member, "Ben Ode")
    alliance.call(
        "PUT", f"/members/{world.member}/representatives/{world.representative}", REPRESENTATIVE
    )
    alliance.appoint("chair", world.member, "Mo Lewis", by_body="full-membership")
    alliance.post(
        "/bodies/executive-committee/seats", SEAT | {"member_id": world.other_member}, status=201
    )
    alliance.post(f"/applications/{world.application}/withdraw", {"reason": "merging"})
    alliance.post("/work-plans/2030/items", {"title": "t", "body": "full-membership"}, status=201)
    personal = [
        "Ada Price",
        "ada.price@example.org",
        "Ben Ode",
        "ben.ode@example.org",
        REPRESENTATIVE["name"],
        REPRESENTATIVE["email"],
        *ADVISER,
        CHIEF["signatory_name"],
        "Mo Lewis",
    ]

    logged = events(alliance)

    types = {e["type"] for e in logged}
    assert {
        "MembershipApplicationSubmitted",
        "MembershipApplicationCirculated",
        "MembershipApplicationDecided",
        "MembershipApplicationWithdrawn",
        "MemberAdmitted",
        "MemberRepresentativeAdded",
        "MemberRepresentativeReplaced",
        "OfficeRollHolderAppointed",
        "BodyRosterSeatTaken",
        "AnnualWorkPlanItemAdded",
    } <= types
    for event in logged:
        outside = json.dumps({k: v for k, v in event["data"].items() if k != "person"})
        assert not [p for p in personal if p in outside], event
    carried = json.dumps([e["data"].get("person") for e in logged])
    assert all(p in carried for p in personal)
    added = [e["data"] for e in logged if e["type"] == "MemberRepresentativeAdded"]
    assert [d["person"] for d in added] == [
        {"name": "Ada Price", "email": "ada.price@example.org"},
        {"name": "Ben Ode", "email": "ben.ode@example.org"},
    ]
    assert all(d["role"] == "Head of policy" for d in added)
    adviser_admitted = next(
        e["data"]
        for e in logged
        if e["type"] == "MemberAdmitted" and e["aggregate_id"] == world.adviser
    )
    assert adviser_admitted["name"] is None and adviser_admitted["person"] == {"name": ADVISER[0]}


def test_a_working_group_is_led_by_full_members_only(world):
    add_working_groups(world.alliance)
    group = world.alliance.post("/working-groups", {"name": "Voice", "purpose": "p"}, status=201)
    establish = {"own_terms": "t", "by_body": "full-membership", "decision_ref": "m 9"}
    before = len(events(world.alliance))

    refused = world.alliance.call(
        "POST",
        f"/working-groups/{group['group_id']}/establish",
        establish | {"leads": [world.member, world.adviser]},
    )

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "urn:concord:problem:member-state"
    assert "advisory" in refused.json()["detail"]
    assert len(events(world.alliance)) == before
    established = world.alliance.post(
        f"/working-groups/{group['group_id']}/establish", establish | {"leads": [world.member]}
    )
    assert established["leads"] == [world.member]
